#include "tools/kiln-run/tensor_compare.h"

#include <cmath>

namespace kiln::tools {

CompareResult compare_tensors(const Tensor& actual, const Tensor& expected, double rtol,
                              double atol) {
  CompareResult r;
  if (actual.dtype() != expected.dtype() || actual.dims() != expected.dims()) {
    r.detail = "got " + actual.describe() + ", expected " + expected.describe();
    return r;
  }
  const bool floating = is_float(actual.dtype());
  int64_t bad = 0, worst_at = -1;
  double worst = 0;
  for (int64_t i = 0; i < actual.numel(); ++i) {
    bool ok;
    double diff;
    if (floating) {
      const double a = actual.as_double(i), e = expected.as_double(i);
      if (std::isnan(a) || std::isnan(e)) {
        ok = std::isnan(a) && std::isnan(e);
        diff = ok ? 0 : INFINITY;
      } else if (std::isinf(a) || std::isinf(e)) {
        ok = a == e;
        diff = ok ? 0 : INFINITY;
      } else {
        diff = std::fabs(a - e);
        ok = diff <= atol + rtol * std::fabs(e);
      }
    } else {
      const int64_t a = actual.as_int64(i), e = expected.as_int64(i);
      ok = a == e;
      diff = std::fabs(static_cast<double>(a) - static_cast<double>(e));
    }
    if (!ok) ++bad;
    if (worst_at < 0 || diff > worst) {
      worst = diff;
      worst_at = i;
    }
  }
  r.pass = bad == 0;
  r.detail =
      cat("max abs diff ", worst, worst_at >= 0 ? cat(" at element ", worst_at) : "", ", ", bad,
          " of ", actual.numel(), " elements out of tolerance (rtol ", rtol, ", atol ", atol, ")");
  return r;
}

}  // namespace kiln::tools
