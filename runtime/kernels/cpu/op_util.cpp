#include "runtime/kernels/cpu/op_util.h"

#include <cstdlib>
#include <memory>

#include "runtime/threadpool/thread_pool.h"

namespace kiln::cpu {

namespace {
// Below this much work (in elementary operations) a loop stays on the calling thread: waking
// the pool costs a few microseconds.
constexpr int64_t kMinParallelWork = int64_t{1} << 15;
}  // namespace

void run_reference(KernelContext& ctx) { ref_kernel(ctx.op)(ctx); }

bool input_is_f32(const KernelContext& ctx, size_t i, bool absent_ok) {
  if (!ctx.has_input(i)) return absent_ok;
  return ctx.inputs[i]->dtype() == DType::F32;
}

Tensor& uninit_output(KernelContext& ctx, size_t i) {
  const ValueType& t = ctx.output_types.at(i);
  if (!t.shape.is_static()) ctx.fail("output ", i, " has no static shape (", t.to_string(), ")");
  return uninit_output(ctx, i, t.shape.static_dims());
}

Tensor& uninit_output(KernelContext& ctx, size_t i, const Dims& dims) {
  if (i >= ctx.outputs.size()) ctx.fail("output ", i, " requested but the node has ", ctx.outputs.size());
  const DType dt = ctx.output_types.at(i).dtype;
  const int64_t n = checked_numel(dims);
  const size_t es = dtype_size(dt);
  KILN_CHECK(es != 0, ctx.where(), "output dtype ", dtype_name(dt), " has no fixed size");
  if (i < ctx.output_storage.size() && ctx.output_storage[i]) {
    const ValueType& t = ctx.output_types.at(i);
    if (t.shape.is_static() && t.shape.static_dims() == dims) {  // the caller's buffer fits
      ctx.outputs[i] = Tensor::borrow(dt, dims, ctx.output_storage[i], nullptr);
      return ctx.outputs[i];
    }
  }
  const size_t bytes = (static_cast<size_t>(n) * es + 63) / 64 * 64;
  void* p = std::aligned_alloc(64, bytes == 0 ? 64 : bytes);
  if (!p) ctx.fail("out of memory allocating ", bytes, " bytes");
  std::shared_ptr<void> keep(p, [](void* q) { std::free(q); });
  ctx.outputs[i] = Tensor::borrow(dt, dims, p, std::move(keep));
  return ctx.outputs[i];
}

void parallel_ranges(ThreadPool* pool, int64_t n, int64_t cost_per_item,
                     const std::function<void(int64_t, int64_t)>& fn) {
  if (n <= 0) return;
  if (pool && pool->num_threads() > 1 && n > 1 && n * cost_per_item >= kMinParallelWork) {
    pool->parallel_for(n, fn);
  } else {
    fn(0, n);
  }
}

}  // namespace kiln::cpu
