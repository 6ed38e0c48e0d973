// Inference for Kiln's int8 ops (written by quantize-int8 and import-qdq):
//   KilnQConv(X, W, w_scale, B?, Z?)     Y = act(dq(Conv(q(X), W)) + B + Z)
//   KilnQMatMul(A, B, w_scale, bias?, Z?) Y = act(dq(q(A) @ B) + bias + Z)
// X / A are f32 and quantized inside the op to u8 with the attributes x_scale (> 0) and
// x_zero_point (0..255); KilnQMatMul without x_scale quantizes dynamically from A's range.
// W / B are s8, symmetric, with one f32 scale per output channel (w_scale: [M] for Conv's W
// [M, C/group, KH, KW], [N] for MatMul's B [K, N]). dq multiplies the exact int32 sums by
// x_scale * w_scale. The output is f32, so an int8 op drops into an f32 graph anywhere.
// KilnQConv may also keep activations in u8 between int8 ops (quantize-int8 links them):
//   X u8      already quantized with x_scale / x_zero_point (no quantization inside);
//   y_scale   (with y_zero_point) the output is u8, saturate(round(Y * (1 / y_scale)) +
//             y_zero_point) after the activation (QuantizeLinear up to multiplying by the
//             reciprocal where it divides, so that kernels need no division);
//   Z u8      the residual is DequantizeLinear(Z, z_scale, z_zero_point) (z_scale required).
// A u8 input whose value type carries quantization parameters must agree with the attributes.
#include <cmath>
#include <optional>
#include <string>

#include "ir/infer/fused_activation.h"
#include "ir/infer_util.h"

namespace kiln {

namespace {

void require(const InferContext& ctx, size_t i, DType want, const char* what) {
  if (ctx.dtype(i) != want) {
    ctx.fail(what, " (input ", i, ") has dtype ", dtype_name(ctx.dtype(i)), ", expected ",
             dtype_name(want));
  }
}

void check_quant_attrs(const InferContext& ctx, bool x_scale_required) {
  const Attribute* s = ctx.attr().find("x_scale");
  if (!s && x_scale_required) ctx.fail("attribute x_scale is required");
  if (s && !(s->f > 0.0f && std::isfinite(s->f)))
    ctx.fail("attribute x_scale must be a finite number > 0, got ", s->f);
  const int64_t zp = ctx.attr().get_int("x_zero_point", 0);
  if (zp < 0 || zp > 255) ctx.fail("attribute x_zero_point must be in [0, 255] (u8), got ", zp);
  fused_activation_op(ctx.attr().get_string("activation", ""), ctx.where());
}

// A 1-D f32 input of `n` entries (when both are known).
void check_vector(const InferContext& ctx, size_t i, const Dim& n, const char* what) {
  require(ctx, i, DType::F32, what);
  const Shape& s = ctx.shape(i);
  if (!s.rank_known) return;
  if (s.rank() != 1 || (s.dims[0].is_static() && n.is_static() && s.dims[0].value != n.value))
    ctx.fail(what, " ", s.to_string(), " must be 1-D with one value per output channel (",
             n.to_string(), ")");
}

// Output 0 of `fn` on inputs 0 and 1 seen as f32 (the op it quantizes).
ValueType infer_float_op(const InferContext& ctx, InferFn fn) {
  ValueType x = ctx.input(0), w = ctx.input(1);
  x.dtype = w.dtype = DType::F32;
  x.quant.reset();
  w.quant.reset();
  InferContext inner = ctx;
  inner.input_types = {&x, &w};
  inner.input_values = {nullptr, nullptr};
  inner.outputs.assign(1, ValueType{});
  fn(inner);
  return std::move(inner.outputs[0]);
}

void check_residual(const InferContext& ctx, const ValueType& y) {
  if (!ctx.has_input(4)) return;
  if (ctx.dtype(4) != DType::U8) require(ctx, 4, DType::F32, "residual Z");
  const Shape& z = ctx.shape(4);
  if (z.rank_known && y.shape.rank_known) {
    bool ok = z.rank() == y.shape.rank();
    for (size_t i = 0; ok && i < z.rank(); ++i)
      ok = !z.dims[i].is_static() || !y.shape.dims[i].is_static() ||
           z.dims[i].value == y.shape.dims[i].value;
    if (!ok)
      ctx.fail("residual Z ", z.to_string(), " must have the output's shape ", y.shape.to_string());
  }
}

// Scale / zero point attributes `prefix`_scale and `prefix`_zero_point (u8); nullopt when the
// scale is absent. Fails on a non-positive scale or a zero point outside [0, 255].
std::optional<QuantParams> u8_params(const InferContext& ctx, const std::string& prefix) {
  const Attribute* s = ctx.attr().find(prefix + "_scale");
  const int64_t zp = ctx.attr().get_int(prefix + "_zero_point", 0);
  if (!s) {
    if (ctx.attr().find(prefix + "_zero_point"))
      ctx.fail("attribute ", prefix, "_zero_point needs ", prefix, "_scale");
    return std::nullopt;
  }
  if (!(s->f > 0.0f && std::isfinite(s->f)))
    ctx.fail("attribute ", prefix, "_scale must be a finite number > 0, got ", s->f);
  if (zp < 0 || zp > 255)
    ctx.fail("attribute ", prefix, "_zero_point must be in [0, 255] (u8), got ", zp);
  return QuantParams{{s->f}, {zp}, -1};
}

// A u8 input `i` read with `p`: its type's quantization parameters, when it has them, must be
// the same (a producer writing with other parameters than this op reads would be silently wrong).
void check_u8_input(const InferContext& ctx, size_t i, const std::optional<QuantParams>& p,
                    const char* what, const char* prefix) {
  if (!p) ctx.fail(what, " (input ", i, ") is u8 but attribute ", prefix, "_scale is missing");
  const std::optional<QuantParams>& q = ctx.input(i).quant;
  if (q && !(*q == *p))
    ctx.fail(what, " (input ", i, ") is u8 with scale ", q->scale.empty() ? 0.0f : q->scale[0],
             " / zero point ", q->zero_point.empty() ? 0 : q->zero_point[0], " (axis ", q->axis,
             ") but the op reads it with ", prefix, "_scale ", p->scale[0], " / ", prefix,
             "_zero_point ", p->zero_point[0], ": inconsistent quantization parameters");
}

}  // namespace

void infer_KilnQConv(InferContext& ctx) {
  check_quant_attrs(ctx, /*x_scale_required=*/true);
  if (ctx.dtype(0) == DType::U8) check_u8_input(ctx, 0, u8_params(ctx, "x"), "X", "x");
  else require(ctx, 0, DType::F32, "X");
  require(ctx, 1, DType::I8, "W");
  const Shape& x = ctx.shape(0);
  if (x.rank_known && x.rank() != 4) ctx.fail("X must be 4-D (N, C, H, W), got ", x.to_string());
  const ValueType y = infer_float_op(ctx, infer_Conv);
  const Shape& w = ctx.shape(1);
  const Dim m = w.rank_known && w.rank() >= 1 ? w.dims[0] : Dim::unknown();
  check_vector(ctx, 2, m, "w_scale");
  if (ctx.has_input(3)) check_vector(ctx, 3, m, "bias B");
  check_residual(ctx, y);
  const std::optional<QuantParams> zq = u8_params(ctx, "z");
  if (ctx.has_input(4) && ctx.dtype(4) == DType::U8) check_u8_input(ctx, 4, zq, "residual Z", "z");
  else if (zq) ctx.fail("attribute z_scale needs a u8 residual Z");
  ValueType out = y;
  if (std::optional<QuantParams> yq = u8_params(ctx, "y")) {
    out.dtype = DType::U8;
    out.quant = std::move(yq);
  }
  ctx.output(0) = std::move(out);
}

void infer_KilnQMatMul(InferContext& ctx) {
  check_quant_attrs(ctx, /*x_scale_required=*/false);
  require(ctx, 0, DType::F32, "A");
  require(ctx, 1, DType::I8, "B");
  const Shape& b = ctx.shape(1);
  const Shape& a = ctx.shape(0);
  if (b.rank_known && b.rank() != 2) ctx.fail("B must be 2-D [K, N], got ", b.to_string());
  if (a.rank_known && a.rank() < 2) ctx.fail("A must have rank >= 2, got ", a.to_string());
  const ValueType y = infer_float_op(ctx, infer_MatMul);
  const Dim n = b.rank_known ? b.dims[1] : Dim::unknown();
  check_vector(ctx, 2, n, "w_scale");
  if (ctx.has_input(3)) check_vector(ctx, 3, n, "bias");
  check_residual(ctx, y);
  ctx.output(0) = y;
}

}  // namespace kiln
