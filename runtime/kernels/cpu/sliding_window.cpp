#include "runtime/kernels/cpu/sliding_window.h"

#include <algorithm>
#include <limits>

namespace kiln::cpu {

namespace {

// Kernel steps [lo, hi) whose tap start + k * dil lies in [0, in).
void in_bounds(int64_t start, int64_t dil, int64_t k, int64_t in, int64_t* lo, int64_t* hi) {
  *lo = start >= 0 ? 0 : std::min(k, (-start + dil - 1) / dil);
  *hi = start >= in ? 0 : std::min(k, (in - 1 - start) / dil + 1);
  if (*hi < *lo) *hi = *lo;
}

}  // namespace

void window_plane_scalar(const PlaneWindow& g, WindowOp op, const float* w, float bias, bool relu,
                         const float* x, float* y) {
  const bool conv = op == WindowOp::Conv;
  for (int64_t oh = 0; oh < g.OH; ++oh) {
    const int64_t ih0 = oh * g.stride_h - g.pad_top;
    int64_t h0, h1;
    in_bounds(ih0, g.dilation_h, g.KH, g.H, &h0, &h1);
    for (int64_t ow = 0; ow < g.OW; ++ow) {
      const int64_t iw0 = ow * g.stride_w - g.pad_left;
      int64_t w0, w1;
      in_bounds(iw0, g.dilation_w, g.KW, g.W, &w0, &w1);
      float acc = conv ? bias : -std::numeric_limits<float>::infinity();
      for (int64_t kh = h0; kh < h1; ++kh) {
        const float* row = x + (ih0 + kh * g.dilation_h) * g.W + iw0;
        for (int64_t kw = w0; kw < w1; ++kw) {
          const float v = row[kw * g.dilation_w];
          acc = conv ? acc + w[kh * g.KW + kw] * v : std::max(acc, v);
        }
      }
      y[oh * g.OW + ow] = conv && relu ? std::max(acc, 0.0f) : acc;
    }
  }
}

void window_plane(Isa isa, const PlaneWindow& g, WindowOp op, const float* w, float bias,
                  bool relu, const float* x, float* y) {
  switch (isa) {
    case Isa::Avx512:
      return window_plane_avx512(g, op, w, bias, relu, x, y);
    case Isa::Avx2:
      return window_plane_avx2(g, op, w, bias, relu, x, y);
    case Isa::Scalar:
      break;
  }
  window_plane_scalar(g, op, w, bias, relu, x, y);
}

}  // namespace kiln::cpu
