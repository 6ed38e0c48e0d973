// Reference kernels of Kiln's fused ops: the unfused pattern run op by op through the existing
// reference kernels (evaluate_op), so a fused graph computes exactly what the original did and
// no conv / matmul / activation math is written twice.
#include "ir/infer/fused_activation.h"
#include "runtime/kernels/ref/evaluate.h"

namespace kiln {

namespace {

// Runs one inner op of the fused node; errors come back naming the fused node.
Tensor run(const KernelContext& ctx, OpKind op, std::vector<const Tensor*> inputs,
           const Attributes* attrs = nullptr, int opset = 0) {
  OpCall call;
  call.op = op;
  call.opset = opset ? opset : ctx.opset;
  call.attrs = attrs;
  call.node_name = ctx.node_name;
  call.inputs = std::move(inputs);
  try {
    return std::move(evaluate_op(call).at(0));
  } catch (const Error& e) {
    ctx.fail(e.what());
  }
}

// Z (when present) added, then the activation applied, then stored as the node's output.
void finish(KernelContext& ctx, Tensor y, size_t z_input) {
  if (ctx.has_input(z_input)) y = run(ctx, OpKind::Add, {&y, &ctx.input(z_input)});
  const std::optional<OpKind> act =
      fused_activation_op(ctx.attr().get_string("activation", ""), ctx.where());
  if (act) {
    const ActivationCall call = fused_activation_call(*act, ctx.attr());
    y = run(ctx, *act, {&y}, &call.attrs, call.opset);
  }
  ctx.check(ctx.output_types.at(0).dtype == y.dtype(), "computed ", y.describe(),
            " but the output is ", dtype_name(ctx.output_types.at(0).dtype));
  ctx.outputs.at(0) = std::move(y);
}

// A scalar of `dtype` holding `v` (through Cast, so every float dtype rounds the same way).
Tensor scalar_of(const KernelContext& ctx, DType dtype, float v) {
  const Tensor f = Tensor::scalar<float>(v);
  if (dtype == DType::F32) return f;
  Attributes to;
  to.set("to", Attribute::of_int(static_cast<int64_t>(dtype)));
  return run(ctx, OpKind::Cast, {&f}, &to);
}

}  // namespace

void ref_KilnFusedConv(KernelContext& ctx) {
  // Conv reads only its own attributes; the activation ones ride along unread.
  Tensor y =
      run(ctx, OpKind::Conv,
          {&ctx.input(0), &ctx.input(1), ctx.has_input(2) ? &ctx.input(2) : nullptr}, ctx.attrs);
  finish(ctx, std::move(y), 3);
}

void ref_KilnFusedMatMul(KernelContext& ctx) {
  const Tensor& a = ctx.input(0);
  const Tensor* b = &ctx.input(1);
  Tensor bt;
  if (ctx.attr().get_int("trans_b", 0) == 1) {
    ctx.check(b->rank() == 2, "with trans_b = 1, B must be 2-D, got ", b->describe());
    bt = run(ctx, OpKind::Transpose, {b});  // no perm: reverses the two axes
    b = &bt;
  }
  Tensor y = run(ctx, OpKind::MatMul, {&a, b});
  const float alpha = ctx.attr().get_float("alpha", 1.0f);
  if (alpha != 1.0f) {
    const Tensor s = scalar_of(ctx, y.dtype(), alpha);
    y = run(ctx, OpKind::Mul, {&y, &s});
  }
  if (ctx.has_input(2)) y = run(ctx, OpKind::Add, {&y, &ctx.input(2)});
  finish(ctx, std::move(y), 3);
}

}  // namespace kiln
