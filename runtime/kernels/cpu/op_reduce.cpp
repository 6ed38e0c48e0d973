// ReduceSum (f32) when the reduced axes are a leading block and / or a trailing block around
// the kept ones (size-1 axes are ignored): X viewed as [R1, K, R2], Y[k] = sum over r1, r2.
// This is every bias gradient: [N, C, H, W] over {0, 2, 3} and [B, F] over {0}. Each output
// element is summed in one fixed order (8 float lanes along R2, added up in double), whatever
// the chunking over the pool.
#include "ir/infer/reduce_axes.h"
#include "runtime/kernels/cpu/op_util.h"

namespace kiln::cpu {

namespace {

// Sum of n contiguous floats: 8 independent partial sums (vectorizable), then combined.
double sum_run(const float* x, int64_t n) {
  float part[8] = {};
  int64_t i = 0;
  for (; i + 8 <= n; i += 8) {
    for (int j = 0; j < 8; ++j) part[j] += x[i + j];
  }
  double s = 0;
  for (float v : part) s += v;
  for (; i < n; ++i) s += x[i];
  return s;
}

}  // namespace

void fast_ReduceSum(KernelContext& ctx) {
  if (!input_is_f32(ctx, 0)) return run_reference(ctx);
  const Tensor& x = ctx.input(0);
  const ReduceAxes ra = read_reduce_axes(ctx.op, ctx.opset, ctx.attr(), ctx.has_input(1),
                                         ctx.has_input(1) ? &ctx.input(1) : nullptr, ctx.where());
  if (ra.reduces_nothing() || x.numel() == 0) return run_reference(ctx);
  const std::vector<bool> mask = reduce_mask(ra, x.rank(), ctx.where());
  // Walk the axes: reduced block, kept block, reduced block; size-1 axes fit anywhere.
  int64_t r1 = 1, k = 1, r2 = 1;
  int stage = 0;  // 0: leading reduced, 1: kept, 2: trailing reduced
  for (int64_t i = 0; i < x.rank(); ++i) {
    const int64_t d = x.dim(i);
    if (d == 1) continue;
    const bool reduced = mask[static_cast<size_t>(i)];
    if (stage == 0 && !reduced) stage = 1;
    if (stage == 1 && reduced) stage = 2;
    if (stage == 2 && !reduced) return run_reference(ctx);  // kept axes on both sides
    (stage == 0 ? r1 : stage == 1 ? k : r2) *= d;
  }
  const ValueType& out_type = ctx.output_types.at(0);
  if (!out_type.shape.is_static() || checked_numel(out_type.shape.static_dims()) != k) {
    return run_reference(ctx);
  }
  float* y = uninit_output(ctx, 0).data<float>();
  const float* px = x.data<float>();
  parallel_ranges(ctx.pool, k, r1 * r2, [&](int64_t begin, int64_t end) {
    if (r2 == 1) {  // Y[k] = sum over rows of a [R1, K] matrix: walk the rows
      std::vector<double> acc(static_cast<size_t>(end - begin), 0.0);
      for (int64_t i = 0; i < r1; ++i) {
        const float* row = px + i * k;
        for (int64_t j = begin; j < end; ++j) acc[static_cast<size_t>(j - begin)] += row[j];
      }
      for (int64_t j = begin; j < end; ++j) y[j] = static_cast<float>(acc[static_cast<size_t>(j - begin)]);
      return;
    }
    for (int64_t j = begin; j < end; ++j) {
      double s = 0;
      for (int64_t i = 0; i < r1; ++i) s += sum_run(px + (i * k + j) * r2, r2);
      y[j] = static_cast<float>(s);
    }
  });
}

}  // namespace kiln::cpu
