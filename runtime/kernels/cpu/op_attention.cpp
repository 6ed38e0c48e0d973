// KilnAttention on f32: per (batch, head) problem, scores = Q @ Kt by SGEMM into a per-thread
// [M, N] block (alpha = scale when it multiplies), then per row the division, the mask and
// the softmax while the row is in cache, then Y = P @ V by SGEMM. Problems are split over the
// pool (each computed on one thread, so results do not depend on the thread count); a single
// problem gives the pool to its SGEMMs instead.
#include "runtime/kernels/cpu/op_util.h"
#include "runtime/kernels/cpu/sgemm.h"
#include "runtime/kernels/cpu/sgemm_pack.h"
#include "runtime/kernels/cpu/softmax_rows.h"
#include "runtime/kernels/ref/attention_geom.h"

namespace kiln::cpu {

namespace {
thread_local ScratchBuffer t_scores;
}  // namespace

void fast_KilnAttention(KernelContext& ctx) {
  for (size_t i = 0; i < 4; ++i)
    if (!input_is_f32(ctx, i, /*absent_ok=*/i == 3)) return run_reference(ctx);
  const ref::AttentionGeom g = ref::attention_geom(ctx);
  const float *q = ctx.input(0).data<float>(), *kt = ctx.input(1).data<float>(),
              *v = ctx.input(2).data<float>();
  const float* mask = g.has_mask ? ctx.input(3).data<float>() : nullptr;
  float* y = uninit_output(ctx, 0).data<float>();
  if (g.batch == 0 || g.M == 0 || g.Dv == 0) return;
  auto problem = [&](int64_t b, ThreadPool* pool) {
    float* s = t_scores.floats(static_cast<size_t>(g.M * g.N));
    kiln_sgemm(0, 0, g.M, g.N, g.D, g.divide ? 1.0f : g.scale, q + b * g.M * g.D, g.D,
               kt + b * g.D * g.N, g.N, 0.0f, s, g.N, nullptr, pool);
    for (int64_t i = 0; i < g.M; ++i) {
      float* row = s + i * g.N;
      if (g.divide)
        for (int64_t j = 0; j < g.N; ++j) row[j] /= g.scale;
      if (mask) {
        const float* mrow = mask + g.mask_batch_offset[static_cast<size_t>(b)] + i * g.mask_row_stride;
        if (g.mask_col_stride == 1) {
          for (int64_t j = 0; j < g.N; ++j) row[j] += mrow[j];
        } else {
          for (int64_t j = 0; j < g.N; ++j) row[j] += mrow[j * g.mask_col_stride];
        }
      }
      softmax_row(row, row, g.N);
    }
    kiln_sgemm(0, 0, g.M, g.Dv, g.N, 1.0f, s, g.N, v + b * g.N * g.Dv, g.Dv, 0.0f,
               y + b * g.M * g.Dv, g.Dv, nullptr, pool);
  };
  if (g.batch == 1) return problem(0, ctx.pool);
  parallel_ranges(ctx.pool, g.batch, g.M * g.N * (g.D + g.Dv), [&](int64_t begin, int64_t end) {
    for (int64_t b = begin; b < end; ++b) problem(b, nullptr);
  });
}

}  // namespace kiln::cpu
