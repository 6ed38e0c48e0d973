// Reference kernels of Kiln's int8 ops (ir/infer/quantized_ops.cpp has the semantics), composed
// from the existing reference kernels so no quantize / integer conv / matmul math is written
// twice: QuantizeLinear (or DynamicQuantizeLinear), ConvInteger / MatMulInteger with the
// activation zero point, then the f32 epilogue y = float(acc) * (x_scale * w_scale[c]) + bias[c],
// residual add and activation. The optimized kernels (runtime/kernels/cpu/qgemm.h) compute the
// same integer sums exactly and this epilogue in the same order. KilnQConv's u8 modes: a u8 X
// is used as is, a u8 residual Z goes through DequantizeLinear (z_scale / z_zero_point) before
// the add, and y_scale makes the output u8: QuantizeLinear(Y * (1 / y_scale), 1, y_zero_point).
#include <string>
#include <utility>

#include "ir/infer/fused_activation.h"
#include "runtime/kernels/ref/evaluate.h"

namespace kiln {

namespace {

Tensor run(const KernelContext& ctx, OpKind op, std::vector<const Tensor*> inputs,
           const Attributes* attrs = nullptr, int opset = 21) {
  OpCall call;
  call.op = op;
  call.opset = opset;
  call.attrs = attrs;
  call.node_name = ctx.node_name;
  call.inputs = std::move(inputs);
  try {
    return std::move(evaluate_op(call).at(0));
  } catch (const Error& e) {
    ctx.fail(e.what());
  }
}

std::vector<Tensor> run_all(const KernelContext& ctx, OpKind op,
                            std::vector<const Tensor*> inputs) {
  OpCall call;
  call.op = op;
  call.opset = 21;
  call.node_name = ctx.node_name;
  call.inputs = std::move(inputs);
  call.num_outputs = 3;
  try {
    return evaluate_op(call);
  } catch (const Error& e) {
    ctx.fail(e.what());
  }
}

struct QuantizedInput {
  Tensor q;        // u8, X's shape
  Tensor zero;     // u8 scalar
  float scale = 0;
};

// X quantized with the x_scale / x_zero_point attributes, or dynamically when x_scale is absent.
QuantizedInput quantize_input(const KernelContext& ctx) {
  QuantizedInput r;
  const Attribute* s = ctx.attr().find("x_scale");
  if (!s) {
    std::vector<Tensor> d = run_all(ctx, OpKind::DynamicQuantizeLinear, {&ctx.input(0)});
    r.q = std::move(d.at(0));
    r.scale = d.at(1).data<float>()[0];
    r.zero = std::move(d.at(2));
    return r;
  }
  r.scale = s->f;
  const int64_t zp = ctx.attr().get_int("x_zero_point", 0);
  ctx.check(r.scale > 0.0f && zp >= 0 && zp <= 255, "x_scale must be > 0 and x_zero_point in ",
            "[0, 255], got ", r.scale, " and ", zp);
  r.zero = Tensor::scalar<uint8_t>(static_cast<uint8_t>(zp));
  if (ctx.input(0).dtype() == DType::U8) {  // already quantized by the producer
    r.q = ctx.input(0);
    return r;
  }
  const Tensor scale = Tensor::scalar<float>(r.scale);
  r.q = run(ctx, OpKind::QuantizeLinear, {&ctx.input(0), &scale, &r.zero});
  return r;
}

// The scalar scale (f32) and zero point (u8) tensors of attributes `prefix`_scale / _zero_point.
std::pair<Tensor, Tensor> u8_params(const KernelContext& ctx, const std::string& prefix) {
  const Attribute* s = ctx.attr().find(prefix + "_scale");
  const int64_t zp = ctx.attr().get_int(prefix + "_zero_point", 0);
  ctx.check(s && s->f > 0.0f && zp >= 0 && zp <= 255, prefix, "_scale must be > 0 and ", prefix,
            "_zero_point in [0, 255]");
  return {Tensor::scalar<float>(s->f), Tensor::scalar<uint8_t>(static_cast<uint8_t>(zp))};
}

// float(acc) * (x_scale * w_scale[c]) + bias[c] with c on axis `axis` of acc, then Z and the
// activation; stored as the node's output.
void dequantize_and_finish(KernelContext& ctx, const Tensor& acc, float x_scale, size_t axis) {
  Attributes to;
  to.set("to", Attribute::of_int(static_cast<int64_t>(DType::F32)));
  Tensor y = run(ctx, OpKind::Cast, {&acc}, &to);
  const Tensor& ws = ctx.input(2);
  const int64_t c = ws.numel();
  const size_t rank = acc.dims().size();
  ctx.check(axis < rank && acc.dims()[axis] == c, "w_scale has ", c,
            " values but the output has ", axis < rank ? acc.dims()[axis] : 0, " channels");
  Dims d(rank - axis, 1);  // [C, 1, ...] broadcasts over the axes after `axis`
  d[0] = c;
  Tensor scale(DType::F32, d);
  for (int64_t i = 0; i < c; ++i) scale.data<float>()[i] = x_scale * ws.data<float>()[i];
  y = run(ctx, OpKind::Mul, {&y, &scale});
  if (ctx.has_input(3)) {
    const Tensor b = ctx.input(3).reshaped(d);
    y = run(ctx, OpKind::Add, {&y, &b});
  }
  if (ctx.has_input(4) && ctx.input(4).dtype() == DType::U8) {
    const auto [zs, zz] = u8_params(ctx, "z");
    const Tensor z = run(ctx, OpKind::DequantizeLinear, {&ctx.input(4), &zs, &zz});
    y = run(ctx, OpKind::Add, {&y, &z});
  } else if (ctx.has_input(4)) {
    y = run(ctx, OpKind::Add, {&y, &ctx.input(4)});
  }
  const std::optional<OpKind> act =
      fused_activation_op(ctx.attr().get_string("activation", ""), ctx.where());
  if (act) {
    const ActivationCall call = fused_activation_call(*act, ctx.attr());
    y = run(ctx, *act, {&y}, &call.attrs, call.opset);
  }
  if (ctx.attr().find("y_scale")) {
    // y * (1 / y_scale), then rounded and shifted by QuantizeLinear with scale 1: a multiply
    // where QuantizeLinear divides (one rounding of difference), so kernels need no division.
    const auto [ys, yz] = u8_params(ctx, "y");
    const Tensor inv = Tensor::scalar<float>(1.0f / ys.data<float>()[0]);
    const Tensor one = Tensor::scalar<float>(1.0f);
    y = run(ctx, OpKind::Mul, {&y, &inv});
    y = run(ctx, OpKind::QuantizeLinear, {&y, &one, &yz});
  }
  ctx.outputs.at(0) = std::move(y);
}

}  // namespace

void ref_KilnQConv(KernelContext& ctx) {
  const QuantizedInput x = quantize_input(ctx);
  // ConvInteger reads only the conv attributes; the quantization ones ride along unread.
  const Tensor acc = run(ctx, OpKind::ConvInteger, {&x.q, &ctx.input(1), &x.zero}, ctx.attrs, 10);
  dequantize_and_finish(ctx, acc, x.scale, 1);
}

void ref_KilnQMatMul(KernelContext& ctx) {
  const QuantizedInput x = quantize_input(ctx);
  const Tensor acc = run(ctx, OpKind::MatMulInteger, {&x.q, &ctx.input(1), &x.zero}, nullptr, 10);
  dequantize_and_finish(ctx, acc, x.scale, acc.dims().size() - 1);
}

}  // namespace kiln
