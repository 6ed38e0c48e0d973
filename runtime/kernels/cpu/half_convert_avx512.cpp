// GCC 12's avx512fintrin.h builds the conversions' masked forms on _mm512_undefined_ps(), which
// -Wmaybe-uninitialized reports as "'__Y' may be used uninitialized": a header false positive.
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#include <immintrin.h>

#include "ir/dtype.h"
#include "runtime/kernels/cpu/half_convert.h"

namespace kiln::cpu {

void widen_half_avx512(const uint16_t* src, float* dst, int64_t n) {
  int64_t i = 0;
  for (; i + 16 <= n; i += 16) {
    const __m256i h = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(src + i));
    _mm512_storeu_ps(dst + i, _mm512_cvtph_ps(h));
  }
  for (; i < n; ++i) dst[i] = half::half_bits_to_float(src[i]);
}

void narrow_to_half_avx512(const float* src, uint16_t* dst, int64_t n) {
  int64_t i = 0;
  for (; i + 16 <= n; i += 16) {
    const __m256i h = _mm512_cvtps_ph(_mm512_loadu_ps(src + i), _MM_FROUND_TO_NEAREST_INT);
    _mm256_storeu_si256(reinterpret_cast<__m256i*>(dst + i), h);
  }
  for (; i < n; ++i) dst[i] = half::float_to_half_bits(src[i]);
}

}  // namespace kiln::cpu
