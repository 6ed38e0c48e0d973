// Reference kernel for TopK: the k largest (or smallest) elements along an axis with their
// indices, sorted, equal values in increasing index order, NaN above every number.
// With sorted=0 any order is allowed; this kernel returns the sorted one.
#include <algorithm>
#include <numeric>

#include "runtime/kernels/ref/kernel.h"
#include "runtime/kernels/ref/select_util.h"

namespace kiln {

void ref_TopK(KernelContext& ctx) {
  const Tensor& x = ctx.input(0);
  ctx.check(x.rank() >= 1, "input must have rank >= 1, got a scalar");
  int64_t k;
  if (ctx.has_input(1)) {
    const Tensor& kt = ctx.input(1);
    ctx.check(is_int(kt.dtype()) && kt.numel() == 1, "K must be one int64, got ", kt.describe());
    k = kt.as_int64(0);
  } else {
    k = ctx.attr().get_int("k");
  }
  int64_t axis = ctx.attr().get_int("axis", -1);
  ctx.check(axis >= -x.rank() && axis < x.rank(), "axis ", axis, " is out of range for rank ",
            x.rank());
  if (axis < 0) axis += x.rank();
  const ref::AxisView v = ref::AxisView::of(x.dims(), axis);
  ctx.check(k >= 0 && k <= v.n, "k = ", k, " is out of range for axis ", axis, " of size ", v.n);
  const bool largest = ctx.attr().get_int("largest", 1) != 0;

  Dims out_dims = x.dims();
  out_dims[static_cast<size_t>(axis)] = k;
  Tensor& values = ctx.output(0, out_dims);
  int64_t* indices = ctx.wants_output(1) ? ctx.output(1, out_dims).data<int64_t>() : nullptr;
  const ref::AxisView ov = ref::AxisView::of(out_dims, axis);

  dispatch_dtype(x.dtype(), "TopK", [&]<typename T>() {
    if constexpr (std::is_same_v<T, bool>) {
      ctx.fail("bool input is not supported");
    } else {
      const T* p = x.data<T>();
      T* y = values.data<T>();
      std::vector<int64_t> order(static_cast<size_t>(v.n));
      for (int64_t o = 0; o < v.outer; ++o) {
        for (int64_t i = 0; i < v.inner; ++i) {
          std::iota(order.begin(), order.end(), int64_t{0});
          // stable: equal values keep increasing index order
          std::stable_sort(order.begin(), order.end(), [&](int64_t a, int64_t b) {
            const T va = p[v.at(o, a, i)], vb = p[v.at(o, b, i)];
            return largest ? ref::greater_nan_top(va, vb) : ref::less_nan_top(va, vb);
          });
          for (int64_t j = 0; j < k; ++j) {
            const int64_t src = order[static_cast<size_t>(j)];
            y[ov.at(o, j, i)] = p[v.at(o, src, i)];
            if (indices) indices[ov.at(o, j, i)] = src;
          }
        }
      }
    }
  });
}

}  // namespace kiln
