// KilnSoftmaxCrossEntropyGrad (f32 scores [N, C], no class weights): the gradient of
// SoftmaxCrossEntropyLoss with respect to its scores, rows split over the pool. Each row is
// computed in double exactly as the reference does, so the two agree to the last bit.
#include <cmath>
#include <optional>
#include <string>
#include <vector>

#include "runtime/kernels/cpu/op_util.h"

namespace kiln::cpu {

void fast_KilnSoftmaxCrossEntropyGrad(KernelContext& ctx) {
  if (!input_is_f32(ctx, 0) || !input_is_f32(ctx, 1) || ctx.has_input(3) || !ctx.has_input(2) ||
      ctx.input(2).dtype() != DType::I64 || ctx.input(1).rank() != 2) {
    return run_reference(ctx);
  }
  const Tensor& dl = ctx.input(0);
  const Tensor& s = ctx.input(1);
  const Tensor& labels = ctx.input(2);
  const int64_t N = s.dim(0), C = s.dim(1);
  const std::string reduction = ctx.attr().get_string("reduction", "mean");
  const bool per_row = reduction == "none";
  if (labels.numel() != N || C == 0 || dl.numel() != (per_row ? N : 1) ||
      (reduction != "mean" && reduction != "sum" && !per_row)) {
    return run_reference(ctx);
  }
  std::optional<int64_t> ignore;
  if (ctx.attr().has("ignore_index")) ignore = ctx.attr().get_int("ignore_index");
  const int64_t* t = labels.data<int64_t>();
  double norm = 1.0;
  if (reduction == "mean") {
    norm = 0.0;
    for (int64_t n = 0; n < N; ++n) {
      if (!(ignore && t[n] == *ignore) && t[n] >= 0 && t[n] < C) norm += 1.0;
    }
  }
  for (int64_t n = 0; n < N; ++n) {
    if (!(ignore && t[n] == *ignore) && (t[n] < 0 || t[n] >= C)) return run_reference(ctx);
  }
  const float* x = s.data<float>();
  const float* pdl = dl.data<float>();
  float* out = uninit_output(ctx, 0, s.dims()).data<float>();
  parallel_ranges(ctx.pool, N, 8 * C, [&](int64_t begin, int64_t end) {
    std::vector<double> p(static_cast<size_t>(C));
    for (int64_t n = begin; n < end; ++n) {
      const float* xr = x + n * C;
      float* o = out + n * C;
      if (ignore && t[n] == *ignore) {
        for (int64_t c = 0; c < C; ++c) o[c] = 0.0f;
        continue;
      }
      double m = static_cast<double>(xr[0]);
      for (int64_t c = 1; c < C; ++c) m = std::max(m, static_cast<double>(xr[c]));
      double sum = 0;
      for (int64_t c = 0; c < C; ++c) {
        p[static_cast<size_t>(c)] = std::exp(static_cast<double>(xr[c]) - m);
        sum += p[static_cast<size_t>(c)];
      }
      const double scale = static_cast<double>(pdl[per_row ? n : 0]) / norm;
      for (int64_t c = 0; c < C; ++c) {
        const double grad = p[static_cast<size_t>(c)] / sum - (c == t[n] ? 1.0 : 0.0);
        o[c] = static_cast<float>(scale * grad);
      }
    }
  });
}

}  // namespace kiln::cpu
