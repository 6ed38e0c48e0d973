// AVX2 depthwise row kernel: 32 outputs (4 ymm accumulators) per pass over the taps, then
// masked 8-wide steps for the tail.
#include <immintrin.h>

#include "runtime/kernels/cpu/depthwise_conv.h"

namespace kiln::cpu {

void depthwise_row_avx2(const float* const* rows, const float* w, int taps, float bias, bool relu,
                        float* out, int64_t width) {
  const __m256 b = _mm256_set1_ps(bias), zero = _mm256_setzero_ps();
  int64_t x = 0;
  for (; x + 32 <= width; x += 32) {
    __m256 a0 = b, a1 = b, a2 = b, a3 = b;
    for (int t = 0; t < taps; ++t) {
      const __m256 wt = _mm256_broadcast_ss(w + t);
      const float* r = rows[t] + x;
      a0 = _mm256_fmadd_ps(wt, _mm256_loadu_ps(r), a0);
      a1 = _mm256_fmadd_ps(wt, _mm256_loadu_ps(r + 8), a1);
      a2 = _mm256_fmadd_ps(wt, _mm256_loadu_ps(r + 16), a2);
      a3 = _mm256_fmadd_ps(wt, _mm256_loadu_ps(r + 24), a3);
    }
    if (relu) {
      a0 = _mm256_max_ps(a0, zero);
      a1 = _mm256_max_ps(a1, zero);
      a2 = _mm256_max_ps(a2, zero);
      a3 = _mm256_max_ps(a3, zero);
    }
    _mm256_storeu_ps(out + x, a0);
    _mm256_storeu_ps(out + x + 8, a1);
    _mm256_storeu_ps(out + x + 16, a2);
    _mm256_storeu_ps(out + x + 24, a3);
  }
  alignas(32) static const int32_t ones_then_zeros[16] = {-1, -1, -1, -1, -1, -1, -1, -1,
                                                          0,  0,  0,  0,  0,  0,  0,  0};
  for (; x < width; x += 8) {
    const int64_t n = width - x < 8 ? width - x : 8;
    const __m256i m = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(ones_then_zeros + 8 - n));
    __m256 a = b;
    for (int t = 0; t < taps; ++t) {
      a = _mm256_fmadd_ps(_mm256_broadcast_ss(w + t), _mm256_maskload_ps(rows[t] + x, m), a);
    }
    if (relu) a = _mm256_max_ps(a, zero);
    _mm256_maskstore_ps(out + x, m, a);
  }
}

}  // namespace kiln::cpu
