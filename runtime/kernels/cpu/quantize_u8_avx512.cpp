// quantize_u8 (qgemm_kernel.h) 16 lanes at a time without a division per value: ONNX
// QuantizeLinear rounds the correctly rounded quotient x / scale, and a vector division is as
// slow per value as the whole rest of an int8 layer's input side.
//
// y = x * RN(1 / scale) differs from q = RN(x / scale) by at most about 3 units in the last
// place of y (one rounding in the reciprocal, one in the product, one in q). Rounding to the
// nearest integer (ties to even) can therefore only differ between y and q when a half-integer
// lies within that distance of y; y's nearest half-integer is floor(y) + 0.5, so a vector with a
// lane where |y - floor(y) - 0.5| <= |y| * 2^-21 (a margin of 4 ulp; for |y| near 100, about
// one value in 10^4) is recomputed with the division. Every result equals the portable
// loop's, NaN (to 0) included.
#include <immintrin.h>

#include <cmath>
#include <cstdint>

#include "runtime/kernels/cpu/qgemm_kernel.h"

namespace kiln::cpu {

void quantize_u8_avx512(const float* x, int64_t n, float scale, float zp, uint8_t* out) {
  if (!std::isnormal(1.0f / scale)) return quantize_u8_avx2(x, n, scale, zp, out);  // no margin
  // The all-lanes mask forms: GCC 12 reports the plain forms' undefined sources as
  // uninitialized when inlined.
  constexpr __mmask16 kAll = 0xffff;
  constexpr int kNear = _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC;
  const __m512 s = _mm512_set1_ps(scale), r = _mm512_set1_ps(1.0f / scale);
  const __m512 z = _mm512_set1_ps(zp), hi = _mm512_set1_ps(255.0f), zero = _mm512_setzero_ps();
  const __m512 half = _mm512_set1_ps(0.5f), margin = _mm512_set1_ps(0x1p-21f);
  const auto one = [&](__m512 v, __mmask16 m) {
    __m512 y = _mm512_maskz_mul_ps(kAll, v, r);
    const __m512 fl = _mm512_maskz_roundscale_ps(kAll, y, _MM_FROUND_TO_NEG_INF | _MM_FROUND_NO_EXC);
    const __m512 d = _mm512_maskz_sub_ps(kAll, y, _mm512_maskz_add_ps(kAll, fl, half));
    const __m512 lim = _mm512_maskz_mul_ps(kAll, _mm512_mask_abs_ps(y, kAll, y), margin);
    if (_mm512_mask_cmp_ps_mask(m, _mm512_mask_abs_ps(d, kAll, d), lim, _CMP_LE_OQ))
      y = _mm512_maskz_div_ps(kAll, v, s);  // near a rounding boundary: the exact quotient
    __m512 q = _mm512_maskz_add_ps(kAll, _mm512_maskz_roundscale_ps(kAll, y, kNear), z);
    q = _mm512_maskz_min_ps(kAll, _mm512_maskz_max_ps(kAll, q, zero), hi);  // max(NaN, 0) = 0
    return _mm512_maskz_cvtusepi32_epi8(kAll, _mm512_maskz_cvtps_epu32(kAll, q));
  };
  int64_t i = 0;
  for (; i + 16 <= n; i += 16)
    _mm_storeu_si128(reinterpret_cast<__m128i*>(out + i), one(_mm512_loadu_ps(x + i), 0xffff));
  if (i < n) {
    const auto m = static_cast<__mmask16>((1u << (n - i)) - 1);
    _mm_mask_storeu_epi8(out + i, m, one(_mm512_maskz_loadu_ps(m, x + i), m));
  }
}

}  // namespace kiln::cpu
