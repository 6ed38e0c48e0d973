// Reference kernels of the "standardize over some axes, then scale and shift" family:
// InstanceNormalization, GroupNormalization, LayerNormalization, RMSNormalization and
// MeanVarianceNormalization. Statistics accumulate in float (double for f64 data or stash).
#include <set>

#include "runtime/kernels/ref/kernel.h"
#include "runtime/kernels/ref/normalization_util.h"

namespace kiln {

namespace {

using ref::dims_product;

// Per-element values of a parameter unidirectionally broadcast to `x_dims`, in X's row-major
// order (LayerNormalization's Scale/B, RMSNormalization's scale).
template <typename Acc>
std::vector<Acc> broadcast_param(const KernelContext& ctx, size_t input, const Dims& x_dims) {
  const Tensor& p = ctx.input(input);
  ctx.check(p.rank() <= static_cast<int64_t>(x_dims.size()) &&
                ref::broadcast_dims(p.dims(), x_dims) == x_dims,
            "input ", input, " of shape ", dims_to_string(p.dims()), " does not broadcast to X ",
            dims_to_string(x_dims));
  const std::vector<Acc> v = ref::load_as<Acc>(p);
  const int64_t total = checked_numel(x_dims);
  std::vector<Acc> out(static_cast<size_t>(total));
  ref::MultiIndex it(x_dims, {ref::broadcast_strides(p.dims(), x_dims)});
  for (int64_t i = 0; i < total; ++i, it.next()) {
    out[static_cast<size_t>(i)] = v[static_cast<size_t>(it.offset(0))];
  }
  return out;
}

// Checks a 1-D parameter's element count at run time.
void check_count(const KernelContext& ctx, size_t input, size_t have, int64_t want,
                 const char* what) {
  ctx.check(static_cast<int64_t>(have) == want, "input ", input, " has ", have,
            " elements but ", what, " is ", want);
}

template <typename Acc>
void instance_norm(KernelContext& ctx) {
  const Tensor& xt = ctx.input(0);
  const Dims& dims = xt.dims();
  const int64_t c = dims[1], s = dims_product(dims, 2, dims.size());
  const std::vector<Acc> x = ref::load_as<Acc>(xt);
  const std::vector<Acc> scale = ref::load_as<Acc>(ctx.input(1));
  const std::vector<Acc> bias = ref::load_as<Acc>(ctx.input(2));
  check_count(ctx, 1, scale.size(), c, "the channel count");
  check_count(ctx, 2, bias.size(), c, "the channel count");
  const Acc eps = static_cast<Acc>(ctx.attr().get_float("epsilon", 1e-5f));
  std::vector<Acc> y(x.size());
  const int64_t rows = x.empty() ? 0 : dims_product(dims, 0, 2);
  for (int64_t row = 0; row < rows; ++row) {
    const size_t ch = static_cast<size_t>(row % c);
    const size_t base = static_cast<size_t>(row * s);
    const ref::Moments<Acc> m = ref::moments(x.data() + base, s);
    const Acc inv = Acc(1) / std::sqrt(m.var + eps);
    for (size_t k = 0; k < static_cast<size_t>(s); ++k) {
      y[base + k] = (x[base + k] - m.mean) * inv * scale[ch] + bias[ch];
    }
  }
  ref::store_from(ctx.output(0), y);
}

template <typename Acc>
void group_norm(KernelContext& ctx) {
  const Tensor& xt = ctx.input(0);
  const Dims& dims = xt.dims();
  const int64_t n = dims[0], c = dims[1], s = dims_product(dims, 2, dims.size());
  const int64_t groups = ctx.attr().get_int("num_groups");
  ctx.check(groups >= 1 && c % groups == 0, "num_groups ", groups, " does not divide the ", c,
            " channels");
  const int64_t per_group = c / groups;
  const std::vector<Acc> x = ref::load_as<Acc>(xt);
  const std::vector<Acc> scale = ref::load_as<Acc>(ctx.input(1));
  const std::vector<Acc> bias = ref::load_as<Acc>(ctx.input(2));
  // Opset 21: per channel. Opset 18: per group (or per channel when given C values).
  const bool per_channel = ctx.opset >= 21 || static_cast<int64_t>(scale.size()) == c;
  const int64_t want = per_channel ? c : groups;
  check_count(ctx, 1, scale.size(), want, per_channel ? "the channel count" : "num_groups");
  check_count(ctx, 2, bias.size(), want, per_channel ? "the channel count" : "num_groups");
  const DType stash = ctx.opset >= 21
                          ? static_cast<DType>(ctx.attr().get_int("stash_type", 1))
                          : DType::F32;
  const Acc eps = static_cast<Acc>(ctx.attr().get_float("epsilon", 1e-5f));
  std::vector<Acc> y(x.size());
  // X viewed as [N * groups, per_group * S]: each row is one (instance, group).
  const int64_t cols = per_group * s;
  const int64_t rows = x.empty() ? 0 : n * groups;
  for (int64_t row = 0; row < rows; ++row) {
    const int64_t g = row % groups;
    const size_t base = static_cast<size_t>(row * cols);
    const ref::Moments<Acc> m = ref::moments(x.data() + base, cols);
    const Acc mean = ref::round_to(stash, m.mean);
    const Acc inv = ref::round_to(stash, Acc(1) / std::sqrt(m.var + eps));
    for (int64_t k = 0; k < cols; ++k) {
      const size_t p = static_cast<size_t>(per_channel ? g * per_group + k / s : g);
      const size_t i = base + static_cast<size_t>(k);
      y[i] = (x[i] - mean) * inv * scale[p] + bias[p];
    }
  }
  ref::store_from(ctx.output(0), y);
}

// LayerNormalization (rms = false) and RMSNormalization (rms = true): X viewed as
// [prod(dims[:axis]), prod(dims[axis:])], one statistic per row.
template <typename Acc>
void layer_norm(KernelContext& ctx, bool rms) {
  const Tensor& xt = ctx.input(0);
  const Dims& dims = xt.dims();
  const int64_t rank = xt.rank();
  int64_t axis = ctx.attr().get_int("axis", -1);
  if (axis < 0) axis += rank;
  ctx.check(axis >= 0 && axis < rank, "axis ", ctx.attr().get_int("axis", -1),
            " is out of range for rank ", rank);
  const int64_t rows = dims_product(dims, 0, static_cast<size_t>(axis));
  const int64_t cols = dims_product(dims, static_cast<size_t>(axis), dims.size());
  const DType stash = static_cast<DType>(ctx.attr().get_int("stash_type", 1));
  const Acc eps = static_cast<Acc>(ctx.attr().get_float("epsilon", 1e-5f));
  const std::vector<Acc> x = ref::load_as<Acc>(xt);
  const std::vector<Acc> scale = broadcast_param<Acc>(ctx, 1, dims);
  const bool has_bias = !rms && ctx.has_input(2);
  const std::vector<Acc> bias = has_bias ? broadcast_param<Acc>(ctx, 2, dims) : std::vector<Acc>();

  std::vector<Acc> y(x.size()), means(static_cast<size_t>(rows)), invs(static_cast<size_t>(rows));
  for (int64_t r = 0; r < rows; ++r) {  // cols == 0: the statistics of an empty row are NaN
    const size_t base = static_cast<size_t>(r * cols);
    Acc mean = 0, inv;
    if (rms) {
      Acc sq = 0;
      for (int64_t k = 0; k < cols; ++k) sq += x[base + static_cast<size_t>(k)] * x[base + static_cast<size_t>(k)];
      inv = Acc(1) / std::sqrt(sq / static_cast<Acc>(cols) + eps);
    } else {
      const ref::Moments<Acc> m = ref::moments(x.data() + base, cols);
      mean = ref::round_to(stash, m.mean);
      inv = Acc(1) / std::sqrt(m.var + eps);
    }
    inv = ref::round_to(stash, inv);
    means[static_cast<size_t>(r)] = mean;
    invs[static_cast<size_t>(r)] = inv;
    for (int64_t k = 0; k < cols; ++k) {
      const size_t i = base + static_cast<size_t>(k);
      y[i] = (x[i] - mean) * inv * scale[i] + (has_bias ? bias[i] : Acc(0));
    }
  }
  ref::store_from(ctx.output(0), y);
  if (!rms && ctx.wants_output(1)) ref::store_from(ctx.output(1), means);
  if (!rms && ctx.wants_output(2)) ref::store_from(ctx.output(2), invs);
}

// Y = (X - E[X]) / (sqrt(Var[X]) + 1e-9), statistics over `axes` (ONNX's function body).
template <typename Acc>
void mean_variance_norm(KernelContext& ctx) {
  const Tensor& xt = ctx.input(0);
  const Dims& dims = xt.dims();
  const int64_t rank = xt.rank();
  Dims reduced = dims;  // dims of the statistics: 1 on the reduced axes
  for (int64_t a : ctx.attr().get_ints("axes", {0, 2, 3})) {
    const int64_t n = a < 0 ? a + rank : a;
    ctx.check(n >= 0 && n < rank, "axis ", a, " is out of range for rank ", rank);
    reduced[static_cast<size_t>(n)] = 1;
  }
  const int64_t total = xt.numel();
  const int64_t stats = checked_numel(reduced);
  const Acc count = static_cast<Acc>(stats == 0 ? 0 : total / stats);
  const std::vector<Acc> x = ref::load_as<Acc>(xt);
  const std::vector<int64_t> to_stat = ref::broadcast_strides(reduced, dims);
  std::vector<Acc> mean(static_cast<size_t>(stats), Acc(0)), var(static_cast<size_t>(stats), Acc(0));
  {
    ref::MultiIndex it(dims, {to_stat});
    for (int64_t i = 0; i < total; ++i, it.next()) mean[static_cast<size_t>(it.offset(0))] += x[static_cast<size_t>(i)];
  }
  for (Acc& m : mean) m /= count;
  {
    ref::MultiIndex it(dims, {to_stat});
    for (int64_t i = 0; i < total; ++i, it.next()) {
      const size_t si = static_cast<size_t>(it.offset(0));
      const Acc d = x[static_cast<size_t>(i)] - mean[si];
      var[si] += d * d;
    }
  }
  std::vector<Acc> y(x.size());
  ref::MultiIndex it(dims, {to_stat});
  for (int64_t i = 0; i < total; ++i, it.next()) {
    const size_t si = static_cast<size_t>(it.offset(0));
    const Acc sd = std::sqrt(var[si] / count);
    y[static_cast<size_t>(i)] = (x[static_cast<size_t>(i)] - mean[si]) / (sd + Acc(1e-9));
  }
  ref::store_from(ctx.output(0), y);
}

}  // namespace

void ref_InstanceNormalization(KernelContext& ctx) {
  if (ref::wants_double({ctx.input(0).dtype()})) {
    instance_norm<double>(ctx);
  } else {
    instance_norm<float>(ctx);
  }
}

void ref_GroupNormalization(KernelContext& ctx) {
  const bool wide = ref::wants_double({ctx.input(0).dtype()}) ||
                    (ctx.opset >= 21 && ctx.attr().get_int("stash_type", 1) == 11);
  if (wide) {
    group_norm<double>(ctx);
  } else {
    group_norm<float>(ctx);
  }
}

void ref_LayerNormalization(KernelContext& ctx) {
  const bool wide = ref::wants_double({ctx.input(0).dtype()}) ||
                    ctx.attr().get_int("stash_type", 1) == 11;
  if (wide) {
    layer_norm<double>(ctx, false);
  } else {
    layer_norm<float>(ctx, false);
  }
}

void ref_RMSNormalization(KernelContext& ctx) {
  const bool wide = ref::wants_double({ctx.input(0).dtype(), ctx.input(1).dtype()}) ||
                    ctx.attr().get_int("stash_type", 1) == 11;
  if (wide) {
    layer_norm<double>(ctx, true);
  } else {
    layer_norm<float>(ctx, true);
  }
}

void ref_MeanVarianceNormalization(KernelContext& ctx) {
  if (ref::wants_double({ctx.input(0).dtype()})) {
    mean_variance_norm<double>(ctx);
  } else {
    mean_variance_norm<float>(ctx);
  }
}

}  // namespace kiln
