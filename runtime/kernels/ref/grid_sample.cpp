// Reference GridSample for any number of spatial dims. Each output point reads a normalized
// coordinate from the grid (last dim ordered x, y, z: innermost spatial dim first), maps it to
// input pixels, applies the padding rule, and interpolates as a tensor product of 1-D taps.
#include <cmath>

#include "runtime/kernels/ref/kernel.h"
#include "runtime/kernels/ref/ref_util.h"

namespace kiln {
namespace {

enum class Mode { Nearest, Linear, Cubic };
enum class Pad { Zeros, Border, Reflection };

// Reflects x into [lo, hi] by bouncing off the nearer border until inside.
double reflect(double x, double lo, double hi) {
  const double range = hi - lo;
  if (range <= 0) return lo;
  if (x < lo) {
    const double dx = lo - x;
    const double n = std::floor(dx / range), r = dx - n * range;
    return std::fmod(n, 2) == 0 ? lo + r : hi - r;
  }
  if (x > hi) {
    const double dx = x - hi;
    const double n = std::floor(dx / range), r = dx - n * range;
    return std::fmod(n, 2) == 0 ? hi - r : lo + r;
  }
  return x;
}

double cubic_coeff(double x) {  // Keys kernel, a = -0.75, |x| < 2
  constexpr double a = -0.75;
  x = std::fabs(x);
  if (x <= 1) return ((a + 2) * x - (a + 3)) * x * x + 1;
  if (x < 2) return ((a * x - 5 * a) * x + 8 * a) * x - 4 * a;
  return 0;
}

struct Sampler {
  Mode mode;
  Pad pad;
  bool align;
  Dims size;  // spatial dims of X
  std::vector<double> lo, hi;  // per-dim borders for reflection

  // Maps an integer pixel index along dim d through the padding rule; -1 = reads zero.
  int64_t pixel(size_t d, int64_t i) const {
    const int64_t n = size[d];
    if (pad == Pad::Zeros) return i >= 0 && i < n ? i : -1;
    if (pad == Pad::Border) return std::clamp<int64_t>(i, 0, n - 1);
    const double r = reflect(static_cast<double>(i), lo[d], hi[d]);
    return std::clamp<int64_t>(static_cast<int64_t>(r), 0, n - 1);  // truncation, as the spec
  }
};

}  // namespace

void ref_GridSample(KernelContext& ctx) {
  const Tensor &x = ctx.input(0), &grid = ctx.input(1);
  const Attributes& a = ctx.attr();
  const int64_t r = x.rank() - 2;
  ctx.check(r >= 1 && grid.rank() == x.rank() && grid.dim(grid.rank() - 1) == r &&
                grid.dim(0) == x.dim(0),
            "grid ", grid.describe(), " does not fit X ", x.describe());
  Sampler s;
  const std::string mode = a.get_string("mode", ctx.opset >= 20 ? "linear" : "bilinear");
  s.mode = mode == "nearest" ? Mode::Nearest
           : (mode == "cubic" || mode == "bicubic") ? Mode::Cubic : Mode::Linear;
  const std::string pad = a.get_string("padding_mode", "zeros");
  s.pad = pad == "border" ? Pad::Border : pad == "reflection" ? Pad::Reflection : Pad::Zeros;
  s.align = a.get_int("align_corners", 0) != 0;
  for (int64_t d = 0; d < r; ++d) {
    const int64_t n = x.dim(d + 2);
    s.size.push_back(n);
    s.lo.push_back(s.align ? 0.0 : -0.5);
    s.hi.push_back(s.align ? static_cast<double>(n) - 1 : static_cast<double>(n) - 0.5);
  }
  const int64_t N = x.dim(0), C = x.dim(1);
  int64_t in_plane = 1, out_plane = 1;
  for (int64_t d = 0; d < r; ++d) {
    in_plane *= x.dim(d + 2);
    out_plane *= grid.dim(d + 1);
  }
  const std::vector<int64_t> in_strides = ref::strides_of(s.size);
  const std::vector<double> g = [&] {
    std::vector<double> v(static_cast<size_t>(grid.numel()));
    for (int64_t i = 0; i < grid.numel(); ++i) v[static_cast<size_t>(i)] = grid.as_double(i);
    return v;
  }();
  Tensor& y = ctx.output(0);
  if (y.numel() == 0) return;
  ctx.check(in_plane > 0, "X has an empty spatial dim but the output is not empty");
  const size_t ru = static_cast<size_t>(r);
  const int taps = s.mode == Mode::Nearest ? 1 : s.mode == Mode::Linear ? 2 : 4;

  dispatch_dtype(x.dtype(), "GridSample", [&]<typename T>() {
    const T* xs = x.data<T>();
    T* ys = y.data<T>();
    std::vector<std::vector<int64_t>> idx(ru, std::vector<int64_t>(static_cast<size_t>(taps)));
    std::vector<std::vector<double>> w(ru, std::vector<double>(static_cast<size_t>(taps)));
    for (int64_t n = 0; n < N; ++n) {
      for (int64_t o = 0; o < out_plane; ++o) {
        const double* gp = &g[static_cast<size_t>((n * out_plane + o) * r)];
        // Per spatial dim: the taps' pixel indices (after padding) and weights.
        for (size_t d = 0; d < ru; ++d) {
          const double gn = gp[ru - 1 - d];  // grid lists x (innermost dim) first
          const double len = static_cast<double>(s.size[d]);
          double c = s.align ? (gn + 1) / 2 * (len - 1) : ((gn + 1) * len - 1) / 2;
          if (s.mode == Mode::Nearest) c = std::nearbyint(c);
          if (c < s.lo[d] || c > s.hi[d]) {
            if (s.pad == Pad::Border) c = std::clamp(c, 0.0, len - 1);
            else if (s.pad == Pad::Reflection) c = reflect(c, s.lo[d], s.hi[d]);
          }
          if (!std::isfinite(c)) c = 0;  // NaN grid: sample pixel 0 rather than index garbage
          c = std::clamp(c, -1e9, 1e9);
          if (s.mode == Mode::Nearest) {
            idx[d][0] = s.pixel(d, static_cast<int64_t>(c));
            w[d][0] = 1;
            continue;
          }
          const double fl = std::floor(c), t = c - fl;
          const int64_t first = static_cast<int64_t>(fl) - (taps == 4 ? 1 : 0);
          for (int k = 0; k < taps; ++k) {
            idx[d][static_cast<size_t>(k)] = s.pixel(d, first + k);
            w[d][static_cast<size_t>(k)] =
                taps == 2 ? (k == 0 ? 1 - t : t) : cubic_coeff(t - (k - 1));
          }
        }
        for (int64_t ch = 0; ch < C; ++ch) {
          const T* plane = xs + (n * C + ch) * in_plane;
          double acc = 0;
          // Walk the taps^r corners of the interpolation stencil.
          std::vector<int> corner(ru, 0);
          while (true) {
            double wt = 1;
            int64_t off = 0;
            bool zero = false;
            for (size_t d = 0; d < ru; ++d) {
              const int64_t i = idx[d][static_cast<size_t>(corner[d])];
              if (i < 0) { zero = true; break; }
              wt *= w[d][static_cast<size_t>(corner[d])];
              off += i * in_strides[d];
            }
            if (!zero) acc += wt * static_cast<double>(static_cast<ref::compute_t<T>>(plane[off]));
            size_t d = ru;
            while (d > 0 && ++corner[d - 1] == taps) corner[--d] = 0;
            if (d == 0) break;
          }
          ys[(n * C + ch) * out_plane + o] = T(static_cast<ref::compute_t<T>>(acc));
        }
      }
    }
  });
}

}  // namespace kiln
