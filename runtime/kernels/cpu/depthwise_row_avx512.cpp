// AVX-512 depthwise row kernel: 64 outputs (4 zmm accumulators) per pass over the taps, then
// masked 16-wide steps for the tail.
#include <immintrin.h>

#include "runtime/kernels/cpu/depthwise_conv.h"

namespace kiln::cpu {

void depthwise_row_avx512(const float* const* rows, const float* w, int taps, float bias, bool relu,
                          float* out, int64_t width) {
  const __m512 b = _mm512_set1_ps(bias), zero = _mm512_setzero_ps();
  int64_t x = 0;
  for (; x + 64 <= width; x += 64) {
    __m512 a0 = b, a1 = b, a2 = b, a3 = b;
    for (int t = 0; t < taps; ++t) {
      const __m512 wt = _mm512_set1_ps(w[t]);
      const float* r = rows[t] + x;
      a0 = _mm512_fmadd_ps(wt, _mm512_loadu_ps(r), a0);
      a1 = _mm512_fmadd_ps(wt, _mm512_loadu_ps(r + 16), a1);
      a2 = _mm512_fmadd_ps(wt, _mm512_loadu_ps(r + 32), a2);
      a3 = _mm512_fmadd_ps(wt, _mm512_loadu_ps(r + 48), a3);
    }
    if (relu) {  // mask form: GCC 12's plain _mm512_max_ps trips -Wmaybe-uninitialized
      a0 = _mm512_mask_max_ps(a0, 0xFFFF, a0, zero);
      a1 = _mm512_mask_max_ps(a1, 0xFFFF, a1, zero);
      a2 = _mm512_mask_max_ps(a2, 0xFFFF, a2, zero);
      a3 = _mm512_mask_max_ps(a3, 0xFFFF, a3, zero);
    }
    _mm512_storeu_ps(out + x, a0);
    _mm512_storeu_ps(out + x + 16, a1);
    _mm512_storeu_ps(out + x + 32, a2);
    _mm512_storeu_ps(out + x + 48, a3);
  }
  for (; x < width; x += 16) {
    const int64_t n = width - x;
    const __mmask16 m =
        n >= 16 ? static_cast<__mmask16>(0xFFFF) : static_cast<__mmask16>((1u << n) - 1u);
    __m512 a = b;
    for (int t = 0; t < taps; ++t) {
      a = _mm512_fmadd_ps(_mm512_set1_ps(w[t]), _mm512_maskz_loadu_ps(m, rows[t] + x), a);
    }
    if (relu) a = _mm512_mask_max_ps(a, 0xFFFF, a, zero);
    _mm512_mask_storeu_ps(out + x, m, a);
  }
}

}  // namespace kiln::cpu
