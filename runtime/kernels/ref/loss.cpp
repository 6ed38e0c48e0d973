// Reference kernels for SoftmaxCrossEntropyLoss and NegativeLogLikelihoodLoss.
// Input [N, C, d1..dk] (scores, or log-probabilities for NLL), labels [N, d1..dk], optional
// class weights [C]. Per element: loss = -logp[n, label, d] * w[label]; a label equal to
// ignore_index contributes 0 loss and 0 weight. "mean" divides the summed loss by the summed
// weight (the element count when unweighted), as the ONNX reference does. Computed in double.
#include <cmath>
#include <optional>

#include "runtime/kernels/ref/kernel.h"
#include "runtime/kernels/ref/select_util.h"

namespace kiln {
namespace {

void ref_loss(KernelContext& ctx, bool from_scores) {
  const Tensor& x = ctx.input(0);
  const Tensor& labels = ctx.input(1);
  const Tensor* weights = ctx.has_input(2) ? &ctx.input(2) : nullptr;
  ctx.check(x.rank() >= 2, "input 0 must have rank >= 2, got ", x.describe());
  const int64_t N = x.dim(0), C = x.dim(1);
  ctx.check(labels.dtype() == DType::I32 || labels.dtype() == DType::I64,
            "labels must be int32 or int64, got ", labels.describe());
  Dims per_element = x.dims();  // [N, d1..dk]
  per_element.erase(per_element.begin() + 1);
  ctx.check(labels.dims() == per_element, "labels ", labels.describe(), " do not match input ",
            x.describe());
  const int64_t D = checked_numel(Dims(per_element.begin() + 1, per_element.end()));
  if (weights) {
    ctx.check(weights->rank() == 1 && weights->dim(0) == C, "weights ", weights->describe(),
              " do not match ", C, " classes");
  }
  std::optional<int64_t> ignore;
  if (ctx.attr().has("ignore_index")) ignore = ctx.attr().get_int("ignore_index");
  const std::string reduction = ctx.attr().get_string("reduction", "mean");
  const std::vector<int64_t> t = labels.to_int64_vector();

  dispatch_dtype(x.dtype(), "loss", [&]<typename T>() {
    if constexpr (!ref::is_float_v<T>) {
      ctx.fail("input must be a float tensor, got ", x.describe());
    } else {
      const T* xp = x.data<T>();
      std::vector<double> logp(static_cast<size_t>(x.numel()));
      for (size_t i = 0; i < logp.size(); ++i) logp[i] = ref::to_f64(xp[i]);
      const ref::AxisView v{N, C, D};
      if (from_scores && C > 0) {
        for (int64_t n = 0; n < N; ++n) {
          for (int64_t d = 0; d < D; ++d) {  // log-softmax over the class axis
            double m = logp[static_cast<size_t>(v.at(n, 0, d))];
            for (int64_t c = 1; c < C; ++c) m = std::max(m, logp[static_cast<size_t>(v.at(n, c, d))]);
            double sum = 0;
            for (int64_t c = 0; c < C; ++c) sum += std::exp(logp[static_cast<size_t>(v.at(n, c, d))] - m);
            const double shift = m + std::log(sum);
            for (int64_t c = 0; c < C; ++c) logp[static_cast<size_t>(v.at(n, c, d))] -= shift;
          }
        }
      }
      if (from_scores && ctx.wants_output(1)) {
        T* lp = ctx.output(1).data<T>();
        for (size_t i = 0; i < logp.size(); ++i) lp[i] = ref::from_f64<T>(logp[i]);
      }
      std::vector<double> loss(t.size(), 0.0);
      double loss_sum = 0, weight_sum = 0;
      for (int64_t n = 0; n < N; ++n) {
        for (int64_t d = 0; d < D; ++d) {
          const size_t e = static_cast<size_t>(n * D + d);
          const int64_t label = t[e];
          if (ignore && label == *ignore) continue;
          ctx.check(label >= 0 && label < C, "label ", label, " at element ", e,
                    " is out of range for ", C, " classes");
          const double w = weights ? ref::to_f64(weights->data<T>()[label]) : 1.0;
          loss[e] = -logp[static_cast<size_t>(v.at(n, label, d))] * w;
          loss_sum += loss[e];
          weight_sum += w;
        }
      }
      if (reduction == "none") {
        T* y = ctx.output(0).data<T>();
        for (size_t e = 0; e < loss.size(); ++e) y[e] = ref::from_f64<T>(loss[e]);
      } else {
        // mean over nothing (all ignored, or empty) is 0/0 = NaN, as in the ONNX reference
        const double r = reduction == "sum" ? loss_sum : loss_sum / weight_sum;
        ctx.output(0).data<T>()[0] = ref::from_f64<T>(r);
      }
    }
  });
}

}  // namespace

void ref_SoftmaxCrossEntropyLoss(KernelContext& ctx) { ref_loss(ctx, true); }
void ref_NegativeLogLikelihoodLoss(KernelContext& ctx) { ref_loss(ctx, false); }

}  // namespace kiln
