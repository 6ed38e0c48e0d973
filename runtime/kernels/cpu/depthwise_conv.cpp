#include "runtime/kernels/cpu/depthwise_conv.h"

#include <algorithm>
#include <cstring>
#include <vector>

#include "runtime/kernels/cpu/sgemm_pack.h"
#include "runtime/threadpool/thread_pool.h"

namespace kiln::cpu {

namespace {

thread_local ScratchBuffer t_padded_plane;
thread_local ScratchBuffer t_phase_plane;

void depthwise_row_scalar(const float* const* rows, const float* w, int taps, float bias, bool relu,
                          float* out, int64_t width) {
  for (int64_t x = 0; x < width; ++x) out[x] = bias;
  for (int t = 0; t < taps; ++t) {
    const float wt = w[t];
    const float* r = rows[t];
    for (int64_t x = 0; x < width; ++x) out[x] += wt * r[x];
  }
  if (relu) {
    for (int64_t x = 0; x < width; ++x) out[x] = std::max(out[x], 0.0f);
  }
}

DepthwiseRowFn row_kernel(Isa isa) {
  switch (isa) {
    case Isa::Avx512:
      return &depthwise_row_avx512;
    case Isa::Avx2:
      return &depthwise_row_avx2;
    case Isa::Scalar:
      break;
  }
  return &depthwise_row_scalar;
}

// Copies one H x W plane into a (H + pads) x (W + pads) plane with zero borders.
void pad_plane(const KilnConv2dShape& s, const float* src, float* dst, int64_t wp) {
  const int64_t hp = s.H + s.pad_top + s.pad_bottom;
  for (int64_t r = 0; r < hp; ++r) {
    float* d = dst + r * wp;
    const int64_t ih = r - s.pad_top;
    if (ih < 0 || ih >= s.H) {
      std::fill(d, d + wp, 0.0f);
      continue;
    }
    std::fill(d, d + s.pad_left, 0.0f);
    std::memcpy(d + s.pad_left, src + ih * s.W, sizeof(float) * static_cast<size_t>(s.W));
    std::fill(d + s.pad_left + s.W, d + wp, 0.0f);
  }
}

void conv_plane(const KilnConv2dShape& s, int64_t oh_n, int64_t ow_n, DepthwiseRowFn row_fn,
                const float* w, const float* x, float bias, bool relu, float* y) {
  const int64_t wp = s.W + s.pad_left + s.pad_right;
  float* padded = t_padded_plane.floats(static_cast<size_t>((s.H + s.pad_top + s.pad_bottom) * wp));
  pad_plane(s, x, padded, wp);
  // Strided rows: split each padded row into `stride_w` phases (columns p, p+s, p+2s, ...).
  const int64_t hp = s.H + s.pad_top + s.pad_bottom;
  const int64_t pw = (wp + s.stride_w - 1) / s.stride_w;
  float* phases = nullptr;
  if (s.stride_w > 1 && ow_n >= 8) {
    phases = t_phase_plane.floats(static_cast<size_t>(hp * s.stride_w * pw));
    for (int64_t r = 0; r < hp; ++r) {
      const float* src = padded + r * wp;
      for (int64_t p = 0; p < s.stride_w; ++p) {
        float* dst = phases + (r * s.stride_w + p) * pw;
        for (int64_t j = 0; j < pw; ++j) {
          const int64_t col = j * s.stride_w + p;
          dst[j] = col < wp ? src[col] : 0.0f;
        }
      }
    }
  }
  const int taps = static_cast<int>(s.KH * s.KW);
  std::vector<const float*> rows(static_cast<size_t>(taps));
  for (int64_t oh = 0; oh < oh_n; ++oh) {
    float* out = y + oh * ow_n;
    for (int64_t kh = 0; kh < s.KH; ++kh) {
      const float* r = padded + (oh * s.stride_h + kh * s.dilation_h) * wp;
      for (int64_t kw = 0; kw < s.KW; ++kw)
        rows[static_cast<size_t>(kh * s.KW + kw)] = r + kw * s.dilation_w;
    }
    if (s.stride_w == 1) {
      row_fn(rows.data(), w, taps, bias, relu, out, ow_n);
      continue;
    }
    if (phases) {
      // Input column stride*x + kw*dil is column x + (kw*dil)/stride of phase (kw*dil)%stride:
      // contiguous again, so the vectorized stride-1 row kernel applies.
      for (int64_t kh = 0; kh < s.KH; ++kh) {
        const int64_t r = oh * s.stride_h + kh * s.dilation_h;
        for (int64_t kw = 0; kw < s.KW; ++kw) {
          const int64_t c = kw * s.dilation_w;
          rows[static_cast<size_t>(kh * s.KW + kw)] =
              phases + (r * s.stride_w + c % s.stride_w) * pw + c / s.stride_w;
        }
      }
      row_fn(rows.data(), w, taps, bias, relu, out, ow_n);
      continue;
    }
    for (int64_t ow = 0; ow < ow_n; ++ow) {
      float acc = bias;
      const int64_t ix = ow * s.stride_w;
      for (int t = 0; t < taps; ++t) acc += w[t] * rows[static_cast<size_t>(t)][ix];
      out[ow] = relu ? std::max(acc, 0.0f) : acc;
    }
  }
}

}  // namespace

void depthwise_conv(const KilnConv2dShape& s, int64_t out_h, int64_t out_w, Isa isa, const float* w,
                    const float* x, const KilnGemmEpilogue& ep, float* y, ThreadPool* pool) {
  const float* bias = ep.row_bias;
  const int64_t plane = out_h * out_w;
  const DepthwiseRowFn row_fn = row_kernel(isa);
  const int64_t taps = s.KH * s.KW, planes = s.N * s.C;
  auto run = [&](int64_t begin, int64_t end) {
    for (int64_t p = begin; p < end; ++p) {
      const int64_t c = p % s.C;
      conv_plane(s, out_h, out_w, row_fn, w + c * taps, x + p * s.H * s.W, bias ? bias[c] : 0.0f,
                 ep.relu != 0, y + p * plane);
      if (ep.post) ep.post(ep.post_closure, y + p * plane, plane, 1, plane);
    }
  };
  if (pool && planes > 1) {
    pool->parallel_for(planes, run);
  } else {
    run(0, planes);
  }
}

}  // namespace kiln::cpu
