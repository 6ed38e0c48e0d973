// MatMul (numpy matmul) and MatMulInteger (zero points subtracted on the way in, i32 out).
#include "runtime/kernels/ref/kernel.h"
#include "runtime/kernels/ref/matmul_util.h"
#include "runtime/kernels/ref/quant_util.h"

namespace kiln {

void ref_MatMul(KernelContext& ctx) {
  const Tensor& a = ctx.input(0);
  const Tensor& b = ctx.input(1);
  const ref::MatMulGeom g = ref::matmul_geom(a.dims(), b.dims());
  Tensor& y = ctx.output(0);
  dispatch_dtype(a.dtype(), "MatMul", [&]<typename T>() {
    if constexpr (std::is_same_v<T, bool> || (std::is_integral_v<T> && sizeof(T) < 4)) {
      ctx.fail("dtype ", dtype_name(a.dtype()), " is not supported");
    } else {
      using Acc = ref::matmul_acc_t<T>;
      const T* pa = a.data<T>();
      const T* pb = b.data<T>();
      T* py = y.data<T>();
      ref::matmul_loop<Acc>(
          g, [&](int64_t i) { return static_cast<Acc>(pa[i]); },
          [&](int64_t i) { return static_cast<Acc>(pb[i]); },
          [&](int64_t o, int64_t, int64_t, Acc acc) { py[o] = static_cast<T>(acc); });
    }
  });
}

void ref_MatMulInteger(KernelContext& ctx) {
  const Tensor& a = ctx.input(0);
  const Tensor& b = ctx.input(1);
  const ref::MatMulGeom g = ref::matmul_geom(a.dims(), b.dims());
  const Tensor* azp = ctx.has_input(2) ? &ctx.input(2) : nullptr;
  const Tensor* bzp = ctx.has_input(3) ? &ctx.input(3) : nullptr;
  std::vector<int32_t> a32, b32;
  try {
    a32 = ref::subtract_zero_point(a, azp, /*rows=*/true, "a_zero_point");
    b32 = ref::subtract_zero_point(b, bzp, /*rows=*/false, "b_zero_point");
  } catch (const Error& e) {
    ctx.fail(e.what());
  }
  int32_t* py = ctx.output(0).data<int32_t>();
  // i32 accumulation "may overflow": wrap it rather than invoke UB.
  ref::matmul_loop<uint32_t>(
      g, [&](int64_t i) { return static_cast<uint32_t>(a32[static_cast<size_t>(i)]); },
      [&](int64_t i) { return static_cast<uint32_t>(b32[static_cast<size_t>(i)]); },
      [&](int64_t o, int64_t, int64_t, uint32_t acc) { py[o] = static_cast<int32_t>(acc); });
}

}  // namespace kiln
