#include "runtime/kernels/cpu/conv_im2col_source.h"

#include <algorithm>
#include <cstring>

namespace kiln::cpu {

namespace {

// Consecutive panel columns that lie in one output row.
struct RowRun {
  int64_t oh, ow0;
  int col, len;
};

inline void zero(float* d, int64_t n) {
  for (int64_t i = 0; i < n; ++i) d[i] = 0.0f;
}

}  // namespace

const float* Im2colBSource::block(const SgemmKernel& kern, int64_t k0, int64_t kc, int64_t n0,
                                  int64_t nc, float* scratch) const {
  for (int64_t j = 0; j < nc; j += kern.nr) {
    const int cols = static_cast<int>(std::min<int64_t>(kern.nr, nc - j));
    pack_panel(kern.nr, k0, kc, n0 + j, cols, scratch + j * kc);
  }
  return scratch;
}

void Im2colBSource::pack_panel(int nr, int64_t k0, int64_t kc, int64_t p0, int cols,
                               float* dst) const {
  RowRun runs[64];  // nr <= 32 columns, so at most nr runs
  int num_runs = 0;
  for (int col = 0; col < cols;) {
    const int64_t p = p0 + col;
    RowRun r{p / ow_, p % ow_, col, 0};
    r.len = static_cast<int>(std::min<int64_t>(cols - col, ow_ - r.ow0));
    runs[num_runs++] = r;
    col += r.len;
  }
  const int64_t taps = s_.KH * s_.KW;
  const int64_t H = s_.H, W = s_.W, sh = s_.stride_h, sw = s_.stride_w;
  for (int64_t k = 0; k < kc; ++k, dst += nr) {
    const int64_t kk = k0 + k;
    const int64_t c = kk / taps, kh = (kk % taps) / s_.KW, kw = kk % s_.KW;
    const float* plane = x_ + c * H * W;
    const int64_t ih_off = kh * s_.dilation_h - s_.pad_top;
    const int64_t iw_off = kw * s_.dilation_w - s_.pad_left;
    for (int r = 0; r < num_runs; ++r) {
      const RowRun& run = runs[r];
      float* d = dst + run.col;
      const int64_t ih = run.oh * sh + ih_off;
      if (ih < 0 || ih >= H) {
        zero(d, run.len);
        continue;
      }
      const float* row = plane + ih * W;
      if (sw == 1) {
        // Element i reads iw = start + i: valid for i in [lo, hi), padding outside.
        const int64_t start = run.ow0 + iw_off;
        const int64_t lo = std::clamp<int64_t>(-start, 0, run.len);
        const int64_t hi = std::clamp<int64_t>(W - start, lo, run.len);
        zero(d, lo);
        std::memcpy(d + lo, row + start + lo, sizeof(float) * static_cast<size_t>(hi - lo));
        zero(d + hi, run.len - hi);
      } else {
        for (int i = 0; i < run.len; ++i) {
          const int64_t iw = (run.ow0 + i) * sw + iw_off;
          d[i] = iw >= 0 && iw < W ? row[iw] : 0.0f;
        }
      }
    }
    zero(dst + cols, nr - cols);
  }
}

}  // namespace kiln::cpu
