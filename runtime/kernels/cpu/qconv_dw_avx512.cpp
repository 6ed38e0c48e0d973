// AVX-512 planes of the int8 depthwise convolution (qconv_dw.h): u8 rows widened 16 at a time
// (strides 1 and 2 split into phases in registers), 16 output pixels per vector with all taps
// accumulated in registers, dequantized (and finished) before the store; and finish_rows for
// the int8 convolutions.
#include <immintrin.h>

#include <algorithm>

#include "runtime/kernels/cpu/qconv_dw.h"
#include "runtime/kernels/cpu/qconv_finish_avx512.h"
#include "runtime/kernels/cpu/qgemm_util.h"

namespace kiln::cpu {

namespace {

// The first n (0..16) lanes.
inline __mmask16 lanes(int64_t n) { return static_cast<__mmask16>((1u << n) - 1); }

void fill(const qdw::Args& a, const uint8_t* x, float* xp) {
  const __m512 zp = _mm512_set1_ps(a.zero_point), zero = _mm512_setzero_ps();
  const __m512i low = _mm512_set1_epi32(0xff);
  qdw::fill_plane(a, x, xp, [&](float* d, const uint8_t* src, int64_t i0, int64_t i1) {
    // Pad columns by masked stores (a few floats; a memset call would cost more).
    for (int64_t i = 0; i < i0; i += 16)
      _mm512_mask_storeu_ps(d + i, lanes(std::min<int64_t>(16, i0 - i)), zero);
    for (int64_t i = i1; i < a.wq; i += 16)
      _mm512_mask_storeu_ps(d + i, lanes(std::min<int64_t>(16, a.wq - i)), zero);
    const int64_t n = i1 - i0;
    d += i0;
    if (a.sw == 1) {
      for (int64_t i = 0; i < n; i += 16) {
        const __mmask16 m = lanes(std::min<int64_t>(16, n - i));
        const __m512 v = _mm512_maskz_cvtepi32_ps(kAll, _mm512_maskz_cvtepu8_epi32(kAll, _mm_maskz_loadu_epi8(m, src + i)));
        _mm512_mask_storeu_ps(d + i, m, _mm512_sub_ps(v, zp));
      }
    } else if (a.sw == 2) {
      // Bytes 2i .. 2i + 31 as 16 u32 lanes of byte pairs; the phase's value is each low byte.
      // Only bytes up to 2 (n - 1) are read.
      for (int64_t i = 0; i < n; i += 16) {
        const int64_t k = std::min<int64_t>(16, n - i);
        const __mmask32 bytes = k == 16 ? ~__mmask32(0) : __mmask32((1u << (2 * k - 1)) - 1);
        const __m512i pairs = _mm512_maskz_cvtepu16_epi32(kAll, _mm256_maskz_loadu_epi8(bytes, src + 2 * i));
        _mm512_mask_storeu_ps(d + i, lanes(k),
                              _mm512_sub_ps(_mm512_maskz_cvtepi32_ps(kAll, _mm512_and_si512(pairs, low)), zp));
      }
    } else {
      for (int64_t i = 0; i < n; ++i) d[i] = static_cast<float>(src[i * a.sw]) - a.zero_point;
    }
  });
}

// Dequantizes (and finishes) one accumulator vector of output row oy from column ox.
inline void store_row(const qdw::Args& a, __m512 acc, int64_t oy, int64_t ox, __mmask16 m,
                      float* out, const FinishVec* fin, int64_t fin_off) {
  // dequantize_tile's arithmetic in its order; mul_round is not contracted into an FMA.
  __m512 v = _mm512_maskz_mul_round_ps(kAll, acc, _mm512_set1_ps(a.scale),
                                 _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
  if (a.has_bias) v = _mm512_add_ps(v, _mm512_set1_ps(a.bias));
  if (a.relu) v = max16(v, _mm512_setzero_ps());
  if (fin) finish_store(*fin, v, fin_off + oy * a.OW + ox, m);
  else _mm512_mask_storeu_ps(out + oy * a.OW + ox, m, v);
}

// Eight output rows x 16 columns (masked by m) from (oy, ox): eight independent FMA chains
// over the taps in named registers, enough to cover the FMA latency (two ports x 4 cycles).
void rows8(const qdw::Args& a, const float* xp, const int64_t* tap_off, int64_t oy, int64_t ox,
           __mmask16 m, float* out, const FinishVec* fin, int64_t fin_off) {
  const int64_t taps = a.KH * a.KW, step = a.sh * a.sw * a.wq;
  __m512 a0 = _mm512_setzero_ps(), a1 = a0, a2 = a0, a3 = a0, a4 = a0, a5 = a0, a6 = a0, a7 = a0;
  const float* base = xp + oy * step + ox;
  for (int64_t t = 0; t < taps; ++t) {
    const __m512 wt = _mm512_set1_ps(a.w[t]);
    const float* src = base + tap_off[t];
    a0 = _mm512_fmadd_ps(wt, _mm512_maskz_loadu_ps(m, src), a0);
    a1 = _mm512_fmadd_ps(wt, _mm512_maskz_loadu_ps(m, src + step), a1);
    a2 = _mm512_fmadd_ps(wt, _mm512_maskz_loadu_ps(m, src + 2 * step), a2);
    a3 = _mm512_fmadd_ps(wt, _mm512_maskz_loadu_ps(m, src + 3 * step), a3);
    a4 = _mm512_fmadd_ps(wt, _mm512_maskz_loadu_ps(m, src + 4 * step), a4);
    a5 = _mm512_fmadd_ps(wt, _mm512_maskz_loadu_ps(m, src + 5 * step), a5);
    a6 = _mm512_fmadd_ps(wt, _mm512_maskz_loadu_ps(m, src + 6 * step), a6);
    a7 = _mm512_fmadd_ps(wt, _mm512_maskz_loadu_ps(m, src + 7 * step), a7);
  }
  store_row(a, a0, oy, ox, m, out, fin, fin_off);
  store_row(a, a1, oy + 1, ox, m, out, fin, fin_off);
  store_row(a, a2, oy + 2, ox, m, out, fin, fin_off);
  store_row(a, a3, oy + 3, ox, m, out, fin, fin_off);
  store_row(a, a4, oy + 4, ox, m, out, fin, fin_off);
  store_row(a, a5, oy + 5, ox, m, out, fin, fin_off);
  store_row(a, a6, oy + 6, ox, m, out, fin, fin_off);
  store_row(a, a7, oy + 7, ox, m, out, fin, fin_off);
}

// One output row: the taps split over four partial sums (exact in any order, see
// qconv_dw_kernel.h) so that the row is not one long FMA chain.
void rows1(const qdw::Args& a, const float* xp, const int64_t* tap_off, int64_t oy, int64_t ox,
           __mmask16 m, float* out, const FinishVec* fin, int64_t fin_off) {
  const int64_t taps = a.KH * a.KW;
  __m512 p[4] = {_mm512_setzero_ps(), _mm512_setzero_ps(), _mm512_setzero_ps(),
                 _mm512_setzero_ps()};
  const float* base = xp + oy * a.sh * a.sw * a.wq + ox;
  for (int64_t t = 0; t < taps; ++t)
    p[t & 3] = _mm512_fmadd_ps(_mm512_set1_ps(a.w[t]), _mm512_maskz_loadu_ps(m, base + tap_off[t]),
                               p[t & 3]);
  const __m512 acc = _mm512_add_ps(_mm512_add_ps(p[0], p[1]), _mm512_add_ps(p[2], p[3]));
  store_row(a, acc, oy, ox, m, out, fin, fin_off);
}

}  // namespace

void qdw_plane_avx512(const qdw::Args& a, const uint8_t* x, float* xp, float* out) {
  fill(a, x, xp);
  // With a finish, the results go straight to Y (out unused): element fin_off + oy * OW + ox.
  FinishVec fv{};
  if (a.fin) fv = finish_vec(*a.fin);
  const FinishVec* fin = a.fin ? &fv : nullptr;
  const int64_t fo = a.fin_off;
  int64_t tap_off[kQDwMaxTaps];
  qdw::tap_offsets(a, tap_off);
  const __mmask16 tail = static_cast<__mmask16>((1u << (a.OW % 16)) - 1);
  for (int64_t ox = 0; ox < a.OW; ox += 16) {
    const __mmask16 m = ox + 16 <= a.OW ? static_cast<__mmask16>(0xffff) : tail;
    int64_t oy = 0;
    for (; oy + 8 <= a.OH; oy += 8) rows8(a, xp, tap_off, oy, ox, m, out, fin, fo);
    for (; oy < a.OH; ++oy) rows1(a, xp, tap_off, oy, ox, m, out, fin, fo);
  }
}

void finish_rows_avx512(const float* t, int64_t ldt, int64_t rows, int64_t cols,
                        const QFinish& f, int64_t off, int64_t ld) {
  const FinishVec F = finish_vec(f);
  const __mmask16 tail = static_cast<__mmask16>((1u << (cols % 16)) - 1);
  with_finish_mode(F, [&](auto u8, auto zk) {  // the mode once, not per vector
    for (int64_t r = 0; r < rows; ++r)
      for (int64_t j = 0; j < cols; j += 16) {
        const __mmask16 m = j + 16 <= cols ? static_cast<__mmask16>(0xffff) : tail;
        finish_store_t<u8(), zk()>(F, _mm512_maskz_loadu_ps(m, t + r * ldt + j), off + r * ld + j,
                                   m);
      }
  });
}

}  // namespace kiln::cpu
