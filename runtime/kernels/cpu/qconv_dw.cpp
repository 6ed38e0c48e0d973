// int8 depthwise convolution (qconv_dw.h) and the u8 / residual finish of the int8
// convolutions (qgemm_util.h).
#include "runtime/kernels/cpu/qconv_dw.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <vector>

#include "runtime/kernels/cpu/cpu_isa.h"
#include "runtime/kernels/cpu/qgemm.h"
#include "runtime/kernels/cpu/qgemm_kernel.h"
#include "runtime/kernels/cpu/qgemm_util.h"
#include "runtime/kernels/cpu/sgemm_pack.h"
#include "runtime/threadpool/thread_pool.h"

namespace kiln::cpu {

void finish_rows(const float* t, int64_t ldt, int64_t rows, int64_t cols, const QFinish& f,
                 int64_t off, int64_t ld) {
  if (active_isa() >= Isa::Avx512) return finish_rows_avx512(t, ldt, rows, cols, f, off, ld);
  constexpr int64_t kChunk = 64;
  const float inv = 1.0f / f.y_scale;
  alignas(64) float buf[kChunk];
  const auto* zf = static_cast<const float*>(f.z);
  const auto* zq = static_cast<const uint8_t*>(f.z);
  for (int64_t r = 0; r < rows; ++r) {
    for (int64_t j0 = 0; j0 < cols; j0 += kChunk) {
      const int64_t n = std::min(kChunk, cols - j0), o = off + r * ld + j0;
      const float* src = t + r * ldt + j0;
      if (!f.z) {
        for (int64_t j = 0; j < n; ++j) buf[j] = std::min(std::max(src[j], f.lo), f.hi);
      } else if (f.z_u8) {
        for (int64_t j = 0; j < n; ++j) {
          const float z = static_cast<float>(static_cast<int32_t>(zq[o + j]) - f.z_zero_point) *
                          f.z_scale;
          buf[j] = std::min(std::max(src[j] + z, f.lo), f.hi);
        }
      } else {
        for (int64_t j = 0; j < n; ++j) buf[j] = std::min(std::max(src[j] + zf[o + j], f.lo), f.hi);
      }
      if (f.y_u8) {
        uint8_t* dst = static_cast<uint8_t*>(f.y) + o;
        for (int64_t j = 0; j < n; ++j) {
          const float q = std::nearbyint(buf[j] * inv) + f.y_zero_point;
          dst[j] = !(q > 0.0f) ? 0 : q >= 255.0f ? 255 : static_cast<uint8_t>(q);
        }
      } else
        std::memcpy(static_cast<float*>(f.y) + o, buf, static_cast<size_t>(n) * sizeof(float));
    }
  }
}

void qdw_plane_scalar(const qdw::Args& a, const uint8_t* x, float* xp, float* out) {
  qdw::fill_plane(a, x, xp, [&](float* d, const uint8_t* src, int64_t i0, int64_t i1) {
    qdw::convert_row(a, d, src, i0, i1);
  });
  std::fill(out, out + a.OH * a.OW, 0.0f);
  int64_t tap_off[kQDwMaxTaps];
  qdw::tap_offsets(a, tap_off);
  for (int64_t oy = 0; oy < a.OH; ++oy) {
    float* o = out + oy * a.OW;
    for (int64_t t = 0; t < a.KH * a.KW; ++t) {
      const float* src = xp + oy * a.sh * a.sw * a.wq + tap_off[t];
      for (int64_t ox = 0; ox < a.OW; ++ox) o[ox] += a.w[t] * src[ox];
    }
    for (int64_t ox = 0; ox < a.OW; ++ox) o[ox] = qdw::dequantize(a, o[ox]);
  }
}

bool qconv_dw_applies(const KilnConv2dShape& s) {
  return s.group > 1 && s.group == s.C && s.M == s.C && s.KH * s.KW <= kQDwMaxTaps;
}

bool qconv_dw3_applies(const KilnConv2dShape& s) {
  return qconv_dw_applies(s) && s.KH == 3 && s.KW == 3 && s.stride_h == s.stride_w &&
         (s.stride_h == 1 || s.stride_h == 2) && s.pad_top == 1 && s.pad_left == 1 &&
         s.pad_bottom == 1 && s.pad_right == 1 && s.dilation_h == 1 && s.dilation_w == 1 &&
         active_isa() >= Isa::Avx512 && cpu_has_avx512_vnni() && cpu_has_avx512_vbmi2();
}

bool cpu_has_avx512_vbmi2() {
#if defined(__x86_64__) || defined(__i386__)
  static const bool has = [] {
    __builtin_cpu_init();
    return __builtin_cpu_supports("avx512vbmi") != 0 &&
           __builtin_cpu_supports("avx512vbmi2") != 0;
  }();
  return has;
#else
  return false;
#endif
}


namespace {

// Sets bits [i, i + n) of the bit vector b.
void set_bits(std::vector<uint64_t>& b, int64_t i, int64_t n) {
  while (n > 0) {
    const int64_t bit = i % 64, k = std::min<int64_t>(n, 64 - bit);
    b[static_cast<size_t>(i / 64)] |= (k == 64 ? ~uint64_t{0} : ((uint64_t{1} << k) - 1)) << bit;
    i += k;
    n -= k;
  }
}

// The 3x3 path (Dw3Args): sub-plane geometry, the valid-pixel bits and the per-channel words.
void qconv_dw3(const KilnConv2dShape& s, const uint8_t* x, int32_t x_zero_point,
               const int8_t* rows, int64_t K, int64_t Cp, const QEpilogue& e, float* Y,
               ThreadPool* pool) {
  const int64_t OH = kiln_conv2d_output_height(&s), OW = kiln_conv2d_output_width(&s);
  const int64_t st = s.stride_h;
  Dw3Args a{};
  a.H = s.H;
  a.W = s.W;
  a.OH = OH;
  a.OW = OW;
  a.C = s.C;
  a.stride = st;
  a.wq = (s.W + 2 + st - 1) / st;
  const int64_t hq = (s.H + 2 + st - 1) / st;
  // Slack: row stores spill up to 63 bytes, the last vector's loads read up to 66 + 2 pitches on.
  a.sub_bytes = (hq * a.wq + 192 + 63) / 64 * 64;
  a.zero_point = static_cast<uint8_t>(x_zero_point);
  a.e = &e;
  const int64_t n = OH * a.wq, words = (n + 63) / 64;
  std::vector<uint64_t> valid(static_cast<size_t>(words), 0);
  for (int64_t oy = 0; oy < OH; ++oy) set_bits(valid, oy * a.wq, OW);
  a.valid = valid.data();
  // Stride 1: the image bytes' places in the padded plane (rows 1..H, columns 1..W of pitch wq),
  // over every chunk up to one past the plane (the last loads' weight-0 byte reads there).
  std::vector<uint64_t> data;
  if (st == 1) {
    a.data_words = (hq * a.wq) / 64 + 1;
    data.assign(static_cast<size_t>(a.data_words), 0);
    for (int64_t y = 0; y < s.H; ++y) set_bits(data, (y + 1) * a.wq + 1, s.W);
    a.data = data.data();
  }
  // Groups: one per kernel row at stride 1. At stride 2, sub-plane 2 * row parity + column
  // parity: kernel row kh reads row parity kh % 2, kh / 2 rows on, and its columns 0 and 2 are
  // adjacent bytes of the even-column sub-plane, column 1 the odd one.
  for (int kh = 0; kh < 3; ++kh) {
    if (st == 1) {
      a.off[kh] = kh * a.wq;
    } else {
      const int64_t sp = 2 * (kh % 2), dr = (kh / 2) * a.wq;
      a.off[2 * kh] = sp * a.sub_bytes + dr;
      a.off[2 * kh + 1] = (sp + 1) * a.sub_bytes + dr;
    }
  }
  std::vector<int32_t> wwords(static_cast<size_t>(s.C * kDw3Words), 0);
  const auto word = [](int32_t b0, int32_t b1, int32_t b2) {
    return static_cast<int32_t>((static_cast<uint32_t>(b0) & 0xff) |
                                ((static_cast<uint32_t>(b1) & 0xff) << 8) |
                                ((static_cast<uint32_t>(b2) & 0xff) << 16));
  };
  for (int64_t c = 0; c < s.C; ++c) {
    int32_t w[9], sum = 0;
    for (int64_t k = 0; k < 9; ++k) sum += w[k] = rows[c * K + k * Cp];
    int32_t* d = wwords.data() + c * kDw3Words;
    for (int kh = 0; kh < 3; ++kh) {
      if (st == 1) {
        d[kh] = word(w[kh * 3], w[kh * 3 + 1], w[kh * 3 + 2]);
      } else {
        d[2 * kh] = word(w[kh * 3], w[kh * 3 + 2], 0);
        d[2 * kh + 1] = word(w[kh * 3 + 1], 0, 0);
      }
    }
    d[6] = -x_zero_point * sum;
  }
  a.words = wwords.data();
  const auto run = [&](int64_t t0, int64_t t1) { qdw3_planes_avx512vbmi2(a, x, t0, t1, Y); };
  const int64_t planes = s.N * s.C;
  if (pool && planes > 1) pool->parallel_for(planes, run);
  else run(0, planes);
}

}  // namespace

void qconv_dw(const KilnConv2dShape& s, const uint8_t* x, int32_t x_zero_point,
              const int8_t* rows, int64_t K, int64_t Cp, const QEpilogue& e, float* Y,
              ThreadPool* pool) {
  if (qconv_dw3_applies(s)) return qconv_dw3(s, x, x_zero_point, rows, K, Cp, e, Y, pool);
  const int64_t OH = kiln_conv2d_output_height(&s), OW = kiln_conv2d_output_width(&s);
  const int64_t P = OH * OW, taps = s.KH * s.KW;
  const int64_t Hp = s.H + s.pad_top + s.pad_bottom, Wp = s.W + s.pad_left + s.pad_right;
  qdw::Args base{};
  base.H = s.H;
  base.W = s.W;
  base.pad_t = s.pad_top;
  base.pad_l = s.pad_left;
  base.Hp = Hp;
  base.sw = s.stride_w;
  base.wq = (Wp + s.stride_w - 1) / s.stride_w;
  base.zero_point = static_cast<float>(x_zero_point);
  base.OH = OH;
  base.OW = OW;
  base.KH = s.KH;
  base.KW = s.KW;
  base.sh = s.stride_h;
  base.dh = s.dilation_h;
  base.dw = s.dilation_w;
  base.has_bias = e.bias != nullptr;
  base.relu = e.relu;
  const Isa isa = active_isa();
  auto* plane_fn = isa >= Isa::Avx512 ? &qdw_plane_avx512
                   : isa >= Isa::Avx2 ? &qdw_plane_avx2
                                      : &qdw_plane_scalar;
  const auto run = [&](int64_t t0, int64_t t1) {
    thread_local ScratchBuffer t_plane, t_out;
    float* xp = t_plane.floats(static_cast<size_t>(Hp * base.sw * base.wq + 16));
    float* tmp = e.fin ? t_out.floats(static_cast<size_t>(P + 16)) : nullptr;
    float w[kQDwMaxTaps];
    qdw::Args a = base;
    a.w = w;
    for (int64_t t = t0; t < t1; ++t) {
      const int64_t c = t % s.C;
      for (int64_t k = 0; k < taps; ++k) w[k] = static_cast<float>(rows[c * K + k * Cp]);
      a.scale = e.x_scale * e.w_scale[c];
      a.bias = e.bias ? e.bias[c] : 0.0f;
      float* out = e.fin ? tmp : Y + t * P;
      const bool direct = e.fin && isa >= Isa::Avx512;  // finished inside the plane kernel
      a.fin = direct ? e.fin : nullptr;
      a.fin_off = t * P;
      plane_fn(a, x + t * s.H * s.W, xp, out);
      if (e.fin && !direct) finish_rows(out, P, 1, P, *e.fin, t * P, P);
      else if (!e.fin && e.post) e.post(e.post_closure, out, OW, OH, OW);
    }
  };
  const int64_t planes = s.N * s.C;
  if (pool && planes > 1) pool->parallel_for(planes, run);
  else run(0, planes);
}

}  // namespace kiln::cpu
