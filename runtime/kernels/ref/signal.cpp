// Reference window functions and DFT. The DFT is the plain O(n²) sum in double, per line along
// the transform axis: obviously correct, and the oracle for any FFT a backend may use.
#include <cmath>
#include <numbers>

#include "runtime/kernels/ref/kernel.h"
#include "runtime/kernels/ref/ref_util.h"

namespace kiln {
namespace {

enum class Window { Hann, Hamming, Blackman };

void window(KernelContext& ctx, Window kind) {
  const Tensor& s = ctx.input(0);
  ctx.check(s.numel() == 1, "size must be a scalar, got ", s.describe());
  const int64_t n = s.as_int64(0);
  ctx.check(n >= 0 && n <= (int64_t{1} << 32), "window size ", n, " is out of range");
  const bool periodic = ctx.attr().get_int("periodic", 1) != 0;
  const double denom = static_cast<double>(periodic ? n : n - 1);
  constexpr double pi = std::numbers::pi;
  Tensor& y = ctx.output(0, {n});
  dispatch_dtype(y.dtype(), "window output", [&]<typename T>() {
    T* p = y.data<T>();
    for (int64_t i = 0; i < n; ++i) {
      double v = 1.0;  // a symmetric window of length 1 is [1]
      if (denom > 0) {
        const double x = static_cast<double>(i) / denom;
        switch (kind) {
          case Window::Hann: v = std::pow(std::sin(pi * x), 2); break;
          case Window::Hamming: v = 25.0 / 46.0 - (21.0 / 46.0) * std::cos(2 * pi * x); break;
          case Window::Blackman:
            v = 0.42 - 0.5 * std::cos(2 * pi * x) + 0.08 * std::cos(4 * pi * x);
            break;
        }
      }
      if constexpr (std::is_same_v<T, bool>) p[i] = v != 0;
      else p[i] = T(static_cast<ref::compute_t<T>>(v));  // integer outputs truncate, as a cast
    }
  });
}

}  // namespace

void ref_HannWindow(KernelContext& ctx) { window(ctx, Window::Hann); }
void ref_HammingWindow(KernelContext& ctx) { window(ctx, Window::Hamming); }
void ref_BlackmanWindow(KernelContext& ctx) { window(ctx, Window::Blackman); }

void ref_DFT(KernelContext& ctx) {
  const Tensor& x = ctx.input(0);
  const Attributes& a = ctx.attr();
  const bool inverse = a.get_int("inverse", 0) != 0, onesided = a.get_int("onesided", 0) != 0;
  const int64_t r = x.rank();
  ctx.check(r >= 2 && (x.dim(r - 1) == 1 || x.dim(r - 1) == 2),
            "input must be [..., 1] (real) or [..., 2] (complex), got ", x.describe());
  int64_t axis = ctx.opset >= 20 ? (ctx.has_input(2) ? ctx.input(2).as_int64(0) : -2)
                                 : a.get_int("axis", 1);
  ctx.check(axis >= -r && axis <= r - 2 && axis != -1, "axis ", axis, " is out of range");
  if (axis < 0) axis += r;
  const int64_t m = x.dim(axis);  // input length along the axis
  int64_t n = inverse && onesided ? 2 * (m - 1) : m;
  if (ctx.has_input(1)) n = ctx.input(1).as_int64(0);
  ctx.check(n > 0, "dft_length must be positive, got ", n);
  const bool irfft = inverse && onesided;
  const int64_t out_len = irfft ? n : onesided ? n / 2 + 1 : n;
  Dims out_dims = x.dims();
  out_dims[static_cast<size_t>(axis)] = out_len;
  out_dims.back() = irfft ? 1 : 2;
  Tensor& y = ctx.output(0, out_dims);

  const bool complex_in = x.dim(r - 1) == 2;
  int64_t outer = 1, inner = 1;
  for (int64_t d = 0; d < axis; ++d) outer *= x.dim(d);
  for (int64_t d = axis + 1; d < r - 1; ++d) inner *= x.dim(d);
  std::vector<double> xs(static_cast<size_t>(x.numel()));
  for (int64_t i = 0; i < x.numel(); ++i) xs[static_cast<size_t>(i)] = x.as_double(i);
  std::vector<double> ys(static_cast<size_t>(y.numel()), 0.0);
  const int64_t cin = complex_in ? 2 : 1, cout = irfft ? 1 : 2;
  const double sign = inverse ? 1.0 : -1.0, norm = inverse ? 1.0 / static_cast<double>(n) : 1.0;
  const double w0 = 2 * std::numbers::pi / static_cast<double>(n);
  for (int64_t o = 0; o < outer; ++o) {
    for (int64_t i = 0; i < inner; ++i) {
      // Element t of this line (zero past the input, which also truncates to n).
      const auto re = [&](int64_t t) {
        return t < m ? xs[static_cast<size_t>(((o * m + t) * inner + i) * cin)] : 0.0;
      };
      const auto im = [&](int64_t t) {
        return t < m && complex_in ? xs[static_cast<size_t>(((o * m + t) * inner + i) * cin + 1)] : 0.0;
      };
      for (int64_t k = 0; k < out_len; ++k) {
        double sr = 0, si = 0;
        if (irfft) {
          // Real signal from a one-sided spectrum: bins above n/2 are the conjugates of those
          // below; the imaginary parts of DC and (even n) Nyquist do not contribute.
          for (int64_t f = 0; f < n; ++f) {
            const int64_t src = f <= n / 2 ? f : n - f;
            const double fr = re(src), fi = f <= n / 2 ? im(src) : -im(src);
            const double ang = w0 * static_cast<double>((f * k) % n);
            sr += fr * std::cos(ang) - fi * std::sin(ang);
          }
        } else {
          const int64_t len = std::min(m, n);
          for (int64_t t = 0; t < len; ++t) {
            const double ang = sign * w0 * static_cast<double>((t * k) % n);
            const double c = std::cos(ang), s = std::sin(ang);
            sr += re(t) * c - im(t) * s;
            si += re(t) * s + im(t) * c;
          }
        }
        const size_t at = static_cast<size_t>(((o * out_len + k) * inner + i) * cout);
        ys[at] = sr * norm;
        if (cout == 2) ys[at + 1] = si * norm;
      }
    }
  }
  dispatch_dtype(y.dtype(), "DFT", [&]<typename T>() {
    T* p = y.data<T>();
    for (size_t i = 0; i < ys.size(); ++i) p[i] = T(static_cast<ref::compute_t<T>>(ys[i]));
  });
}

}  // namespace kiln
