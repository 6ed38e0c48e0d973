// Reference kernels for CumSum and CumProd along one axis (exclusive, reverse).
// Floats accumulate in double and round each output; integers wrap like numpy.
#include "runtime/kernels/ref/kernel.h"
#include "runtime/kernels/ref/select_util.h"

namespace kiln {
namespace {

void ref_scan(KernelContext& ctx, bool product) {
  const Tensor& x = ctx.input(0);
  const Tensor& at = ctx.input(1);
  ctx.check((at.dtype() == DType::I32 || at.dtype() == DType::I64) && at.numel() == 1 &&
                at.rank() <= 1,
            "axis must be an int32 or int64 scalar, got ", at.describe());
  ctx.check(x.rank() >= 1, "input must have rank >= 1, got a scalar");
  int64_t axis = at.as_int64(0);
  ctx.check(axis >= -x.rank() && axis < x.rank(), "axis ", axis, " is out of range for rank ",
            x.rank());
  if (axis < 0) axis += x.rank();
  const bool exclusive = ctx.attr().get_int("exclusive", 0) != 0;
  const bool reverse = ctx.attr().get_int("reverse", 0) != 0;
  const ref::AxisView v = ref::AxisView::of(x.dims(), axis);
  Tensor& out = ctx.output(0);

  dispatch_dtype(x.dtype(), product ? "CumProd" : "CumSum", [&]<typename T>() {
    if constexpr (std::is_same_v<T, bool>) {
      ctx.fail("bool input is not supported");
    } else {
      const T* p = x.data<T>();
      T* y = out.data<T>();
      for (int64_t o = 0; o < v.outer; ++o) {
        for (int64_t i = 0; i < v.inner; ++i) {
          double facc = product ? 1 : 0;
          uint64_t iacc = product ? 1 : 0;
          for (int64_t step = 0; step < v.n; ++step) {
            const int64_t j = reverse ? v.n - 1 - step : step;
            const int64_t at_j = v.at(o, j, i);
            if constexpr (ref::is_float_v<T>) {
              const double xv = ref::to_f64(p[at_j]);
              if (!exclusive) facc = product ? facc * xv : facc + xv;
              y[at_j] = ref::from_f64<T>(facc);
              if (exclusive) facc = product ? facc * xv : facc + xv;
            } else {
              const uint64_t xv = ref::to_wrap(p[at_j]);
              if (!exclusive) iacc = product ? iacc * xv : iacc + xv;
              y[at_j] = ref::from_wrap<T>(iacc);
              if (exclusive) iacc = product ? iacc * xv : iacc + xv;
            }
          }
        }
      }
    }
  });
}

}  // namespace

void ref_CumSum(KernelContext& ctx) { ref_scan(ctx, false); }
void ref_CumProd(KernelContext& ctx) { ref_scan(ctx, true); }

}  // namespace kiln
