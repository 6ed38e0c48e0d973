// QuantizeLinear, DequantizeLinear (per tensor / per axis / blocked) and DynamicQuantizeLinear.
#include <algorithm>
#include <cmath>

#include "ir/infer/quant_granularity.h"
#include "runtime/kernels/ref/kernel.h"
#include "runtime/kernels/ref/quant_util.h"

namespace kiln {

namespace {

QuantGranularity granularity(const KernelContext& ctx) {
  const Shape zp = ctx.has_input(2) ? Shape::of(ctx.input(2).dims()) : Shape();
  return quant_granularity(ctx.attr(), ctx.opset, Shape::of(ctx.input(0).dims()),
                           Shape::of(ctx.input(1).dims()), ctx.has_input(2) ? &zp : nullptr,
                           ctx.where());
}

// The dtype x / scale is computed in: the `precision` attribute (opset 23), else numpy's
// promotion of the two (f16/f16 stays f16, bf16/bf16 stays bf16, an i32 x goes to f64).
DType division_dtype(const KernelContext& ctx, DType x, DType s) {
  if (ctx.opset >= 23) {
    const int64_t p = ctx.attr().get_int("precision", 0);
    if (p != 0) return static_cast<DType>(p);
  }
  if (x == DType::I32 || s == DType::I32) return DType::F64;
  if (x == s) return x;
  return DType::F32;
}

double divide_in(DType t, double x, double s) {
  switch (t) {
    case DType::F64:
      return x / s;
    case DType::F16:
      return static_cast<float>(half(static_cast<float>(half(static_cast<float>(x))) /
                                     static_cast<float>(half(static_cast<float>(s)))));
    case DType::BF16:
      return static_cast<float>(bfloat16(static_cast<float>(bfloat16(static_cast<float>(x))) /
                                         static_cast<float>(bfloat16(static_cast<float>(s)))));
    case DType::I32:  // integer precision: numpy would floor-divide; Kiln divides exactly
    default:
      return static_cast<float>(x) / static_cast<float>(s);
  }
}

}  // namespace

void ref_QuantizeLinear(KernelContext& ctx) {
  const Tensor& x = ctx.input(0);
  const Tensor& scale = ctx.input(1);
  const Tensor* zp = ctx.has_input(2) ? &ctx.input(2) : nullptr;
  const QuantGranularity g = granularity(ctx);
  const DType prec = division_dtype(ctx, x.dtype(), scale.dtype());
  Tensor& y = ctx.output(0);
  dispatch_dtype(y.dtype(), "QuantizeLinear", [&]<typename Q>() {
    if constexpr (!std::is_integral_v<Q> || std::is_same_v<Q, bool> || sizeof(Q) > 2) {
      ctx.fail("cannot quantize to ", dtype_name(y.dtype()));
    } else {
      Q* py = y.data<Q>();
      for (int64_t i = 0; i < x.numel(); ++i) {
        const int64_t si = g.scale_index(x.dims(), scale.dims(), i);
        const double s = scale.as_double(si);
        const double q = std::nearbyint(divide_in(prec, x.as_double(i), s));
        py[i] = ref::saturate_round<Q>(q + (zp ? static_cast<double>(zp->as_int64(si)) : 0.0));
      }
    }
  });
}

void ref_DequantizeLinear(KernelContext& ctx) {
  const Tensor& x = ctx.input(0);
  const Tensor& scale = ctx.input(1);
  const Tensor* zp = ctx.has_input(2) ? &ctx.input(2) : nullptr;
  const QuantGranularity g = granularity(ctx);
  Tensor& y = ctx.output(0);
  dispatch_dtype(y.dtype(), "DequantizeLinear", [&]<typename T>() {
    if constexpr (!std::is_floating_point_v<ref::compute_t<T>>) {
      ctx.fail("cannot dequantize to ", dtype_name(y.dtype()));
    } else {
      T* py = y.data<T>();
      for (int64_t i = 0; i < x.numel(); ++i) {
        const int64_t si = g.scale_index(x.dims(), scale.dims(), i);
        const int64_t q = x.as_int64(i) - (zp ? zp->as_int64(si) : 0);
        const float v = static_cast<float>(q) * static_cast<float>(scale.as_double(si));
        py[i] = static_cast<T>(v);
      }
    }
  });
}

void ref_DynamicQuantizeLinear(KernelContext& ctx) {
  const Tensor& x = ctx.input(0);
  const float* px = x.data<float>();
  // The range always includes 0 so that 0 is exactly representable.
  float lo = 0.0f, hi = 0.0f;
  for (int64_t i = 0; i < x.numel(); ++i) {
    if (std::isnan(px[i])) continue;
    lo = std::min(lo, px[i]);
    hi = std::max(hi, px[i]);
  }
  const float scale = (hi == lo ? 1.0f : hi - lo) / 255.0f;
  const float zp_f = std::clamp(0.0f - lo / scale, 0.0f, 255.0f);
  const uint8_t zp = ref::saturate_round<uint8_t>(zp_f);
  uint8_t* py = ctx.output(0).data<uint8_t>();
  for (int64_t i = 0; i < x.numel(); ++i) {
    py[i] = ref::saturate_round<uint8_t>(std::nearbyint(px[i] / scale) + zp);
  }
  if (ctx.wants_output(1)) ctx.output(1).data<float>()[0] = scale;
  if (ctx.wants_output(2)) ctx.output(2).data<uint8_t>()[0] = zp;
}

}  // namespace kiln
