// Helpers shared by the shape/data-movement reference kernels.
#pragma once

#include "ir/infer/shape_args.h"
#include "runtime/kernels/ref/kernel.h"

namespace kiln::ref {

// The kernel-side view of a node's arguments (every present input value is known).
inline OpArgs op_args(const KernelContext& ctx) {
  OpArgs a;
  a.opset = ctx.opset;
  a.attrs = ctx.attrs;
  a.where = ctx.where();
  for (size_t i = 0; i < ctx.num_inputs(); ++i) {
    a.present.push_back(ctx.has_input(i));
    a.values.push_back(ctx.inputs[i]);
  }
  return a;
}

// Copies element `src_i` of `src` to element `dst_i` of `dst` (same dtype), whatever the type.
inline void copy_bytes(Tensor& dst, int64_t dst_i, const Tensor& src, int64_t src_i) {
  const size_t es = dtype_size(src.dtype());
  std::memcpy(static_cast<char*>(dst.raw()) + static_cast<size_t>(dst_i) * es,
              static_cast<const char*>(src.raw()) + static_cast<size_t>(src_i) * es, es);
}

// Normalizes a run-time index against `dim`, failing when out of [-dim, dim).
inline int64_t checked_index(const KernelContext& ctx, int64_t v, int64_t dim, size_t axis) {
  ctx.check(v >= -dim && v < dim, "index ", v, " is out of range for axis ", axis, " of size ",
            dim);
  return v < 0 ? v + dim : v;
}

}  // namespace kiln::ref
