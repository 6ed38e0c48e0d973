#include "runtime/kernels/cpu/pool.h"

#include <algorithm>
#include <limits>
#include <stdexcept>

#include "runtime/kernels/cpu/sgemm_pack.h"
#include "runtime/threadpool/thread_pool.h"

namespace {

using kiln::cpu::ScratchBuffer;

thread_local ScratchBuffer t_padded_plane;

int64_t extent(int64_t in, int64_t k, int64_t stride, int64_t p0, int64_t p1, int64_t dil) {
  return (in + p0 + p1 - dil * (k - 1) - 1) / stride + 1;
}

void validate(const KilnPool2dShape& s) {
  const bool ok = s.N >= 0 && s.C > 0 && s.H > 0 && s.W > 0 && s.KH > 0 && s.KW > 0 &&
                  s.stride_h > 0 && s.stride_w > 0 && s.dilation_h > 0 && s.dilation_w > 0 &&
                  s.pad_top >= 0 && s.pad_left >= 0 && s.pad_bottom >= 0 && s.pad_right >= 0 &&
                  extent(s.H, s.KH, s.stride_h, s.pad_top, s.pad_bottom, s.dilation_h) > 0 &&
                  extent(s.W, s.KW, s.stride_w, s.pad_left, s.pad_right, s.dilation_w) > 0;
  if (!ok) throw std::invalid_argument("kiln_max_pool2d: inconsistent shape");
}

// Splits `planes` over the pool (or runs them here).
template <typename Fn>
void for_planes(int64_t planes, kiln::ThreadPool* pool, Fn fn) {
  auto run = [&](int64_t b, int64_t e) {
    for (int64_t p = b; p < e; ++p) fn(p);
  };
  if (pool && planes > 1) {
    pool->parallel_for(planes, run);
  } else {
    run(0, planes);
  }
}

// One plane: copied into a -inf-bordered plane, so every window reads in bounds and padding
// never wins; for stride_w 1 each output row is an elementwise max of shifted input rows.
void max_pool_plane(const KilnPool2dShape& s, int64_t oh_n, int64_t ow_n, const float* x,
                    float* y) {
  constexpr float kLowest = -std::numeric_limits<float>::infinity();
  const int64_t hp = s.H + s.pad_top + s.pad_bottom, wp = s.W + s.pad_left + s.pad_right;
  float* padded = t_padded_plane.floats(static_cast<size_t>(hp * wp));
  for (int64_t r = 0; r < hp; ++r) {
    float* d = padded + r * wp;
    const int64_t ih = r - s.pad_top;
    std::fill(d, d + wp, kLowest);
    if (ih >= 0 && ih < s.H) std::copy(x + ih * s.W, x + (ih + 1) * s.W, d + s.pad_left);
  }
  for (int64_t oh = 0; oh < oh_n; ++oh) {
    float* out = y + oh * ow_n;
    std::fill(out, out + ow_n, kLowest);
    for (int64_t kh = 0; kh < s.KH; ++kh) {
      const float* row = padded + (oh * s.stride_h + kh * s.dilation_h) * wp;
      for (int64_t kw = 0; kw < s.KW; ++kw) {
        const float* r = row + kw * s.dilation_w;
        if (s.stride_w == 1) {
          for (int64_t ow = 0; ow < ow_n; ++ow) out[ow] = std::max(out[ow], r[ow]);
        } else {
          for (int64_t ow = 0; ow < ow_n; ++ow) out[ow] = std::max(out[ow], r[ow * s.stride_w]);
        }
      }
    }
  }
}

}  // namespace

extern "C" {

int64_t kiln_pool2d_output_height(const KilnPool2dShape* s) {
  validate(*s);
  return extent(s->H, s->KH, s->stride_h, s->pad_top, s->pad_bottom, s->dilation_h);
}

int64_t kiln_pool2d_output_width(const KilnPool2dShape* s) {
  validate(*s);
  return extent(s->W, s->KW, s->stride_w, s->pad_left, s->pad_right, s->dilation_w);
}

void kiln_max_pool2d(const KilnPool2dShape* shape, const float* X, float* Y,
                     kiln::ThreadPool* pool) {
  const KilnPool2dShape& s = *shape;
  const int64_t oh = kiln_pool2d_output_height(shape), ow = kiln_pool2d_output_width(shape);
  for_planes(s.N * s.C, pool,
             [&](int64_t p) { max_pool_plane(s, oh, ow, X + p * s.H * s.W, Y + p * oh * ow); });
}

void kiln_global_average_pool(int64_t N, int64_t C, int64_t H, int64_t W, const float* X, float* Y,
                              kiln::ThreadPool* pool) {
  const int64_t hw = H * W;
  for_planes(N * C, pool, [&](int64_t p) {
    // Eight partial sums: vectorizable, and the same order for every thread count.
    const float* x = X + p * hw;
    float part[8] = {};
    int64_t i = 0;
    for (; i + 8 <= hw; i += 8) {
      for (int j = 0; j < 8; ++j) part[j] += x[i + j];
    }
    float sum = 0.0f;
    for (float v : part) sum += v;
    for (; i < hw; ++i) sum += x[i];
    Y[p] = sum / static_cast<float>(hw);
  });
}

}  // extern "C"
