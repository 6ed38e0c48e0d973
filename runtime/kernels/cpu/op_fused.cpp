// KilnFusedConv / KilnFusedMatMul on the optimized paths: the convolution or product through
// its optimized kernel, then the epilogue (bias, residual, activation) op by op as the reference
// kernels define it (runtime/kernels/ref/fused_ops.cpp). What the interpreter's fast mode runs
// on fused graphs, e.g. int8 calibration (passes/calibration.cpp).
#include "ir/infer/fused_activation.h"
#include "runtime/kernels/cpu/kernel_table.h"
#include "runtime/kernels/cpu/op_util.h"
#include "runtime/kernels/ref/evaluate.h"

namespace kiln::cpu {

namespace {

Tensor run(const KernelContext& ctx, OpKind op, std::vector<const Tensor*> inputs,
           const Attributes* attrs = nullptr, int opset = 0) {
  OpCall call;
  call.op = op;
  call.opset = opset ? opset : ctx.opset;
  call.attrs = attrs;
  call.node_name = ctx.node_name;
  call.inputs = std::move(inputs);
  call.kernel = cpu_kernel(op);
  call.pool = ctx.pool;
  try {
    return std::move(evaluate_op(call).at(0));
  } catch (const Error& e) {
    ctx.fail(e.what());
  }
}

void finish(KernelContext& ctx, Tensor y, size_t z_input) {
  if (ctx.has_input(z_input)) y = run(ctx, OpKind::Add, {&y, &ctx.input(z_input)});
  const std::optional<OpKind> act =
      fused_activation_op(ctx.attr().get_string("activation", ""), ctx.where());
  if (act) {
    const ActivationCall call = fused_activation_call(*act, ctx.attr());
    y = run(ctx, *act, {&y}, &call.attrs, call.opset);
  }
  ctx.outputs.at(0) = std::move(y);
}

}  // namespace

void fast_KilnFusedConv(KernelContext& ctx) {
  if (ctx.input(0).dtype() != DType::F32) return ref_KilnFusedConv(ctx);
  // Bias and ReLU only (the trainer's conv layers): the convolution's own epilogue does both.
  if (!ctx.has_input(3) && ctx.attr().get_string("activation", "") == "Relu") {
    return conv2d_forward(ctx, true);
  }
  Tensor y = run(ctx, OpKind::Conv,
                 {&ctx.input(0), &ctx.input(1), ctx.has_input(2) ? &ctx.input(2) : nullptr},
                 ctx.attrs);
  finish(ctx, std::move(y), 3);
}

void fast_KilnFusedMatMul(KernelContext& ctx) {
  if (ctx.input(0).dtype() != DType::F32 || ctx.attr().get_float("alpha", 1.0f) != 1.0f)
    return ref_KilnFusedMatMul(ctx);
  const Tensor* b = &ctx.input(1);
  Tensor bt;
  if (ctx.attr().get_int("trans_b", 0) == 1) {
    bt = run(ctx, OpKind::Transpose, {b});
    b = &bt;
  }
  Tensor y = run(ctx, OpKind::MatMul, {&ctx.input(0), b});
  if (ctx.has_input(2)) y = run(ctx, OpKind::Add, {&y, &ctx.input(2)});
  finish(ctx, std::move(y), 3);
}

}  // namespace kiln::cpu
