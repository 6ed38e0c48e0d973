// Reference kernels that reinterpret or replicate a shape:
// Reshape, Flatten, Squeeze, Unsqueeze (a copy under new dims), Expand, Tile.
#include <cstring>

#include "runtime/kernels/ref/ref_util.h"
#include "runtime/kernels/ref/shape_kernel_util.h"

namespace kiln {

namespace {

// Output 0 = the bytes of input 0 under the inferred dims.
void copy_as_output(KernelContext& ctx) {
  const Tensor& in = ctx.input(0);
  Tensor& out = ctx.output(0);
  ctx.check(out.numel() == in.numel(), "cannot view ", in.describe(), " as ", out.describe());
  if (in.nbytes()) std::memcpy(out.raw(), in.raw(), in.nbytes());
}

}  // namespace

void ref_Reshape(KernelContext& ctx) { copy_as_output(ctx); }
void ref_Flatten(KernelContext& ctx) { copy_as_output(ctx); }
void ref_Squeeze(KernelContext& ctx) { copy_as_output(ctx); }
void ref_Unsqueeze(KernelContext& ctx) { copy_as_output(ctx); }

void ref_Expand(KernelContext& ctx) {
  const Tensor& in = ctx.input(0);
  Tensor& out = ctx.output(0);
  ref::MultiIndex it(out.dims(), {ref::broadcast_strides(in.dims(), out.dims())});
  for (int64_t i = 0; i < out.numel(); ++i, it.next()) ref::copy_bytes(out, i, in, it.offset(0));
}

void ref_Tile(KernelContext& ctx) {
  const Tensor& in = ctx.input(0);
  Tensor& out = ctx.output(0);
  const std::vector<int64_t> in_strides = ref::strides_of(in.dims());
  ref::MultiIndex it(out.dims(), {});
  for (int64_t i = 0; i < out.numel(); ++i, it.next()) {
    int64_t src = 0;
    for (size_t d = 0; d < in_strides.size(); ++d) {
      src += (it.index()[d] % in.dims()[d]) * in_strides[d];
    }
    ref::copy_bytes(out, i, in, src);
  }
}

}  // namespace kiln
