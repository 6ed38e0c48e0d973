// Elementwise op kernels (f32) for the shapes training graphs use: inputs of one shape, or one
// operand a single element. Chunks of the flat index space run over the pool. Anything that
// needs general broadcasting goes to the reference kernel.
#include <cstdint>

#include "runtime/kernels/cpu/op_util.h"

namespace kiln::cpu {

namespace {

// Per-element cost estimate for parallel_ranges: memory-bound, a few operations each.
constexpr int64_t kElementCost = 2;

// True if every listed input is either of `dims` or a single element.
bool same_or_scalar(const KernelContext& ctx, std::initializer_list<size_t> inputs,
                    const Dims& dims) {
  for (size_t i : inputs) {
    const Tensor& t = ctx.input(i);
    if (t.dims() != dims && t.numel() != 1) return false;
    if (t.numel() == 1 && t.rank() > static_cast<int64_t>(dims.size())) return false;
  }
  return true;
}

// Output dims when two f32 operands are of one shape or one is a single element (the larger
// operand's dims), or false.
bool binary_dims(const KernelContext& ctx, Dims* dims) {
  if (!input_is_f32(ctx, 0) || !input_is_f32(ctx, 1)) return false;
  const Tensor& a = ctx.input(0);
  const Tensor& b = ctx.input(1);
  *dims = a.numel() >= b.numel() && a.rank() >= b.rank() ? a.dims() : b.dims();
  return same_or_scalar(ctx, {0, 1}, *dims);
}

// y[i] = fn(a[i], b[i]) over [begin, end), a single-element operand read once: plain loops
// over local pointers, so the compiler vectorizes them.
template <typename Out, typename Fn>
void binary_range(const float* __restrict a, bool a_scalar, const float* __restrict b,
                  bool b_scalar, Out* __restrict y, int64_t begin, int64_t end, Fn fn) {
  if (a_scalar && b_scalar) {
    for (int64_t i = begin; i < end; ++i) y[i] = fn(a[0], b[0]);
  } else if (b_scalar) {
    const float bv = b[0];
    for (int64_t i = begin; i < end; ++i) y[i] = fn(a[i], bv);
  } else if (a_scalar) {
    const float av = a[0];
    for (int64_t i = begin; i < end; ++i) y[i] = fn(av, b[i]);
  } else {
    for (int64_t i = begin; i < end; ++i) y[i] = fn(a[i], b[i]);
  }
}

template <typename Out, typename Fn>
void binary(KernelContext& ctx, Fn fn) {
  Dims dims;
  if (!binary_dims(ctx, &dims)) return run_reference(ctx);
  const float* a = ctx.input(0).data<float>();
  const float* b = ctx.input(1).data<float>();
  const bool sa = ctx.input(0).dims() != dims, sb = ctx.input(1).dims() != dims;
  Out* y = uninit_output(ctx, 0, dims).template data<Out>();
  parallel_ranges(ctx.pool, checked_numel(dims), kElementCost, [&](int64_t begin, int64_t end) {
    binary_range(a, sa, b, sb, y, begin, end, fn);
  });
}

}  // namespace

void fast_Relu(KernelContext& ctx) {
  if (!input_is_f32(ctx, 0)) return run_reference(ctx);
  const Tensor& x = ctx.input(0);
  const float* px = x.data<float>();
  float* y = uninit_output(ctx, 0, x.dims()).data<float>();
  parallel_ranges(ctx.pool, x.numel(), kElementCost, [&](int64_t begin, int64_t end) {
    const float* __restrict in = px;
    float* __restrict out = y;
    for (int64_t i = begin; i < end; ++i) out[i] = in[i] < 0.0f ? 0.0f : in[i];  // NaN stays NaN
  });
}

void fast_Add(KernelContext& ctx) { binary<float>(ctx, [](float a, float b) { return a + b; }); }
void fast_Sub(KernelContext& ctx) { binary<float>(ctx, [](float a, float b) { return a - b; }); }
void fast_Mul(KernelContext& ctx) { binary<float>(ctx, [](float a, float b) { return a * b; }); }
void fast_Div(KernelContext& ctx) { binary<float>(ctx, [](float a, float b) { return a / b; }); }
void fast_Greater(KernelContext& ctx) { binary<bool>(ctx, [](float a, float b) { return a > b; }); }

// Y = cond ? X : Y with cond of the output's shape and X, Y of it or single elements.
void fast_Where(KernelContext& ctx) {
  if (!ctx.has_input(0) || ctx.input(0).dtype() != DType::Bool || !input_is_f32(ctx, 1) ||
      !input_is_f32(ctx, 2)) {
    return run_reference(ctx);
  }
  const Tensor& cond = ctx.input(0);
  const Dims& dims = cond.dims();
  if (!same_or_scalar(ctx, {1, 2}, dims)) return run_reference(ctx);
  const bool* c = cond.data<bool>();
  const float* a = ctx.input(1).data<float>();
  const float* b = ctx.input(2).data<float>();
  const bool sa = ctx.input(1).dims() != dims, sb = ctx.input(2).dims() != dims;
  float* y = uninit_output(ctx, 0, dims).data<float>();
  parallel_ranges(ctx.pool, cond.numel(), kElementCost, [&](int64_t begin, int64_t end) {
    // Selected by bit masks, not branches: conditions from data (Relu's gradient,
    // Where(x > 0, dY, 0)) are unpredictable, and the mask form vectorizes.
    const bool* __restrict cc = c;
    uint32_t* __restrict out = reinterpret_cast<uint32_t*>(y);
    const uint32_t* __restrict pa = reinterpret_cast<const uint32_t*>(a);
    const uint32_t* __restrict pb = reinterpret_cast<const uint32_t*>(b);
    const int64_t ia = sa ? 0 : 1, ib = sb ? 0 : 1;  // index steps: 0 reads the single element
    for (int64_t i = begin; i < end; ++i) {
      const uint32_t m = 0u - static_cast<uint32_t>(cc[i]);
      out[i] = (pa[i * ia] & m) | (pb[i * ib] & ~m);
    }
  });
}

}  // namespace kiln::cpu
