// Reference kernels for ArgMax and ArgMin (keepdims, select_last_index).
#include "runtime/kernels/ref/kernel.h"
#include "runtime/kernels/ref/select_util.h"

namespace kiln {
namespace {

void ref_arg_extreme(KernelContext& ctx, bool is_max) {
  const Tensor& x = ctx.input(0);
  ctx.check(x.rank() >= 1, "input must have rank >= 1, got a scalar");
  int64_t axis = ctx.attr().get_int("axis", 0);
  ctx.check(axis >= -x.rank() && axis < x.rank(), "axis ", axis, " is out of range for rank ",
            x.rank());
  if (axis < 0) axis += x.rank();
  const bool last = ctx.attr().get_int("select_last_index", 0) != 0;
  const ref::AxisView v = ref::AxisView::of(x.dims(), axis);
  ctx.check(v.n > 0 || v.outer * v.inner == 0, "cannot select along axis ", axis, " of size 0");
  int64_t* y = ctx.output(0).data<int64_t>();
  dispatch_dtype(x.dtype(), "ArgMax/ArgMin", [&]<typename T>() {
    if constexpr (std::is_same_v<T, bool>) {
      ctx.fail("bool input is not supported");
    } else {
      const T* p = x.data<T>();
      for (int64_t o = 0; o < v.outer; ++o) {
        for (int64_t i = 0; i < v.inner; ++i) {
          y[o * v.inner + i] = ref::arg_extreme(p + v.at(o, 0, i), v.n, v.inner, is_max, last);
        }
      }
    }
  });
}

}  // namespace

void ref_ArgMax(KernelContext& ctx) { ref_arg_extreme(ctx, true); }
void ref_ArgMin(KernelContext& ctx) { ref_arg_extreme(ctx, false); }

}  // namespace kiln
