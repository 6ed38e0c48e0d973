// Shape inference for data-movement ops: Transpose, Concat, Split, Slice, Pad,
// DepthToSpace, SpaceToDepth, Trilu, ReverseSequence, CenterCropPad, Dropout.
#include <algorithm>
#include <limits>

#include "ir/infer/shape_args.h"
#include "ir/infer_util.h"

namespace kiln {

namespace {

// Two dims that must be equal: keep the more informative one; fail on static mismatch.
Dim merge_dim(const InferContext& ctx, const Dim& a, const Dim& b, size_t axis) {
  if (a.is_static() && b.is_static()) {
    ctx.check(a.value == b.value, "dimension ", axis, " differs: ", a.value, " vs ", b.value);
    return a;
  }
  if (a.is_static()) return a;
  if (b.is_static()) return b;
  return a.symbol.empty() ? b : a;
}

}  // namespace

void infer_Transpose(InferContext& ctx) {
  ctx.output(0).dtype = ctx.dtype(0);
  const Shape& in = ctx.shape(0);
  const bool has_perm = ctx.attr().has("perm");
  std::vector<int64_t> perm = ctx.attr().get_ints("perm");
  if (!in.rank_known) {
    ctx.output(0).shape = has_perm ? Shape::of_rank(perm.size()) : Shape::unknown_rank();
    return;
  }
  const size_t r = in.rank();
  if (!has_perm) {
    for (size_t i = 0; i < r; ++i) perm.push_back(static_cast<int64_t>(r - 1 - i));
  }
  ctx.check(perm.size() == r, "perm has ", perm.size(), " entries for rank ", r);
  std::vector<bool> seen(r, false);
  Shape out = Shape::of_rank(r);
  for (size_t i = 0; i < r; ++i) {
    const int64_t p = perm[i];
    ctx.check(p >= 0 && p < static_cast<int64_t>(r) && !seen[static_cast<size_t>(p)], "perm entry ",
              p, " is out of range or repeated");
    seen[static_cast<size_t>(p)] = true;
    out.dims[i] = in.dims[static_cast<size_t>(p)];
  }
  ctx.output(0).shape = out;
}

void infer_Concat(InferContext& ctx) {
  ctx.check(ctx.attr().has("axis"), "attribute 'axis' is required");
  const int64_t axis_attr = ctx.attr().get_int("axis");
  ctx.check(ctx.num_inputs() >= 1, "needs at least one input");
  const DType dt = ctx.dtype(0);
  const Shape* ref = nullptr;
  for (size_t i = 0; i < ctx.num_inputs(); ++i) {
    ctx.check(ctx.dtype(i) == dt, "input ", i, " is ", dtype_name(ctx.dtype(i)), ", expected ",
              dtype_name(dt));
    if (ctx.shape(i).rank_known) {
      if (ref) {
        ctx.check(ctx.shape(i).rank() == ref->rank(), "input ", i, " has rank ",
                  ctx.shape(i).rank(), ", expected ", ref->rank());
      } else {
        ref = &ctx.shape(i);
      }
    }
  }
  ctx.output(0).dtype = dt;
  if (!ref) {
    ctx.output(0).shape = Shape::unknown_rank();
    return;
  }
  const int64_t r = static_cast<int64_t>(ref->rank());
  ctx.check(r >= 1, "inputs must have rank >= 1");
  const size_t axis = static_cast<size_t>(normalize_axis(ctx, axis_attr, r));
  Shape out = *ref;
  out.dims[axis] = Dim::of(0);
  bool all_known = true;
  for (size_t i = 0; i < ctx.num_inputs(); ++i) {
    const Shape& s = ctx.shape(i);
    if (!s.rank_known) {
      all_known = false;
      continue;
    }
    for (size_t d = 0; d < s.rank(); ++d) {
      if (d == axis) {
        out.dims[d] = dim_add_checked(ctx, out.dims[d], s.dims[d]);
      } else {
        out.dims[d] = merge_dim(ctx, out.dims[d], s.dims[d], d);
      }
    }
  }
  if (!all_known) out.dims[axis] = Dim::unknown();
  ctx.output(0).shape = out;
}

void infer_Split(InferContext& ctx) {
  const OpArgs a = op_args(ctx);
  const Shape& in = ctx.shape(0);
  const size_t n = ctx.num_outputs();
  for (size_t i = 0; i < n; ++i) ctx.output(i).dtype = ctx.dtype(0);
  const int64_t axis_attr = ctx.attr().get_int("axis", 0);
  if (!in.rank_known) {
    split_sizes(a, -1, n);  // still validates what it can
    for (size_t i = 0; i < n; ++i) ctx.output(i).shape = Shape::unknown_rank();
    return;
  }
  const size_t axis = static_cast<size_t>(norm_axis(a, axis_attr, static_cast<int64_t>(in.rank())));
  const Dim& d = in.dims[axis];
  auto sizes = split_sizes(a, d.is_static() ? d.value : -1, n);
  for (size_t i = 0; i < n; ++i) {
    Shape s = in;
    s.dims[axis] = sizes ? Dim::of((*sizes)[i]) : Dim::unknown();
    ctx.output(i).shape = s;
  }
}

void infer_Slice(InferContext& ctx) {
  const OpArgs a = op_args(ctx);
  ctx.output(0).dtype = ctx.dtype(0);
  const Shape& in = ctx.shape(0);
  if (!in.rank_known) {
    ctx.output(0).shape = Shape::unknown_rank();
    return;
  }
  const int64_t r = static_cast<int64_t>(in.rank());
  Shape out = in;
  auto spec = slice_spec(a, r);
  if (!spec) {
    // Values unknown: only the sliced axes change, if we know which they are.
    std::optional<std::vector<int64_t>> axes;
    if (a.has(3)) {
      if (auto x = a.ints(3, "axes")) axes = norm_axes(a, *x, r);
    } else {
      const Shape& ss = ctx.shape(1);
      if (ss.rank_known && ss.rank() == 1 && ss.dims[0].is_static() && ss.dims[0].value <= r) {
        axes.emplace();
        for (int64_t i = 0; i < ss.dims[0].value; ++i) axes->push_back(i);
      }
    }
    if (!axes) {
      out = Shape::of_rank(in.rank());
    } else {
      for (int64_t ax : *axes) out.dims[static_cast<size_t>(ax)] = Dim::unknown();
    }
    ctx.output(0).shape = out;
    return;
  }
  constexpr int64_t kBig = std::numeric_limits<int32_t>::max();
  for (const SliceAxisSpec& s : *spec) {
    Dim& d = out.dims[static_cast<size_t>(s.axis)];
    if (d.is_static()) {
      d = Dim::of(clamp_slice(s.start, s.end, s.step, d.value).count);
    } else if (!((s.step == 1 && s.start == 0 && s.end >= kBig) ||
                 (s.step == -1 && (s.start == -1 || s.start >= kBig) && s.end <= -kBig))) {
      d = Dim::unknown();  // a whole-axis slice (forward or reversed) keeps the symbol
    }
  }
  ctx.output(0).shape = out;
}

void infer_Pad(InferContext& ctx) {
  const OpArgs a = op_args(ctx);
  ctx.output(0).dtype = ctx.dtype(0);
  const PadMode mode = pad_mode(a);
  if (ctx.opset >= 11 && ctx.has_input(2)) {
    ctx.check(ctx.dtype(2) == ctx.dtype(0), "constant_value is ", dtype_name(ctx.dtype(2)),
              " but data is ", dtype_name(ctx.dtype(0)));
  }
  const Shape& in = ctx.shape(0);
  if (!in.rank_known) {
    ctx.output(0).shape = Shape::unknown_rank();
    return;
  }
  const int64_t r = static_cast<int64_t>(in.rank());
  auto pads = pad_amounts(a, r);
  Shape out = Shape::of_rank(in.rank());
  if (pads) {
    for (int64_t i = 0; i < r; ++i) {
      const size_t u = static_cast<size_t>(i);
      const int64_t b = (*pads)[u], e = (*pads)[u + static_cast<size_t>(r)];
      const Dim& d = in.dims[u];
      if (!d.is_static()) {
        if (b == 0 && e == 0) out.dims[u] = d;
        continue;
      }
      const __int128 n = static_cast<__int128>(d.value) + b + e;
      ctx.check(n >= 0 && n <= std::numeric_limits<int64_t>::max(), "pads ", b, ", ", e,
                " on axis ", i, " of size ", d.value, " give an invalid size");
      // Non-constant modes read from the data that remains after cropping.
      const int64_t kept = d.value - std::max<int64_t>(-b, 0) - std::max<int64_t>(-e, 0);
      ctx.check(mode == PadMode::Constant || (b <= 0 && e <= 0) || kept > 0, "cannot pad axis ", i,
                " in this mode: no data left to copy from");
      out.dims[u] = Dim::of(static_cast<int64_t>(n));
    }
  }
  ctx.output(0).shape = out;
}

static void infer_depth_space(InferContext& ctx, bool to_space) {
  ctx.output(0).dtype = ctx.dtype(0);
  ctx.check(ctx.attr().has("blocksize"), "attribute 'blocksize' is required");
  const int64_t b = ctx.attr().get_int("blocksize");
  ctx.check(b >= 1 && b <= (int64_t{1} << 20), "blocksize ", b, " is invalid");
  if (to_space && ctx.opset >= 11) {
    const std::string mode = ctx.attr().get_string("mode", "DCR");
    ctx.check(mode == "DCR" || mode == "CRD", "mode '", mode, "' must be DCR or CRD");
  }
  const Shape& in = ctx.shape(0);
  ctx.check(!in.rank_known || in.rank() == 4, "input must be 4-D, got ", in.to_string());
  Shape out = Shape::of_rank(4);
  if (!in.rank_known) {
    ctx.output(0).shape = out;
    return;
  }
  out.dims[0] = in.dims[0];
  const Dim& c = in.dims[1];
  if (to_space) {
    if (c.is_static()) {
      ctx.check(c.value % (b * b) == 0, "channels ", c.value, " not divisible by blocksize^2 ",
                b * b);
      out.dims[1] = Dim::of(c.value / (b * b));
    }
    for (size_t i = 2; i < 4; ++i) {
      out.dims[i] = dim_mul_checked(ctx, in.dims[i], Dim::of(b));
    }
  } else {
    out.dims[1] = dim_mul_checked(ctx, c, Dim::of(b * b));
    for (size_t i = 2; i < 4; ++i) {
      if (!in.dims[i].is_static()) continue;
      ctx.check(in.dims[i].value % b == 0, "spatial size ", in.dims[i].value,
                " not divisible by blocksize ", b);
      out.dims[i] = Dim::of(in.dims[i].value / b);
    }
  }
  ctx.output(0).shape = out;
}

void infer_DepthToSpace(InferContext& ctx) { infer_depth_space(ctx, true); }
void infer_SpaceToDepth(InferContext& ctx) { infer_depth_space(ctx, false); }

void infer_Trilu(InferContext& ctx) {
  const OpArgs a = op_args(ctx);
  const Shape& in = ctx.shape(0);
  ctx.check(!in.rank_known || in.rank() >= 2, "input must have rank >= 2, got ", in.to_string());
  if (ctx.has_input(1)) a.int_scalar(1, "k");
  same_as_input(ctx);
}

void infer_ReverseSequence(InferContext& ctx) {
  const int64_t batch = ctx.attr().get_int("batch_axis", 1);
  const int64_t time = ctx.attr().get_int("time_axis", 0);
  ctx.check((batch == 0 || batch == 1) && (time == 0 || time == 1) && batch != time, "batch_axis ",
            batch, " and time_axis ", time, " must be 0 and 1 in some order");
  const Shape& in = ctx.shape(0);
  ctx.check(!in.rank_known || in.rank() >= 2, "input must have rank >= 2, got ", in.to_string());
  ctx.check(ctx.dtype(1) == DType::I64, "sequence_lens must be i64, got ",
            dtype_name(ctx.dtype(1)));
  const Shape& lens = ctx.shape(1);
  ctx.check(!lens.rank_known || lens.rank() == 1, "sequence_lens must be 1-D, got ",
            lens.to_string());
  if (in.rank_known && lens.rank_known) {
    const Dim& bd = in.dims[static_cast<size_t>(batch)];
    ctx.check(!bd.is_static() || !lens.dims[0].is_static() || bd.value == lens.dims[0].value,
              "sequence_lens has ", lens.dims[0].value, " entries for batch ", bd.value);
  }
  same_as_input(ctx);
}

void infer_CenterCropPad(InferContext& ctx) {
  const OpArgs a = op_args(ctx);
  ctx.output(0).dtype = ctx.dtype(0);
  const Shape& in = ctx.shape(0);
  auto target = a.ints(1, "shape");
  if (!in.rank_known) {
    ctx.output(0).shape = Shape::unknown_rank();
    return;
  }
  const int64_t r = static_cast<int64_t>(in.rank());
  std::vector<int64_t> axes;
  if (ctx.attr().has("axes")) {
    axes = norm_axes(a, ctx.attr().get_ints("axes"), r);
  } else {
    for (int64_t i = 0; i < r; ++i) axes.push_back(i);
  }
  Shape out = in;
  if (!target) {
    for (int64_t ax : axes) out.dims[static_cast<size_t>(ax)] = Dim::unknown();
  } else {
    ctx.check(target->size() == axes.size(), "shape has ", target->size(), " values for ",
              axes.size(), " axes");
    for (size_t i = 0; i < axes.size(); ++i) {
      ctx.check((*target)[i] >= 0, "shape value ", (*target)[i], " is negative");
      out.dims[static_cast<size_t>(axes[i])] = Dim::of((*target)[i]);
    }
  }
  ctx.output(0).shape = out;
}

void infer_Dropout(InferContext& ctx) {
  const DType dt = ctx.dtype(0);
  ctx.check(is_float(dt), "input must be a float tensor, got ", dtype_name(dt));
  if (ctx.opset >= 12) {
    if (ctx.has_input(1)) {
      ctx.check(is_float(ctx.dtype(1)), "ratio must be a float, got ", dtype_name(ctx.dtype(1)));
      if (const Tensor* r = ctx.value(1)) {
        ctx.check(r->numel() == 1, "ratio must be a scalar, got ", r->describe());
        const double v = r->as_double(0);
        ctx.check(v >= 0 && v < 1, "ratio ", v, " must be in [0, 1)");
      }
    }
    if (ctx.has_input(2)) {
      ctx.check(ctx.dtype(2) == DType::Bool, "training_mode must be bool, got ",
                dtype_name(ctx.dtype(2)));
    }
  } else {
    ctx.check(!ctx.has_input(1), "before opset 12 ratio is an attribute, not an input");
    const float v = ctx.attr().get_float("ratio", 0.5f);
    ctx.check(v >= 0 && v < 1, "ratio ", v, " must be in [0, 1)");
  }
  same_as_input(ctx);
  if (ctx.num_outputs() > 1) {
    ctx.output(1).dtype = ctx.opset < 10 ? dt : DType::Bool;
    ctx.output(1).shape = ctx.shape(0);
  }
}

}  // namespace kiln
