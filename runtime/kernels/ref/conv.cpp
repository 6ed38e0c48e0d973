// Conv (float, optional bias) and ConvInteger (u8/i8 with zero points, i32 out): both run the
// shared direct-convolution loop of conv_util.h.
#include "runtime/kernels/ref/conv_util.h"
#include "runtime/kernels/ref/quant_util.h"

namespace kiln {

void ref_Conv(KernelContext& ctx) {
  const Tensor& x = ctx.input(0);
  const Tensor& w = ctx.input(1);
  const Tensor* b = ctx.has_input(2) ? &ctx.input(2) : nullptr;
  const ref::ConvGeom g = ref::conv_geom(ctx, x.dims(), w.dims());
  Tensor& y = ctx.output(0);
  dispatch_dtype(x.dtype(), "Conv", [&]<typename T>() {
    if constexpr (!std::is_floating_point_v<ref::compute_t<T>>) {
      ctx.fail("dtype ", dtype_name(x.dtype()), " is not supported");
    } else {
      using Acc = ref::compute_t<T>;
      const T* px = x.data<T>();
      const T* pw = w.data<T>();
      const T* pb = b ? b->data<T>() : nullptr;
      T* py = y.data<T>();
      ref::conv_loop<Acc>(
          g, [&](int64_t i) { return static_cast<Acc>(px[i]); },
          [&](int64_t i) { return static_cast<Acc>(pw[i]); },
          [&](int64_t o, int64_t m, Acc acc) {
            if (pb) acc += static_cast<Acc>(pb[m]);
            py[o] = static_cast<T>(acc);
          });
    }
  });
}

void ref_ConvInteger(KernelContext& ctx) {
  const Tensor& x = ctx.input(0);
  const Tensor& w = ctx.input(1);
  const ref::ConvGeom g = ref::conv_geom(ctx, x.dims(), w.dims());
  const Tensor* xzp = ctx.has_input(2) ? &ctx.input(2) : nullptr;
  const Tensor* wzp = ctx.has_input(3) ? &ctx.input(3) : nullptr;
  ctx.check(!xzp || xzp->numel() == 1, "x_zero_point must be a scalar, got ",
            xzp ? xzp->describe() : "");
  std::vector<int32_t> x32, w32;
  try {
    x32 = ref::subtract_zero_point(x, xzp, false, "x_zero_point");
    // A 1-D w_zero_point is per output channel: W's leading axis.
    const Tensor wzp_view = wzp ? ref::leading_axis_view(*wzp, w.rank()) : Tensor();
    w32 = ref::subtract_zero_point(w, wzp ? &wzp_view : nullptr, false, "w_zero_point");
  } catch (const Error& e) {
    ctx.fail(e.what());
  }
  int32_t* py = ctx.output(0).data<int32_t>();
  ref::conv_loop<uint32_t>(
      g, [&](int64_t i) { return static_cast<uint32_t>(x32[static_cast<size_t>(i)]); },
      [&](int64_t i) { return static_cast<uint32_t>(w32[static_cast<size_t>(i)]); },
      [&](int64_t o, int64_t, uint32_t acc) { py[o] = static_cast<int32_t>(acc); });
}

}  // namespace kiln
