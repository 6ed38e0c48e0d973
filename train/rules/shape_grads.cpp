// Gradient rules of the shape and data-movement ops. Each moves dY back to where the forward
// op took its elements from: reshapes reshape back, Transpose applies the inverse permutation,
// Concat/Split and Slice/Pad are each other's adjoints, Gather scatter-adds (KilnGatherGrad),
// Expand sums over the broadcast axes.
#include "ir/infer/shape_args.h"
#include "train/gradient_rules.h"

namespace kiln::train {

namespace {
using enum OpKind;

// The forward node's arguments as the shared resolvers in ir/infer/shape_args.h read them.
OpArgs forward_args(const GradContext& ctx) {
  const Node& n = ctx.node();
  OpArgs a;
  a.opset = n.opset;
  a.attrs = &n.attrs;
  a.where = ctx.where();
  for (const Value* v : n.inputs()) {
    a.present.push_back(v != nullptr);
    a.values.push_back(v && v->constant ? &*v->constant : nullptr);
  }
  return a;
}

void reshape_back(GradContext& ctx) { ctx.set_dx(0, ctx.reshape_like(ctx.dy(0), ctx.x(0))); }

Value* slice(GradContext& ctx, Value* v, const std::vector<int64_t>& starts,
             const std::vector<int64_t>& ends, const std::vector<int64_t>& axes) {
  return ctx.op(Slice, {v, ctx.ints(starts), ctx.ints(ends), ctx.ints(axes)});
}
}  // namespace

void grad_Reshape(GradContext& ctx) { reshape_back(ctx); }
void grad_Flatten(GradContext& ctx) { reshape_back(ctx); }
void grad_Squeeze(GradContext& ctx) { reshape_back(ctx); }
void grad_Unsqueeze(GradContext& ctx) { reshape_back(ctx); }

void grad_Transpose(GradContext& ctx) {
  const int64_t r = ctx.rank(ctx.x(0));
  std::vector<int64_t> perm = ctx.node().attrs.get_ints("perm");
  if (perm.empty()) {
    for (int64_t i = r - 1; i >= 0; --i) perm.push_back(i);
  }
  ctx.check(static_cast<int64_t>(perm.size()) == r, "perm does not match rank ", r);
  std::vector<int64_t> inverse(perm.size());
  for (size_t i = 0; i < perm.size(); ++i) inverse[static_cast<size_t>(perm[i])] = static_cast<int64_t>(i);
  ctx.set_dx(0, ctx.op(Transpose, {ctx.dy(0)}, make_attrs({{"perm", Attribute::of_ints(inverse)}})));
}

// Input i's gradient is dY's slice [offset_i, offset_i + size_i) along the axis.
void grad_Concat(GradContext& ctx) {
  const int64_t r = ctx.rank(ctx.y(0));
  int64_t axis = ctx.attr_int("axis", 0);
  if (axis < 0) axis += r;
  int64_t offset = 0;
  for (size_t i = 0; i < ctx.node().inputs().size(); ++i) {
    const Dim& d = ctx.shape(ctx.x(i)).dims.at(static_cast<size_t>(axis));
    ctx.check(d.is_static(), "input ", i, " needs a static size along axis ", axis);
    if (ctx.needs(i)) ctx.set_dx(i, slice(ctx, ctx.dy(0), {offset}, {offset + d.value}, {axis}));
    offset += d.value;
  }
}

// dX = Concat of the output gradients (zeros where none flows).
void grad_Split(GradContext& ctx) {
  const int64_t r = ctx.rank(ctx.x(0));
  int64_t axis = ctx.attr_int("axis", 0);
  if (axis < 0) axis += r;
  std::vector<Value*> parts;
  for (size_t i = 0; i < ctx.node().outputs().size(); ++i) parts.push_back(ctx.dy_or_zeros(i));
  ctx.set_dx(0, ctx.op(Concat, parts, make_attrs({{"axis", Attribute::of_int(axis)}})));
}

// Step-1 slices: dX = dY zero-padded back to X's extent.
void grad_Slice(GradContext& ctx) {
  const int64_t r = ctx.rank(ctx.x(0));
  const OpArgs args = forward_args(ctx);
  const auto spec = slice_spec(args, r);
  ctx.check(spec.has_value(), "starts, ends, axes and steps must be constants");
  std::vector<int64_t> pads(static_cast<size_t>(2 * r), 0);
  for (const SliceAxisSpec& s : *spec) {
    ctx.check(s.step == 1, "slices with step ", s.step, " have no gradient rule (step 1 only)");
    const Dim& d = ctx.shape(ctx.x(0)).dims[static_cast<size_t>(s.axis)];
    ctx.check(d.is_static(), "X needs a static size along sliced axis ", s.axis);
    const SliceRange range = clamp_slice(s.start, s.end, s.step, d.value);
    pads[static_cast<size_t>(s.axis)] = range.start;
    pads[static_cast<size_t>(s.axis + r)] = d.value - range.start - range.count;
  }
  ctx.set_dx(0, ctx.op(Pad, {ctx.dy(0), ctx.ints(pads)}));
}

void grad_Gather(GradContext& ctx) {
  ctx.set_dx(0, ctx.op(KilnGatherGrad, {ctx.dy(0), ctx.x(0), ctx.x(1)},
                       make_attrs({{"axis", Attribute::of_int(ctx.attr_int("axis", 0))}})));
}

void grad_Expand(GradContext& ctx) { ctx.set_dx(0, ctx.sum_to(ctx.dy(0), ctx.x(0))); }

// Constant-mode Pad with non-negative pads: dX is dY's interior.
void grad_Pad(GradContext& ctx) {
  ctx.check(!ctx.needs(2), "the gradient with respect to constant_value is not supported");
  const int64_t r = ctx.rank(ctx.x(0));
  const OpArgs args = forward_args(ctx);
  ctx.check(pad_mode(args) == PadMode::Constant, "only mode 'constant' has a gradient rule");
  const auto pads = pad_amounts(args, r);
  ctx.check(pads.has_value(), "pads must be constant");
  std::vector<int64_t> starts, ends, axes;
  for (int64_t i = 0; i < r; ++i) {
    const int64_t b = (*pads)[static_cast<size_t>(i)], e = (*pads)[static_cast<size_t>(i + r)];
    ctx.check(b >= 0 && e >= 0, "negative pads have no gradient rule");
    if (b == 0 && e == 0) continue;
    const Dim& d = ctx.shape(ctx.x(0)).dims[static_cast<size_t>(i)];
    ctx.check(d.is_static(), "X needs a static size along padded axis ", i);
    starts.push_back(b);
    ends.push_back(b + d.value);
    axes.push_back(i);
  }
  ctx.set_dx(0, axes.empty() ? ctx.dy(0) : slice(ctx, ctx.dy(0), starts, ends, axes));
}

// Inference-mode Dropout is the identity. In training mode the kept elements were scaled by
// 1 / (1 - ratio), so dX = mask ? dY / (1 - ratio) : 0, using the saved mask output.
void grad_Dropout(GradContext& ctx) {
  const Node& n = ctx.node();
  bool training = false;
  if (Value* t = ctx.x(2)) {
    ctx.check(t->constant.has_value(), "training_mode must be a constant");
    training = t->constant->as_int64(0) != 0;
  }
  if (!training) {
    ctx.set_dx(0, ctx.dy(0));
    return;
  }
  ctx.check(ctx.y(1) != nullptr, "training-mode Dropout needs its mask output for the gradient");
  double ratio = 0.5;
  if (Value* rv = ctx.x(1)) {
    ctx.check(rv->constant.has_value(), "ratio must be a constant");
    ratio = rv->constant->as_double(0);
  } else if (n.opset < 12) {
    ratio = n.attrs.get_float("ratio", 0.5f);
  }
  const DType dt = ctx.x(0)->type.dtype;
  Value* scaled = ctx.op(Mul, {ctx.dy(0), ctx.scalar(ratio < 1 ? 1.0 / (1.0 - ratio) : 0.0, dt)});
  ctx.set_dx(0, ctx.op(Where, {ctx.y(1), scaled, ctx.scalar(0.0, dt)}));
}

}  // namespace kiln::train
