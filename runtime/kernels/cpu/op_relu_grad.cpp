// KilnReluGrad (f32): dX = dY where Y > 0, else 0, in one pass over the two inputs (the
// gradient rule's Greater + Where took two passes and a bool tensor), elements split over the
// pool.
#include "runtime/kernels/cpu/op_util.h"

namespace kiln::cpu {

void fast_KilnReluGrad(KernelContext& ctx) {
  if (!input_is_f32(ctx, 0) || !input_is_f32(ctx, 1) || ctx.input(0).dims() != ctx.input(1).dims()) {
    return run_reference(ctx);  // it reports what is wrong
  }
  const float* __restrict g = ctx.input(0).data<float>();
  const float* __restrict y = ctx.input(1).data<float>();
  float* __restrict out = uninit_output(ctx, 0, ctx.input(0).dims()).data<float>();
  parallel_ranges(ctx.pool, ctx.input(0).numel(), 1, [&](int64_t b, int64_t e) {
    for (int64_t i = b; i < e; ++i) out[i] = y[i] > 0.0f ? g[i] : 0.0f;
  });
}

}  // namespace kiln::cpu
