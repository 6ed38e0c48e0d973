// QLinearMatMul and QLinearConv: integer products through the shared MatMul / Conv loops
// (zero points subtracted on the way in, i32 accumulation), then requantized:
//   y = saturate(round_half_even(acc * (a_scale * b_scale / y_scale)) + y_zero_point)
// with the multiplier computed in the scales' precision, as the ONNX reference does.
#include "runtime/kernels/ref/conv_util.h"
#include "runtime/kernels/ref/matmul_util.h"
#include "runtime/kernels/ref/quant_util.h"

namespace kiln {

namespace {

// Rounds a float to the precision of a scale dtype (f16 / bf16 scales compute in that type).
float in_precision(DType t, float v) {
  if (t == DType::F16) return static_cast<float>(half(v));
  if (t == DType::BF16) return static_cast<float>(bfloat16(v));
  return v;
}

float multiplier(DType t, double a_scale, double b_scale, double y_scale) {
  const float ab = in_precision(t, static_cast<float>(a_scale) * static_cast<float>(b_scale));
  return in_precision(t, ab / static_cast<float>(y_scale));
}

template <typename Fn>
void dispatch_quant8(const KernelContext& ctx, DType t, Fn&& fn) {
  if (t == DType::U8) return fn.template operator()<uint8_t>();
  if (t == DType::I8) return fn.template operator()<int8_t>();
  ctx.fail("output dtype ", dtype_name(t), " is not u8 or i8");
}

}  // namespace

void ref_QLinearMatMul(KernelContext& ctx) {
  const Tensor& a = ctx.input(0);
  const Tensor& b = ctx.input(3);
  const ref::MatMulGeom g = ref::matmul_geom(a.dims(), b.dims());
  Tensor& y = ctx.output(0);
  std::vector<int32_t> a32, b32;
  std::vector<double> as, bs, ys;
  std::vector<int64_t> yzp;
  try {
    a32 = ref::subtract_zero_point(a, &ctx.input(2), true, "a_zero_point");
    b32 = ref::subtract_zero_point(b, &ctx.input(5), false, "b_zero_point");
    as = ref::expand_doubles(ctx.input(1), a.dims(), true, "a_scale");
    bs = ref::expand_doubles(ctx.input(4), b.dims(), false, "b_scale");
    ys = ref::expand_doubles(ctx.input(6), y.dims(), true, "y_scale");
    yzp = ref::expand_ints(&ctx.input(7), y.dims(), true, "y_zero_point");
  } catch (const Error& e) {
    ctx.fail(e.what());
  }
  const DType st = ctx.input(1).dtype();
  dispatch_quant8(ctx, y.dtype(), [&]<typename Q>() {
    Q* py = y.data<Q>();
    ref::matmul_loop<uint32_t>(
        g, [&](int64_t i) { return static_cast<uint32_t>(a32[static_cast<size_t>(i)]); },
        [&](int64_t i) { return static_cast<uint32_t>(b32[static_cast<size_t>(i)]); },
        [&](int64_t o, int64_t ai, int64_t bi, uint32_t acc) {
          const size_t ou = static_cast<size_t>(o);
          const float mult =
              multiplier(st, as[static_cast<size_t>(ai)], bs[static_cast<size_t>(bi)], ys[ou]);
          const double v = static_cast<double>(static_cast<int32_t>(acc)) * mult;
          py[o] = ref::saturate_round<Q>(std::nearbyint(v) + static_cast<double>(yzp[ou]));
        });
  });
}

void ref_QLinearConv(KernelContext& ctx) {
  const Tensor& x = ctx.input(0);
  const Tensor& w = ctx.input(3);
  const Tensor* bias = ctx.has_input(8) ? &ctx.input(8) : nullptr;
  const ref::ConvGeom g = ref::conv_geom(ctx, x.dims(), w.dims());
  Tensor& y = ctx.output(0);
  for (size_t i : {1, 2, 6, 7}) {
    ctx.check(ctx.input(i).numel() == 1, "input ", i, " must be a scalar (per tensor), got ",
              ctx.input(i).describe());
  }
  const Tensor& ws = ctx.input(4);
  ctx.check(ws.numel() == 1 || (ws.rank() == 1 && ws.numel() == g.M), "w_scale ", ws.describe(),
            " must be a scalar or have one value per output channel (", g.M, ")");
  ctx.check(!bias || bias->numel() == g.M, "bias ", bias ? bias->describe() : "", " must have ",
            g.M, " values");
  std::vector<int32_t> x32, w32;
  try {
    x32 = ref::subtract_zero_point(x, &ctx.input(2), false, "x_zero_point");
    const Tensor wzp = ref::leading_axis_view(ctx.input(5), w.rank());
    w32 = ref::subtract_zero_point(w, &wzp, false, "w_zero_point");
  } catch (const Error& e) {
    ctx.fail(e.what());
  }
  const double xs = ctx.input(1).as_double(0), ysc = ctx.input(6).as_double(0);
  const int64_t yzp = ctx.input(7).as_int64(0);
  std::vector<float> mult(static_cast<size_t>(g.M));
  for (int64_t m = 0; m < g.M; ++m) {
    mult[static_cast<size_t>(m)] =
        multiplier(DType::F32, xs, ws.as_double(ws.numel() == 1 ? 0 : m), ysc);
  }
  const int32_t* pb = bias ? bias->data<int32_t>() : nullptr;
  dispatch_quant8(ctx, y.dtype(), [&]<typename Q>() {
    Q* py = y.data<Q>();
    ref::conv_loop<uint32_t>(
        g, [&](int64_t i) { return static_cast<uint32_t>(x32[static_cast<size_t>(i)]); },
        [&](int64_t i) { return static_cast<uint32_t>(w32[static_cast<size_t>(i)]); },
        [&](int64_t o, int64_t m, uint32_t acc) {
          if (pb) acc += static_cast<uint32_t>(pb[m]);
          const double v =
              static_cast<double>(static_cast<int32_t>(acc)) * mult[static_cast<size_t>(m)];
          py[o] = ref::saturate_round<Q>(v + static_cast<double>(yzp));
        });
  });
}

}  // namespace kiln
