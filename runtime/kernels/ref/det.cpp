// Det: determinant of each trailing [M, M] matrix by LU decomposition with partial pivoting,
// in double precision.
#include <cmath>
#include <utility>
#include <vector>

#include "runtime/kernels/ref/kernel.h"
#include "runtime/kernels/ref/ref_util.h"

namespace kiln {

namespace {

double determinant(std::vector<double>& a, int64_t n) {
  double det = 1.0;
  for (int64_t col = 0; col < n; ++col) {
    int64_t pivot = col;
    for (int64_t r = col + 1; r < n; ++r) {
      if (std::fabs(a[static_cast<size_t>(r * n + col)]) >
          std::fabs(a[static_cast<size_t>(pivot * n + col)]))
        pivot = r;
    }
    const double p = a[static_cast<size_t>(pivot * n + col)];
    if (p == 0.0) return 0.0;
    if (pivot != col) {
      for (int64_t k = 0; k < n; ++k) {
        std::swap(a[static_cast<size_t>(pivot * n + k)], a[static_cast<size_t>(col * n + k)]);
      }
      det = -det;
    }
    det *= p;
    for (int64_t r = col + 1; r < n; ++r) {
      const double f = a[static_cast<size_t>(r * n + col)] / p;
      for (int64_t k = col; k < n; ++k) {
        a[static_cast<size_t>(r * n + k)] -= f * a[static_cast<size_t>(col * n + k)];
      }
    }
  }
  return det;
}

}  // namespace

void ref_Det(KernelContext& ctx) {
  const Tensor& x = ctx.input(0);
  ctx.check(x.rank() >= 2 && x.dim(x.rank() - 1) == x.dim(x.rank() - 2),
            "input must be [..., M, M], got ", x.describe());
  const int64_t n = x.dim(x.rank() - 1);
  Tensor& y = ctx.output(0);
  const int64_t count = y.numel();
  dispatch_dtype(x.dtype(), "Det", [&]<typename T>() {
    if constexpr (!std::is_floating_point_v<ref::compute_t<T>>) {
      ctx.fail("dtype ", dtype_name(x.dtype()), " is not supported");
    } else {
      const T* px = x.data<T>();
      T* py = y.data<T>();
      std::vector<double> a(static_cast<size_t>(n * n));
      for (int64_t b = 0; b < count; ++b) {
        for (int64_t i = 0; i < n * n; ++i) {
          a[static_cast<size_t>(i)] =
              static_cast<double>(static_cast<ref::compute_t<T>>(px[b * n * n + i]));
        }
        py[b] = static_cast<T>(static_cast<ref::compute_t<T>>(determinant(a, n)));
      }
    }
  });
}

}  // namespace kiln
