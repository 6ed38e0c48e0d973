// AVX-512 im2col panel packing and tile epilogue for the int8 convolution (qconv_im2col.h).
#include <immintrin.h>

#include <cstring>

#include "runtime/kernels/cpu/qconv_finish_avx512.h"
#include "runtime/kernels/cpu/qconv_im2col.h"
#include "runtime/kernels/cpu/qgemm_kernel.h"
#include "runtime/kernels/cpu/qgemm_util.h"

namespace kiln::cpu {
namespace {

// 128-bit lanes of x and y picked by kImm (vshufi64x2), in the all-lanes mask form: GCC 12
// reports the plain form's undefined source as uninitialized.
template <int kImm>
__m512i lanes(__m512i x, __m512i y) {
  return _mm512_maskz_shuffle_i64x2(static_cast<__mmask8>(0xff), x, y, kImm);
}

}  // namespace

void qconv_pack_panel_avx512(const uint8_t* img, const int32_t* pix, const int64_t* tap_off,
                             int64_t taps, int64_t cq, uint8_t* panel) {
  static_assert(kQNR == 32, "two 16-word gathers per panel row");
  const __m512i lo = _mm512_loadu_si512(pix), hi = _mm512_loadu_si512(pix + 16);
  for (int64_t t = 0; t < taps; ++t) {
    const uint8_t* tap = img + tap_off[t];
    for (int64_t c = 0; c < cq; ++c, panel += 4 * kQNR) {
      // The masked form: GCC 12 reports the plain one's undefined source as uninitialized.
      const __m512i z = _mm512_setzero_si512();
      _mm512_storeu_si512(panel, _mm512_mask_i32gather_epi32(z, kAll, lo, tap + 4 * c, 1));
      _mm512_storeu_si512(panel + 64, _mm512_mask_i32gather_epi32(z, kAll, hi, tap + 4 * c, 1));
    }
  }
}

void qconv_interleave4_avx512(const uint8_t* r0, const uint8_t* r1, const uint8_t* r2,
                              const uint8_t* r3, int64_t n, uint8_t* out) {
  const auto words = [&](__m512i a, __m512i b, __m512i c, __m512i d, uint8_t* o) {
    // Within each 128-bit lane L, o0..o3 hold the words of j = 16L + 0..3, 4..7, 8..11, 12..15;
    // output vector k is lane k of o0..o3 (a 4x4 transpose of 128-bit lanes).
    const __m512i ab_lo = _mm512_unpacklo_epi8(a, b), ab_hi = _mm512_unpackhi_epi8(a, b);
    const __m512i cd_lo = _mm512_unpacklo_epi8(c, d), cd_hi = _mm512_unpackhi_epi8(c, d);
    const __m512i o0 = _mm512_unpacklo_epi16(ab_lo, cd_lo), o1 = _mm512_unpackhi_epi16(ab_lo, cd_lo);
    const __m512i o2 = _mm512_unpacklo_epi16(ab_hi, cd_hi), o3 = _mm512_unpackhi_epi16(ab_hi, cd_hi);
    const __m512i t0 = lanes<0x44>(o0, o1), t1 = lanes<0x44>(o2, o3);
    const __m512i t2 = lanes<0xee>(o0, o1), t3 = lanes<0xee>(o2, o3);
    _mm512_storeu_si512(o, lanes<0x88>(t0, t1));
    _mm512_storeu_si512(o + 64, lanes<0xdd>(t0, t1));
    _mm512_storeu_si512(o + 128, lanes<0x88>(t2, t3));
    _mm512_storeu_si512(o + 192, lanes<0xdd>(t2, t3));
  };
  int64_t j = 0;
  for (; j + 64 <= n; j += 64)
    words(_mm512_loadu_si512(r0 + j), _mm512_loadu_si512(r1 + j), _mm512_loadu_si512(r2 + j),
          _mm512_loadu_si512(r3 + j), out + 4 * j);
  if (j < n) {  // the tail through a staging buffer (masked loads, whole-vector stores)
    const __mmask64 m = (1ull << (n - j)) - 1;  // n - j < 64
    alignas(64) uint8_t tmp[256];
    words(_mm512_maskz_loadu_epi8(m, r0 + j), _mm512_maskz_loadu_epi8(m, r1 + j),
          _mm512_maskz_loadu_epi8(m, r2 + j), _mm512_maskz_loadu_epi8(m, r3 + j), tmp);
    std::memcpy(out + 4 * j, tmp, static_cast<size_t>(4 * (n - j)));
  }
}

void qconv_finish_tile_avx512(const int32_t* acc, int rows, int cols, const QEpilogue& e,
                              int64_t row0, float* Y, int64_t off, int64_t ld) {
  if (!e.fin) return dequantize_rows(acc, rows, cols, e, row0, Y + off, ld);
  const FinishVec F = finish_vec(*e.fin);
  with_finish_mode(F, [&](auto u8, auto zk) {
    finish_tile_rows<u8(), zk()>(acc, rows, cols, e, row0, F, off, ld);
  });
}

}  // namespace kiln::cpu
