// Gradient rules of Softmax, LogSoftmax and SoftmaxCrossEntropyLoss.
//   Softmax:    dx = y * (dy - sum(dy * y))
//   LogSoftmax: dx = dy - exp(y) * sum(dy)
// (sums along the softmax axis). The loss uses the fused KilnSoftmaxCrossEntropyGrad kernel.
#include "train/gradient_rules.h"

namespace kiln::train {

namespace {
using enum OpKind;

// The softmax axis. Before opset 13 the op flattened [axis:] into one axis, which equals the
// per-axis form only when axis is the last one.
int64_t softmax_axis(GradContext& ctx) {
  const int64_t r = ctx.rank(ctx.x(0));
  const bool old = ctx.node().opset < 13;
  int64_t axis = ctx.attr_int("axis", old ? 1 : -1);
  if (axis < 0) axis += r;
  ctx.check(axis >= 0 && axis < r, "axis ", axis, " is out of range for rank ", r);
  ctx.check(!old || axis == r - 1,
            "opset < 13 softmax over the flattened axes [", axis, ":] has no gradient rule");
  return axis;
}

Value* sum_along(GradContext& ctx, Value* v, int64_t axis) {
  return ctx.op(ReduceSum, {v, ctx.ints({axis})}, make_attrs({{"keepdims", Attribute::of_int(1)}}));
}

// d log_softmax(x) along `axis`, given the output y and its gradient g.
Value* log_softmax_backward(GradContext& ctx, Value* y, Value* g, int64_t axis) {
  Value* p = ctx.op(Exp, {y});
  return ctx.op(Sub, {g, ctx.op(Mul, {p, sum_along(ctx, g, axis)})});
}
}  // namespace

void grad_Softmax(GradContext& ctx) {
  const int64_t axis = softmax_axis(ctx);
  Value* y = ctx.y(0);
  Value* s = sum_along(ctx, ctx.op(Mul, {ctx.dy(0), y}), axis);
  ctx.set_dx(0, ctx.op(Mul, {y, ctx.op(Sub, {ctx.dy(0), s})}));
}

void grad_LogSoftmax(GradContext& ctx) {
  ctx.set_dx(0, log_softmax_backward(ctx, ctx.y(0), ctx.dy(0), softmax_axis(ctx)));
}

// Inputs (scores, labels[, weights]); outputs (loss[, log_prob]).
void grad_SoftmaxCrossEntropyLoss(GradContext& ctx) {
  ctx.check(!ctx.needs(2), "the gradient with respect to the class weights is not supported");
  Value* d = nullptr;
  if (ctx.dy(0)) {
    Attributes a;
    a.set("reduction", Attribute::of_string(ctx.node().attrs.get_string("reduction", "mean")));
    if (const Attribute* ig = ctx.node().attrs.find("ignore_index")) a.set("ignore_index", *ig);
    std::vector<Value*> ins = {ctx.dy(0), ctx.x(0), ctx.x(1)};
    if (ctx.x(2)) ins.push_back(ctx.x(2));
    d = ctx.op(KilnSoftmaxCrossEntropyGrad, ins, std::move(a));
  }
  if (ctx.dy(1)) {  // log_prob is log_softmax over the class axis (1)
    Value* g = log_softmax_backward(ctx, ctx.y(1), ctx.dy(1), 1);
    d = d ? ctx.op(Add, {d, g}) : g;
  }
  ctx.set_dx(0, d);
}

}  // namespace kiln::train
