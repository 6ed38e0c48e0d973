// Reference kernels for Softmax, LogSoftmax and Hardmax. Before opset 13 the input is seen as
// 2-D [prod(dims[:axis]), prod(dims[axis:])] and normalized over the second dim; from opset 13
// along `axis` alone. Computed in double with the row max subtracted first.
#include <cmath>

#include "runtime/kernels/ref/kernel.h"
#include "runtime/kernels/ref/select_util.h"

namespace kiln {
namespace {

ref::AxisView softmax_view(const KernelContext& ctx, const Tensor& x) {
  const int64_t rank = x.rank();
  int64_t axis = ctx.attr().get_int("axis", ctx.opset < 13 ? 1 : -1);
  const int64_t hi = ctx.opset < 13 ? rank : std::max<int64_t>(rank - 1, 0);
  ctx.check(axis >= -rank && axis <= hi, "axis ", axis, " is out of range for rank ", rank);
  if (axis < 0) axis += rank;
  return ctx.opset >= 13 ? ref::AxisView::of(x.dims(), axis)
                         : ref::AxisView::flattened_at(x.dims(), axis);
}

enum class Mode { Softmax, LogSoftmax, Hardmax };

void ref_softmax_like(KernelContext& ctx, Mode mode) {
  const Tensor& x = ctx.input(0);
  const ref::AxisView v = softmax_view(ctx, x);
  Tensor& out = ctx.output(0);
  dispatch_dtype(x.dtype(), "Softmax", [&]<typename T>() {
    if constexpr (!ref::is_float_v<T>) {
      ctx.fail("input must be a float tensor, got ", x.describe());
    } else {
      const T* p = x.data<T>();
      T* y = out.data<T>();
      for (int64_t o = 0; o < v.outer; ++o) {
        for (int64_t i = 0; i < v.inner; ++i) {
          if (v.n == 0) continue;
          const T* row = p + v.at(o, 0, i);
          T* yrow = y + v.at(o, 0, i);
          if (mode == Mode::Hardmax) {
            const int64_t hot = ref::arg_extreme(row, v.n, v.inner, true, false);
            for (int64_t j = 0; j < v.n; ++j) yrow[j * v.inner] = T(j == hot ? 1.0f : 0.0f);
            continue;
          }
          double m = ref::to_f64(row[0]);
          for (int64_t j = 1; j < v.n; ++j) m = std::max(m, ref::to_f64(row[j * v.inner]));
          double sum = 0;
          for (int64_t j = 0; j < v.n; ++j) sum += std::exp(ref::to_f64(row[j * v.inner]) - m);
          const double log_sum = std::log(sum);
          for (int64_t j = 0; j < v.n; ++j) {
            const double z = ref::to_f64(row[j * v.inner]) - m;
            yrow[j * v.inner] =
                ref::from_f64<T>(mode == Mode::Softmax ? std::exp(z) / sum : z - log_sum);
          }
        }
      }
    }
  });
}

}  // namespace

void ref_Softmax(KernelContext& ctx) { ref_softmax_like(ctx, Mode::Softmax); }
void ref_LogSoftmax(KernelContext& ctx) { ref_softmax_like(ctx, Mode::LogSoftmax); }
void ref_Hardmax(KernelContext& ctx) { ref_softmax_like(ctx, Mode::Hardmax); }

}  // namespace kiln
