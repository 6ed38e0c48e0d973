// Shape inference for the ops that only reinterpret or replicate a shape:
// Reshape, Flatten, Squeeze, Unsqueeze, Expand, Tile.
#include <algorithm>
#include <limits>

#include "ir/infer/shape_args.h"
#include "ir/infer_util.h"

namespace kiln {

namespace {

// Product that fails instead of wrapping.
int64_t mul_checked(const InferContext& ctx, int64_t a, int64_t b) {
  if (a != 0 && b > std::numeric_limits<int64_t>::max() / a) ctx.fail("element count overflows");
  return a * b;
}

// The dim that a Reshape -1 stands for: numel(in) / product(others), cancelling equal symbols
// so that e.g. [batch,3,4] -> [batch,-1] gives [batch,12] and [b,s,8] -> [-1,8] gives [?,8].
Dim solve_minus_one(const InferContext& ctx, const Shape& in, const std::vector<Dim>& others) {
  int64_t in_static = 1, out_static = 1;
  std::vector<std::string> in_syms, out_syms;
  for (const Dim& d : in.dims) {
    if (d.is_static()) {
      in_static = mul_checked(ctx, in_static, d.value);
    } else if (d.symbol.empty()) {
      return Dim::unknown();
    } else {
      in_syms.push_back(d.symbol);
    }
  }
  if (in_static == 0) return Dim::of(0);
  for (const Dim& d : others) {
    if (d.is_static()) {
      out_static = mul_checked(ctx, out_static, d.value);
    } else if (d.symbol.empty()) {
      return Dim::unknown();
    } else {
      auto it = std::find(in_syms.begin(), in_syms.end(), d.symbol);
      if (it == in_syms.end()) {
        out_syms.push_back(d.symbol);
      } else {
        in_syms.erase(it);
      }
    }
  }
  ctx.check(out_static != 0, "cannot infer the -1 dimension when another dimension is 0");
  if (!out_syms.empty()) return Dim::unknown();
  if (in_syms.empty()) {
    ctx.check(in_static % out_static == 0, "cannot reshape ", in.to_string(), ": ", in_static,
              " elements do not divide by ", out_static);
    return Dim::of(in_static / out_static);
  }
  if (in_syms.size() == 1 && in_static == out_static) return Dim::sym(in_syms[0]);
  return Dim::unknown();
}

// Length of a 1-D axes input whose values are unknown, or -1.
int64_t axes_count(const InferContext& ctx) {
  if (!ctx.has_input(1)) return -1;
  const Shape& s = ctx.shape(1);
  return s.rank_known && s.rank() == 1 && s.dims[0].is_static() ? s.dims[0].value : -1;
}

}  // namespace

void infer_Reshape(InferContext& ctx) {
  const OpArgs a = op_args(ctx);
  ctx.check(ctx.opset >= 5, "opset ", ctx.opset, " Reshape (shape attribute) is not supported");
  ctx.check(ctx.has_input(1), "input 'shape' is required");
  ctx.output(0).dtype = ctx.dtype(0);
  const bool allowzero = ctx.opset >= 14 && ctx.attr().get_int("allowzero", 0) != 0;
  const Shape& in = ctx.shape(0);
  auto target = a.ints(1, "shape");
  if (!target) {
    const Shape& ts = ctx.shape(1);
    ctx.output(0).shape = ts.rank_known && ts.rank() == 1 && ts.dims[0].is_static()
                              ? Shape::of_rank(static_cast<size_t>(ts.dims[0].value))
                              : Shape::unknown_rank();
    return;
  }
  Shape out = Shape::of_rank(target->size());
  int64_t minus_one = -1;
  bool has_zero = false;
  std::vector<Dim> others;
  for (size_t i = 0; i < target->size(); ++i) {
    const int64_t v = (*target)[i];
    if (v == -1) {
      ctx.check(minus_one < 0, "shape ", dims_to_string(*target), " has more than one -1");
      minus_one = static_cast<int64_t>(i);
      continue;
    }
    ctx.check(v >= 0, "shape value ", v, " at index ", i, " is invalid");
    if (v == 0 && !allowzero) {
      if (in.rank_known) {
        ctx.check(i < in.rank(), "shape value 0 at index ", i, " copies a dimension the rank-",
                  in.rank(), " input does not have");
        out.dims[i] = in.dims[i];
      }
    } else {
      has_zero = has_zero || v == 0;
      out.dims[i] = Dim::of(v);
    }
    others.push_back(out.dims[i]);
  }
  ctx.check(!(has_zero && minus_one >= 0), "allowzero shape ", dims_to_string(*target),
            " has both 0 and -1");
  if (minus_one >= 0 && in.rank_known) {
    out.dims[static_cast<size_t>(minus_one)] = solve_minus_one(ctx, in, others);
  }
  if (in.is_static() && out.is_static()) {
    ctx.check(checked_numel(in.static_dims()) == checked_numel(out.static_dims()),
              "cannot reshape ", in.to_string(), " to ", out.to_string());
  }
  ctx.output(0).shape = out;
}

void infer_Flatten(InferContext& ctx) {
  ctx.output(0).dtype = ctx.dtype(0);
  const Shape& in = ctx.shape(0);
  const int64_t axis_attr = ctx.attr().get_int("axis", 1);
  if (!in.rank_known) {
    ctx.output(0).shape = Shape::of_rank(2);
    return;
  }
  const int64_t r = static_cast<int64_t>(in.rank());
  ctx.check(axis_attr >= -r && axis_attr <= r, "axis ", axis_attr, " is out of range for rank ", r);
  const int64_t axis = axis_attr < 0 ? axis_attr + r : axis_attr;
  Dim outer = Dim::of(1), inner = Dim::of(1);
  for (int64_t i = 0; i < r; ++i) {
    Dim& acc = i < axis ? outer : inner;
    acc = dim_mul_checked(ctx, acc, in.dims[static_cast<size_t>(i)]);
  }
  Shape out = Shape::of_rank(2);
  out.dims = {outer, inner};
  ctx.output(0).shape = out;
}

void infer_Squeeze(InferContext& ctx) {
  const OpArgs a = op_args(ctx);
  ctx.output(0).dtype = ctx.dtype(0);
  const Shape& in = ctx.shape(0);
  bool given = false;
  auto axes = squeeze_axes(a, &given);
  if (!axes || !in.rank_known) {
    const int64_t k = axes ? static_cast<int64_t>(axes->size()) : axes_count(ctx);
    ctx.output(0).shape = in.rank_known && k >= 0 && k <= static_cast<int64_t>(in.rank())
                              ? Shape::of_rank(in.rank() - static_cast<size_t>(k))
                              : Shape::unknown_rank();
    return;
  }
  const int64_t r = static_cast<int64_t>(in.rank());
  Shape out = Shape::of_rank(0);
  if (!given) {
    for (const Dim& d : in.dims) {
      if (!d.is_static()) {  // might or might not be 1
        ctx.output(0).shape = Shape::unknown_rank();
        return;
      }
      if (d.value != 1) out.dims.push_back(d);
    }
    ctx.output(0).shape = out;
    return;
  }
  const std::vector<int64_t> ax = norm_axes(a, *axes, r);
  for (int64_t i = 0; i < r; ++i) {
    const Dim& d = in.dims[static_cast<size_t>(i)];
    if (std::find(ax.begin(), ax.end(), i) != ax.end()) {
      ctx.check(!d.is_static() || d.value == 1, "cannot squeeze axis ", i, " of size ", d.value);
    } else {
      out.dims.push_back(d);
    }
  }
  ctx.output(0).shape = out;
}

void infer_Unsqueeze(InferContext& ctx) {
  const OpArgs a = op_args(ctx);
  ctx.output(0).dtype = ctx.dtype(0);
  const Shape& in = ctx.shape(0);
  bool given = false;
  auto axes = squeeze_axes(a, &given);
  ctx.check(given, "the axes are required");
  if (!in.rank_known || !axes) {
    const int64_t k = axes ? static_cast<int64_t>(axes->size()) : axes_count(ctx);
    ctx.output(0).shape = in.rank_known && k >= 0
                              ? Shape::of_rank(in.rank() + static_cast<size_t>(k))
                              : Shape::unknown_rank();
    return;
  }
  const int64_t r = static_cast<int64_t>(in.rank() + axes->size());
  const std::vector<int64_t> ax = norm_axes(a, *axes, r);
  Shape out = Shape::of_rank(0);
  size_t next = 0;
  for (int64_t i = 0; i < r; ++i) {
    if (std::find(ax.begin(), ax.end(), i) != ax.end()) {
      out.dims.push_back(Dim::of(1));
    } else {
      out.dims.push_back(in.dims[next++]);
    }
  }
  ctx.output(0).shape = out;
}

void infer_Expand(InferContext& ctx) {
  const OpArgs a = op_args(ctx);
  ctx.output(0).dtype = ctx.dtype(0);
  const Shape& in = ctx.shape(0);
  auto target = a.ints(1, "shape");
  if (target) {
    for (int64_t v : *target) ctx.check(v >= 0, "shape value ", v, " is negative");
    ctx.output(0).shape = broadcast_shapes(ctx, in, Shape::of(*target));
    return;
  }
  const Shape& ts = ctx.shape(1);
  if (!in.rank_known || !ts.rank_known || ts.rank() != 1 || !ts.dims[0].is_static()) {
    ctx.output(0).shape = Shape::unknown_rank();
    return;
  }
  // Unknown target values: a non-1 input dim must survive; everything else is unknown.
  const size_t r = std::max(in.rank(), static_cast<size_t>(ts.dims[0].value));
  Shape out = Shape::of_rank(r);
  for (size_t i = 0; i < in.rank(); ++i) {
    const Dim& d = in.dims[i];
    if (d.is_static() && d.value != 1) out.dims[r - in.rank() + i] = d;
  }
  ctx.output(0).shape = out;
}

void infer_Tile(InferContext& ctx) {
  const OpArgs a = op_args(ctx);
  ctx.check(!ctx.has_input(2), "the 'axis' input of Tile-1 is not supported from opset 6");
  ctx.output(0).dtype = ctx.dtype(0);
  const Shape& in = ctx.shape(0);
  auto reps = a.ints(1, "repeats");
  if (!in.rank_known) {
    ctx.output(0).shape = reps ? Shape::of_rank(reps->size()) : Shape::unknown_rank();
    return;
  }
  if (reps) {
    ctx.check(reps->size() == in.rank(), "repeats has ", reps->size(), " values for rank ",
              in.rank());
  }
  Shape out = Shape::of_rank(in.rank());
  for (size_t i = 0; i < in.rank(); ++i) {
    if (!reps) continue;
    const int64_t r = (*reps)[i];
    ctx.check(r >= 0, "repeat ", r, " for axis ", i, " is negative");
    out.dims[i] = in.dims[i].is_static() || r == 0
                      ? Dim::of(r == 0 ? 0 : mul_checked(ctx, in.dims[i].value, r))
                      : dim_mul_checked(ctx, in.dims[i], Dim::of(r));
  }
  ctx.output(0).shape = out;
}

}  // namespace kiln
