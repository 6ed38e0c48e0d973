// AVX2 planes of the int8 depthwise convolution (qconv_dw.h): 8 output pixels per vector, all
// taps accumulated in a register, dequantized before the store.
#include <immintrin.h>

#include "runtime/kernels/cpu/qconv_dw.h"

namespace kiln::cpu {

void qdw_plane_avx2(const qdw::Args& a, const uint8_t* x, float* xp, float* out) {
  qdw::fill_plane(a, x, xp, [&](float* d, const uint8_t* src, int64_t i0, int64_t i1) {
    qdw::convert_row(a, d, src, i0, i1);
  });
  const int64_t taps = a.KH * a.KW;
  const float* src[kQDwMaxTaps];
  alignas(32) static const int32_t kLanes[8] = {0, 1, 2, 3, 4, 5, 6, 7};
  const __m256i lanes = _mm256_load_si256(reinterpret_cast<const __m256i*>(kLanes));
  const __m256 scale = _mm256_set1_ps(a.scale), bias = _mm256_set1_ps(a.bias);
  int64_t tap_off[kQDwMaxTaps];
  qdw::tap_offsets(a, tap_off);
  for (int64_t oy = 0; oy < a.OH; ++oy) {
    const float* row = xp + oy * a.sh * a.sw * a.wq;
    for (int64_t t = 0; t < taps; ++t) src[t] = row + tap_off[t];
    float* o = out + oy * a.OW;
    for (int64_t ox = 0; ox < a.OW; ox += 8) {
      // Lanes past the row's end are masked off (loads and the store).
      const __m256i m = _mm256_cmpgt_epi32(_mm256_set1_epi32(static_cast<int32_t>(a.OW - ox)), lanes);
      __m256 acc = _mm256_setzero_ps();
      for (int64_t t = 0; t < taps; ++t)
        acc = _mm256_fmadd_ps(_mm256_set1_ps(a.w[t]), _mm256_maskload_ps(src[t] + ox, m), acc);
      __m256 v = _mm256_mul_ps(acc, scale);  // dequantize_tile's arithmetic, in its order
      if (a.has_bias) v = _mm256_add_ps(v, bias);
      if (a.relu) v = _mm256_max_ps(v, _mm256_setzero_ps());
      _mm256_maskstore_ps(o + ox, m, v);
    }
  }
}

}  // namespace kiln::cpu
