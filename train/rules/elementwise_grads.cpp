// Gradient rules of the elementwise unary ops and the broadcasting arithmetic ops.
// Broadcast inputs get their gradient summed back to their own shape (GradContext::sum_to).
#include "train/gradient_rules.h"

namespace kiln::train {

namespace {
using enum OpKind;

DType dt(const GradContext& ctx) { return ctx.x(0)->type.dtype; }

// dx = dy * f, for a unary op whose derivative is the value f.
void times(GradContext& ctx, Value* f) { ctx.set_dx(0, ctx.op(Mul, {ctx.dy(0), f})); }
}  // namespace

void grad_Abs(GradContext& ctx) { times(ctx, ctx.op(Sign, {ctx.x(0)})); }

void grad_Neg(GradContext& ctx) { ctx.set_dx(0, ctx.op(Neg, {ctx.dy(0)})); }

// d sqrt(x) = 1 / (2 y)
void grad_Sqrt(GradContext& ctx) {
  Value* two_y = ctx.op(Mul, {ctx.y(0), ctx.scalar(2.0, dt(ctx))});
  ctx.set_dx(0, ctx.op(Div, {ctx.dy(0), two_y}));
}

// d (1/x) = -y^2
void grad_Reciprocal(GradContext& ctx) {
  Value* y2 = ctx.op(Mul, {ctx.y(0), ctx.y(0)});
  ctx.set_dx(0, ctx.op(Neg, {ctx.op(Mul, {ctx.dy(0), y2})}));
}

void grad_Exp(GradContext& ctx) { times(ctx, ctx.y(0)); }

void grad_Log(GradContext& ctx) { ctx.set_dx(0, ctx.op(Div, {ctx.dy(0), ctx.x(0)})); }

// d tanh = 1 - y^2
void grad_Tanh(GradContext& ctx) {
  Value* y2 = ctx.op(Mul, {ctx.y(0), ctx.y(0)});
  times(ctx, ctx.op(Sub, {ctx.scalar(1.0, dt(ctx)), y2}));
}

// d sigmoid = y (1 - y)
void grad_Sigmoid(GradContext& ctx) {
  Value* one_minus = ctx.op(Sub, {ctx.scalar(1.0, dt(ctx)), ctx.y(0)});
  times(ctx, ctx.op(Mul, {ctx.y(0), one_minus}));
}

// dy where x > 0, else 0 (the subgradient at 0 is 0, as in PyTorch), in one pass. It reads
// the output (y > 0 exactly where x > 0), so the input can be freed after the forward Relu
// and a producer may compute the Relu itself.
void grad_Relu(GradContext& ctx) { ctx.set_dx(0, ctx.op(KilnReluGrad, {ctx.dy(0), ctx.y(0)})); }

void grad_LeakyRelu(GradContext& ctx) {
  const double alpha = ctx.node().attrs.get_float("alpha", 0.01f);
  Value* pos = ctx.op(Greater, {ctx.x(0), ctx.scalar(0.0, dt(ctx))});
  Value* scaled = ctx.op(Mul, {ctx.dy(0), ctx.scalar(alpha, dt(ctx))});
  ctx.set_dx(0, ctx.op(Where, {pos, ctx.dy(0), scaled}));
}

void grad_Identity(GradContext& ctx) { ctx.set_dx(0, ctx.dy(0)); }

void grad_Add(GradContext& ctx) {
  if (ctx.needs(0)) ctx.set_dx(0, ctx.sum_to(ctx.dy(0), ctx.x(0)));
  if (ctx.needs(1)) ctx.set_dx(1, ctx.sum_to(ctx.dy(0), ctx.x(1)));
}

void grad_Sub(GradContext& ctx) {
  if (ctx.needs(0)) ctx.set_dx(0, ctx.sum_to(ctx.dy(0), ctx.x(0)));
  if (ctx.needs(1)) ctx.set_dx(1, ctx.sum_to(ctx.op(Neg, {ctx.dy(0)}), ctx.x(1)));
}

void grad_Mul(GradContext& ctx) {
  if (ctx.needs(0)) ctx.set_dx(0, ctx.sum_to(ctx.op(Mul, {ctx.dy(0), ctx.x(1)}), ctx.x(0)));
  if (ctx.needs(1)) ctx.set_dx(1, ctx.sum_to(ctx.op(Mul, {ctx.dy(0), ctx.x(0)}), ctx.x(1)));
}

// y = a / b: da = dy / b, db = -dy * y / b.
void grad_Div(GradContext& ctx) {
  ctx.check(is_float(dt(ctx)), "integer Div has no gradient");
  if (ctx.needs(0)) ctx.set_dx(0, ctx.sum_to(ctx.op(Div, {ctx.dy(0), ctx.x(1)}), ctx.x(0)));
  if (ctx.needs(1)) {
    Value* q = ctx.op(Div, {ctx.y(0), ctx.x(1)});
    ctx.set_dx(1, ctx.sum_to(ctx.op(Neg, {ctx.op(Mul, {ctx.dy(0), q})}), ctx.x(1)));
  }
}

}  // namespace kiln::train
