// Shape and dtype inference for the normalization ops: BatchNormalization, InstanceNormalization,
// LayerNormalization, GroupNormalization, RMSNormalization, LpNormalization,
// MeanVarianceNormalization and LRN. All keep X's shape; the extra outputs of
// BatchNormalization (running/saved statistics) and LayerNormalization (Mean, InvStdDev) are
// per-channel or per-row statistics.
#include <algorithm>
#include <cmath>
#include <set>

#include "ir/infer_util.h"

namespace kiln {

namespace {

void require_float(const InferContext& ctx, size_t i, const char* name) {
  const DType t = ctx.dtype(i);
  ctx.check(is_float(t), "input ", i, " (", name, ") must be a float tensor, got ",
            dtype_name(t));
}

void require_same_dtype(const InferContext& ctx, size_t i, size_t j, const char* name_i,
                        const char* name_j) {
  ctx.check(ctx.dtype(i) == ctx.dtype(j), "input ", i, " (", name_i, ") is ",
            dtype_name(ctx.dtype(i)), " but input ", j, " (", name_j, ") is ",
            dtype_name(ctx.dtype(j)));
}

// A per-channel parameter: rank 1 of `expected` elements (checked where both are known).
void check_vector_param(const InferContext& ctx, size_t i, const char* name, const Dim& expected,
                        const char* what) {
  const Shape& s = ctx.shape(i);
  if (!s.rank_known) return;
  ctx.check(s.rank() == 1, "input ", i, " (", name, ") must be 1-D, got shape ", s.to_string());
  if (s.dims[0].is_static() && expected.is_static()) {
    ctx.check(s.dims[0].value == expected.value, "input ", i, " (", name, ") has ",
              s.dims[0].value, " elements but ", what, " is ", expected.value);
  }
}

// A parameter unidirectionally broadcastable to X (LayerNormalization's Scale and B).
void check_broadcastable_to(const InferContext& ctx, size_t i, const char* name, const Shape& x) {
  const Shape& s = ctx.shape(i);
  if (!s.rank_known || !x.rank_known) return;
  ctx.check(s.rank() <= x.rank(), "input ", i, " (", name, ") of shape ", s.to_string(),
            " has a higher rank than X ", x.to_string());
  const size_t off = x.rank() - s.rank();
  for (size_t d = 0; d < s.rank(); ++d) {
    const Dim& p = s.dims[d];
    const Dim& q = x.dims[off + d];
    if (p.is_static() && q.is_static() && p.value != 1 && p.value != q.value) {
      ctx.fail("input ", i, " (", name, ") of shape ", s.to_string(),
               " does not broadcast to X ", x.to_string());
    }
  }
}

// stash_type: the float type of the first-stage statistics (ONNX TensorProto code).
DType read_stash_type(const InferContext& ctx) {
  const int64_t code = ctx.attr().get_int("stash_type", 1);
  const bool ok = code == static_cast<int64_t>(DType::F32) ||
                  code == static_cast<int64_t>(DType::F64) ||
                  code == static_cast<int64_t>(DType::F16) ||
                  code == static_cast<int64_t>(DType::BF16);
  ctx.check(ok, "stash_type ", code, " is not a float type (1, 10, 11 or 16)");
  return static_cast<DType>(code);
}

void check_epsilon(const InferContext& ctx) {
  const float eps = ctx.attr().get_float("epsilon", 1e-5f);
  ctx.check(eps >= 0.0f, "epsilon must be >= 0, got ", eps);
}

// Dim 1 of X (the channels) or unknown; BatchNormalization treats 1-D X as one channel.
Dim channel_dim(const Shape& x) {
  if (!x.rank_known) return Dim::unknown();
  if (x.rank() < 2) return Dim::of(1);
  return x.dims[1];
}

void require_min_rank(const InferContext& ctx, size_t i, size_t min_rank, const char* layout) {
  const Shape& s = ctx.shape(i);
  if (!s.rank_known) return;
  ctx.check(s.rank() >= min_rank, "input ", i, " must have rank >= ", min_rank, " (", layout,
            "), got shape ", s.to_string());
}

}  // namespace

// Opset < 14: training is signalled by asking for the statistics outputs (mean, var,
// saved_mean, saved_var); opset >= 14: by training_mode, with only running_mean/var outputs.
// Opset < 9 also has `spatial`: 0 gives one statistic per (C x D1 x ... x Dn) element.
void infer_BatchNormalization(InferContext& ctx) {
  static const char* kNames[] = {"X", "scale", "B", "mean", "var"};
  for (size_t i = 0; i < 5; ++i) require_float(ctx, i, kNames[i]);
  if (ctx.opset < 14) {
    for (size_t i = 1; i < 5; ++i) require_same_dtype(ctx, i, 0, kNames[i], "X");
  } else {
    if (ctx.opset < 15) {
      require_same_dtype(ctx, 1, 0, "scale", "X");
      require_same_dtype(ctx, 2, 0, "B", "X");
    } else {
      require_same_dtype(ctx, 2, 1, "B", "scale");
    }
    require_same_dtype(ctx, 4, 3, "var", "mean");
  }
  check_epsilon(ctx);
  const float momentum = ctx.attr().get_float("momentum", 0.9f);
  ctx.check(std::isfinite(momentum), "momentum must be finite, got ", momentum);
  const Shape& x = ctx.shape(0);
  require_min_rank(ctx, 0, 1, "N x C x D1 ... Dn");

  const int64_t spatial = ctx.opset < 9 ? ctx.attr().get_int("spatial", 1) : 1;
  ctx.check(spatial == 0 || spatial == 1, "spatial must be 0 or 1, got ", spatial);
  if (spatial == 1) {
    const Dim c = channel_dim(x);
    for (size_t i = 1; i < 5; ++i) check_vector_param(ctx, i, kNames[i], c, "the channel count");
  } else if (x.rank_known && x.is_static()) {
    // One statistic per element of X[0]: the parameters hold C x D1 x ... x Dn values.
    int64_t per_sample = 1;
    for (size_t d = 1; d < x.rank(); ++d) per_sample *= x.dims[d].value;
    for (size_t i = 1; i < 5; ++i) {
      const std::optional<int64_t> n = static_numel(ctx.shape(i));
      ctx.check(!n || *n == per_sample, "input ", i, " (", kNames[i], ") has ", n.value_or(0),
                " elements but spatial=0 needs C x D1 x ... x Dn = ", per_sample);
    }
  }

  if (ctx.opset >= 14) {
    const int64_t training = ctx.attr().get_int("training_mode", 0);
    ctx.check(training == 0 || training == 1, "training_mode must be 0 or 1, got ", training);
    ctx.check(ctx.num_outputs() <= 3, "has ", ctx.num_outputs(),
              " outputs; opset >= 14 allows Y, running_mean, running_var");
    ctx.check(training == 1 || ctx.num_outputs() == 1,
              "running_mean/running_var outputs need training_mode=1");
  } else if (ctx.opset < 7 && ctx.attr().get_int("is_test", 0) != 0) {
    ctx.check(ctx.num_outputs() == 1, "is_test=1 allows only the Y output");
  }

  same_as_input(ctx, 0);
  for (size_t o = 1; o < ctx.num_outputs(); ++o) {
    ctx.output(o).dtype = ctx.dtype(3);
    ctx.output(o).shape = ctx.shape(3);
  }
}

void infer_InstanceNormalization(InferContext& ctx) {
  require_float(ctx, 0, "input");
  require_same_dtype(ctx, 1, 0, "scale", "input");
  require_same_dtype(ctx, 2, 0, "B", "input");
  check_epsilon(ctx);
  require_min_rank(ctx, 0, 2, "N x C x D1 ... Dn");
  const Dim c = channel_dim(ctx.shape(0));
  check_vector_param(ctx, 1, "scale", c, "the channel count");
  check_vector_param(ctx, 2, "B", c, "the channel count");
  same_as_input(ctx, 0);
}

// Mean and InvStdDev have X's leading dims up to `axis` and 1 after, in stash_type.
void infer_LayerNormalization(InferContext& ctx) {
  require_float(ctx, 0, "X");
  require_same_dtype(ctx, 1, 0, "Scale", "X");
  if (ctx.has_input(2)) require_same_dtype(ctx, 2, 0, "B", "X");
  check_epsilon(ctx);
  const DType stash = read_stash_type(ctx);
  const Shape& x = ctx.shape(0);
  check_broadcastable_to(ctx, 1, "Scale", x);
  if (ctx.has_input(2)) check_broadcastable_to(ctx, 2, "B", x);
  Shape stats = Shape::unknown_rank();
  if (x.rank_known) {
    const int64_t rank = static_cast<int64_t>(x.rank());
    ctx.check(rank >= 1, "X must have rank >= 1");
    const int64_t axis = normalize_axis(ctx, ctx.attr().get_int("axis", -1), rank);
    stats = x;
    for (size_t d = static_cast<size_t>(axis); d < x.rank(); ++d) stats.dims[d] = Dim::of(1);
  }
  same_as_input(ctx, 0);
  for (size_t o = 1; o < ctx.num_outputs(); ++o) {
    ctx.output(o).dtype = stash;
    ctx.output(o).shape = stats;
  }
}

// Opset 18: scale/bias hold one value per group; opset 21: one per channel. An opset-18
// model whose scale has C values (as some exporters wrote) is read per channel.
void infer_GroupNormalization(InferContext& ctx) {
  require_float(ctx, 0, "X");
  require_same_dtype(ctx, 1, 0, "scale", "X");
  require_same_dtype(ctx, 2, 0, "bias", "X");
  check_epsilon(ctx);
  if (ctx.opset >= 21) read_stash_type(ctx);
  ctx.check(ctx.attr().has("num_groups"), "attribute num_groups is required");
  const int64_t groups = ctx.attr().get_int("num_groups");
  ctx.check(groups >= 1, "num_groups must be >= 1, got ", groups);
  require_min_rank(ctx, 0, 2, "N x C x D1 ... Dn");
  const Dim c = channel_dim(ctx.shape(0));
  if (c.is_static()) {
    ctx.check(c.value % groups == 0, "num_groups ", groups, " does not divide the ", c.value,
              " channels");
  }
  for (size_t i = 1; i < 3; ++i) {
    const char* name = i == 1 ? "scale" : "bias";
    if (ctx.opset >= 21) {
      check_vector_param(ctx, i, name, c, "the channel count");
      continue;
    }
    const Shape& s = ctx.shape(i);
    if (!s.rank_known) continue;
    ctx.check(s.rank() == 1, "input ", i, " (", name, ") must be 1-D, got shape ",
              s.to_string());
    const Dim& n = s.dims[0];
    if (n.is_static()) {
      const bool per_channel = c.is_static() && n.value == c.value;
      ctx.check(n.value == groups || per_channel, "input ", i, " (", name, ") has ", n.value,
                " elements but num_groups is ", groups);
    }
  }
  same_as_input(ctx, 0);
}

// Y takes Scale's type (V), which may differ from X's (T).
void infer_RMSNormalization(InferContext& ctx) {
  require_float(ctx, 0, "X");
  require_float(ctx, 1, "scale");
  check_epsilon(ctx);
  read_stash_type(ctx);
  const Shape& x = ctx.shape(0);
  check_broadcastable_to(ctx, 1, "scale", x);
  if (x.rank_known) {
    const int64_t rank = static_cast<int64_t>(x.rank());
    ctx.check(rank >= 1, "X must have rank >= 1");
    normalize_axis(ctx, ctx.attr().get_int("axis", -1), rank);
  }
  ctx.output(0).dtype = ctx.dtype(1);
  ctx.output(0).shape = x;
}

void infer_LpNormalization(InferContext& ctx) {
  require_float(ctx, 0, "input");
  const int64_t p = ctx.attr().get_int("p", 2);
  ctx.check(p == 1 || p == 2, "p must be 1 or 2, got ", p);
  const Shape& x = ctx.shape(0);
  if (x.rank_known) {
    const int64_t rank = static_cast<int64_t>(x.rank());
    ctx.check(rank >= 1, "input must have rank >= 1");
    normalize_axis(ctx, ctx.attr().get_int("axis", -1), rank);
  }
  same_as_input(ctx, 0);
}

void infer_MeanVarianceNormalization(InferContext& ctx) {
  require_float(ctx, 0, "X");
  const std::vector<int64_t> axes = ctx.attr().get_ints("axes", {0, 2, 3});
  const Shape& x = ctx.shape(0);
  if (x.rank_known) {
    const int64_t rank = static_cast<int64_t>(x.rank());
    std::set<int64_t> seen;
    for (int64_t a : axes) {
      const int64_t n = normalize_axis(ctx, a, rank);
      ctx.check(seen.insert(n).second, "axes lists axis ", a, " twice");
    }
  }
  same_as_input(ctx, 0);
}

void infer_LRN(InferContext& ctx) {
  require_float(ctx, 0, "X");
  ctx.check(ctx.attr().has("size"), "attribute size is required");
  const int64_t size = ctx.attr().get_int("size");
  ctx.check(size >= 1, "size must be >= 1, got ", size);
  const float alpha = ctx.attr().get_float("alpha", 1e-4f);
  const float beta = ctx.attr().get_float("beta", 0.75f);
  const float bias = ctx.attr().get_float("bias", 1.0f);
  ctx.check(std::isfinite(alpha) && std::isfinite(beta) && std::isfinite(bias),
            "alpha, beta and bias must be finite");
  require_min_rank(ctx, 0, 2, "N x C x D1 ... Dn");
  same_as_input(ctx, 0);
}

}  // namespace kiln
