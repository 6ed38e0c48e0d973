// BatchNormalization reference kernel: inference form with the given statistics, and the
// training form (batch statistics, running-statistics outputs) of every opset.
#include "runtime/kernels/ref/kernel.h"
#include "runtime/kernels/ref/normalization_util.h"

namespace kiln {

namespace {

template <typename Acc>
void batch_norm(KernelContext& ctx) {
  const Tensor& xt = ctx.input(0);
  const Dims& dims = xt.dims();
  const bool spatial = ctx.opset >= 9 || ctx.attr().get_int("spatial", 1) == 1;
  // X viewed as [N, C, S]; spatial=0 (opset < 9) makes every element of X[0] a "channel".
  const int64_t n = dims.empty() ? 1 : dims[0];
  const int64_t c = spatial ? (dims.size() < 2 ? 1 : dims[1]) : ref::dims_product(dims, 1, dims.size());
  const int64_t s = spatial ? ref::dims_product(dims, 2, dims.size()) : 1;

  const std::vector<Acc> x = ref::load_as<Acc>(xt);
  std::vector<Acc> scale = ref::load_as<Acc>(ctx.input(1));
  std::vector<Acc> bias = ref::load_as<Acc>(ctx.input(2));
  std::vector<Acc> in_mean = ref::load_as<Acc>(ctx.input(3));
  std::vector<Acc> in_var = ref::load_as<Acc>(ctx.input(4));
  static const char* kNames[] = {"X", "scale", "B", "mean", "var"};
  const std::vector<Acc>* params[] = {nullptr, &scale, &bias, &in_mean, &in_var};
  for (size_t i = 1; i < 5; ++i) {
    ctx.check(static_cast<int64_t>(params[i]->size()) == c, "input ", i, " (", kNames[i], ") has ",
              params[i]->size(), " elements but X has ", c, " channels");
  }

  bool training;
  if (ctx.opset >= 14) {
    training = ctx.attr().get_int("training_mode", 0) == 1;
  } else {
    training = ctx.num_outputs() > 1 && !(ctx.opset < 7 && ctx.attr().get_int("is_test", 0));
  }
  const Acc eps = static_cast<Acc>(ctx.attr().get_float("epsilon", 1e-5f));
  const Acc momentum = static_cast<Acc>(ctx.attr().get_float("momentum", 0.9f));

  // Statistics used to normalize: the inputs, or in training the batch's own (population
  // variance over N and the spatial dims).
  std::vector<Acc> mean = in_mean, var = in_var;
  if (training && x.empty()) {
    // No batch: the batch statistics are undefined.
    mean.assign(mean.size(), std::numeric_limits<Acc>::quiet_NaN());
    var = mean;
  } else if (training) {
    const Acc count = static_cast<Acc>(n * s);
    for (int64_t ch = 0; ch < c; ++ch) {
      Acc sum = 0;
      for (int64_t b = 0; b < n; ++b)
        for (int64_t k = 0; k < s; ++k) sum += x[static_cast<size_t>((b * c + ch) * s + k)];
      const Acc m = sum / count;
      Acc sq = 0;
      for (int64_t b = 0; b < n; ++b)
        for (int64_t k = 0; k < s; ++k) {
          const Acc d = x[static_cast<size_t>((b * c + ch) * s + k)] - m;
          sq += d * d;
        }
      mean[static_cast<size_t>(ch)] = m;
      var[static_cast<size_t>(ch)] = sq / count;
    }
  }

  std::vector<Acc> y(x.size());
  for (int64_t b = 0; b < (x.empty() ? 0 : n); ++b) {
    for (int64_t ch = 0; ch < c; ++ch) {
      const size_t cu = static_cast<size_t>(ch);
      const Acc inv = Acc(1) / std::sqrt(var[cu] + eps);
      for (int64_t k = 0; k < s; ++k) {
        const size_t i = static_cast<size_t>((b * c + ch) * s + k);
        y[i] = (x[i] - mean[cu]) * inv * scale[cu] + bias[cu];
      }
    }
  }
  ref::store_from(ctx.output(0), y);
  if (!training) return;

  // Outputs 1, 2: running statistics; 3, 4 (opset < 14): the batch's own statistics.
  std::vector<Acc> run_mean(static_cast<size_t>(c)), run_var(static_cast<size_t>(c));
  for (size_t ch = 0; ch < run_mean.size(); ++ch) {
    run_mean[ch] = in_mean[ch] * momentum + mean[ch] * (Acc(1) - momentum);
    run_var[ch] = in_var[ch] * momentum + var[ch] * (Acc(1) - momentum);
  }
  const std::vector<Acc>* outs[] = {&run_mean, &run_var, &mean, &var};
  for (size_t o = 1; o < ctx.num_outputs() && o < 5; ++o) {
    if (ctx.wants_output(o)) ref::store_from(ctx.output(o), *outs[o - 1]);
  }
}

}  // namespace

void ref_BatchNormalization(KernelContext& ctx) {
  const bool wide = ref::wants_double({ctx.input(0).dtype(), ctx.input(1).dtype(),
                                       ctx.input(3).dtype()});
  if (wide) {
    batch_norm<double>(ctx);
  } else {
    batch_norm<float>(ctx);
  }
}

}  // namespace kiln
