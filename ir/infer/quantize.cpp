// Shape inference for QuantizeLinear, DequantizeLinear and DynamicQuantizeLinear.
#include "ir/infer/quant_granularity.h"
#include "ir/infer_util.h"

namespace kiln {

namespace {

// ONNX TensorProto codes of low-precision types Kiln does not hold (float8, int4, ...).
bool is_exotic_quant_code(int64_t code) {
  return code == 17 || code == 18 || code == 19 || code == 20 || code == 21 || code == 22 ||
         code == 23 || code == 24 || code == 25 || code == 26;
}

bool is_int_quant(DType t, int opset) {
  if (t == DType::I8 || t == DType::U8) return true;
  return opset >= 21 && (t == DType::I16 || t == DType::U16);
}

bool is_scale_dtype(DType t, int opset) {
  if (t == DType::F32) return true;
  return opset >= 19 && (t == DType::F16 || t == DType::BF16);
}

// output_dtype attribute (opset 21+ for Quantize, 23+ for Dequantize); Undefined when absent.
DType output_dtype_attr(const InferContext& ctx, int since) {
  if (ctx.opset < since || !ctx.attr().has("output_dtype")) return DType::Undefined;
  const int64_t code = ctx.attr().get_int("output_dtype");
  if (code == 0) return DType::Undefined;
  if (is_exotic_quant_code(code)) {
    fail_unsupported(ctx.where(), "output_dtype ", code,
                     " (float8/int4/int2/float4) is not supported");
  }
  if (code < 0 || code > 64 || !dtype_is_valid(static_cast<int32_t>(code))) {
    ctx.fail("output_dtype ", code, " is not a valid dtype");
  }
  return static_cast<DType>(code);
}

void check_granularity(InferContext& ctx) {
  const Shape* zp = ctx.has_input(2) ? &ctx.shape(2) : nullptr;
  quant_granularity(ctx.attr(), ctx.opset, ctx.shape(0), ctx.shape(1), zp, ctx.where());
}

}  // namespace

namespace {
// The output's quantization, carried on its type, when scale and zero point are constants and
// the granularity is per tensor or per axis (blocked scales are left to the op).
std::optional<QuantParams> constant_quant_params(const InferContext& ctx) {
  const Tensor* scale = ctx.value(1);
  const Tensor* zp = ctx.has_input(2) ? ctx.value(2) : nullptr;
  if (!scale || (ctx.has_input(2) && !zp) || ctx.attr().get_int("block_size", 0) != 0) {
    return std::nullopt;
  }
  QuantParams q;
  q.scale = scale->to_float_vector();
  q.zero_point = zp ? zp->to_int64_vector() : std::vector<int64_t>(q.scale.size(), 0);
  if (scale->rank() == 1 && scale->numel() > 1 && ctx.shape(0).rank_known) {
    const int64_t rank = static_cast<int64_t>(ctx.shape(0).rank());
    q.axis = normalize_axis(ctx, ctx.attr().get_int("axis", 1), rank);
  }
  return q;
}
}  // namespace

void infer_QuantizeLinear(InferContext& ctx) {
  const DType x = ctx.dtype(0);
  const bool x_ok = x == DType::F32 || x == DType::I32 ||
                    (ctx.opset >= 19 && (x == DType::F16 || x == DType::BF16));
  if (!x_ok)
    ctx.fail("x has dtype ", dtype_name(x), ", expected f32 or i32 (f16/bf16 from opset 19)");
  const DType s = ctx.dtype(1);
  if (!is_scale_dtype(s, ctx.opset) && !(ctx.opset >= 23 && s == DType::I32)) {
    ctx.fail("y_scale has dtype ", dtype_name(s), ", expected f32 (f16/bf16 from opset 19)");
  }
  if (ctx.opset >= 23 && ctx.attr().has("precision")) {
    const int64_t p = ctx.attr().get_int("precision");
    if (p != 0 && p != 1 && p != 10 && p != 16 && p != 6) {
      ctx.fail("precision ", p, " must be f32, f16, bf16 or i32");
    }
  }
  DType out = output_dtype_attr(ctx, 21);
  if (ctx.has_input(2)) {
    const DType zp = ctx.dtype(2);
    if (out != DType::Undefined && out != zp) {
      ctx.fail("output_dtype ", dtype_name(out), " differs from y_zero_point's dtype ",
               dtype_name(zp));
    }
    out = zp;
  }
  if (out == DType::Undefined) out = DType::U8;
  if (!is_int_quant(out, ctx.opset)) {
    ctx.fail("cannot quantize to ", dtype_name(out), ": expected u8 or i8 (u16/i16 from opset 21)");
  }
  check_granularity(ctx);
  ctx.output(0).dtype = out;
  ctx.output(0).shape = ctx.shape(0);
  ctx.output(0).quant = constant_quant_params(ctx);
}

void infer_DequantizeLinear(InferContext& ctx) {
  const DType x = ctx.dtype(0);
  if (!is_int_quant(x, ctx.opset) && x != DType::I32) {
    ctx.fail("x has dtype ", dtype_name(x), ", expected u8, i8 or i32 (u16/i16 from opset 21)");
  }
  if (ctx.has_input(2) && ctx.dtype(2) != x) {
    ctx.fail("x_zero_point has dtype ", dtype_name(ctx.dtype(2)), " but x is ", dtype_name(x));
  }
  const DType s = ctx.dtype(1);
  if (!is_scale_dtype(s, ctx.opset)) {
    ctx.fail("x_scale has dtype ", dtype_name(s), ", expected f32 (f16/bf16 from opset 19)");
  }
  DType out = output_dtype_attr(ctx, 23);
  if (out == DType::Undefined) out = s;
  if (!is_scale_dtype(out, 19))
    ctx.fail("output_dtype ", dtype_name(out), " must be f32, f16 or bf16");
  check_granularity(ctx);
  ctx.output(0).dtype = out;
  ctx.output(0).shape = ctx.shape(0);
}

void infer_DynamicQuantizeLinear(InferContext& ctx) {
  if (ctx.dtype(0) != DType::F32)
    ctx.fail("x has dtype ", dtype_name(ctx.dtype(0)), ", expected f32");
  ctx.output(0).dtype = DType::U8;
  ctx.output(0).shape = ctx.shape(0);
  if (ctx.num_outputs() > 1) ctx.output(1) = ValueType::of(DType::F32, {});
  if (ctx.num_outputs() > 2) ctx.output(2) = ValueType::of(DType::U8, {});
}

}  // namespace kiln
