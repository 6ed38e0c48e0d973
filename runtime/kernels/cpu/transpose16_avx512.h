// Internal, AVX-512 files only (the includer is compiled with -mavx512f): a 16 x 16 float
// transpose through registers, shared by the SGEMM packers and the channel-interleaved kernels.
#pragma once

#include <immintrin.h>

#include <cstdint>

namespace kiln::cpu::avx512 {

// The full-mask forms of the shuffles: GCC 12's unmasked ones start from an "undefined"
// vector that trips -Wuninitialized.
constexpr __mmask16 kAllLanes = 0xFFFF;
inline __m512 unpacklo(__m512 a, __m512 b) { return _mm512_mask_unpacklo_ps(a, kAllLanes, a, b); }
inline __m512 unpackhi(__m512 a, __m512 b) { return _mm512_mask_unpackhi_ps(a, kAllLanes, a, b); }
template <int Imm>
inline __m512 shuffle(__m512 a, __m512 b) {
  return _mm512_mask_shuffle_ps(a, kAllLanes, a, b, Imm);
}
template <int Imm>
inline __m512 shuffle128(__m512 a, __m512 b) {
  return _mm512_mask_shuffle_f32x4(a, kAllLanes, a, b, Imm);
}

// The low n lanes (all 16 when n >= 16).
inline __mmask16 lanes(int64_t n) {
  return n >= 16 ? static_cast<__mmask16>(0xFFFF) : static_cast<__mmask16>((1u << n) - 1u);
}

// In-register transpose: r[i] holds row i (16 values); afterwards r[j] holds column j.
inline void transpose16(__m512 r[16]) {
  __m512 t[16], u[16];
  for (int i = 0; i < 8; ++i) {  // per 128-bit lane: interleave rows 2i and 2i+1
    t[2 * i] = unpacklo(r[2 * i], r[2 * i + 1]);
    t[2 * i + 1] = unpackhi(r[2 * i], r[2 * i + 1]);
  }
  for (int g = 0; g < 4; ++g) {  // u[4g + j], lane L: rows 4g..4g+3 of column 4L + j
    u[4 * g + 0] = shuffle<0x44>(t[4 * g], t[4 * g + 2]);
    u[4 * g + 1] = shuffle<0xEE>(t[4 * g], t[4 * g + 2]);
    u[4 * g + 2] = shuffle<0x44>(t[4 * g + 1], t[4 * g + 3]);
    u[4 * g + 3] = shuffle<0xEE>(t[4 * g + 1], t[4 * g + 3]);
  }
  for (int j = 0; j < 4; ++j) {  // gather lane L of u[j], u[4+j], u[8+j], u[12+j]: column 4L+j
    const __m512 v = shuffle128<0x88>(u[j], u[4 + j]);
    const __m512 w = shuffle128<0xDD>(u[j], u[4 + j]);
    const __m512 v2 = shuffle128<0x88>(u[8 + j], u[12 + j]);
    const __m512 w2 = shuffle128<0xDD>(u[8 + j], u[12 + j]);
    r[j] = shuffle128<0x88>(v, v2);
    r[j + 8] = shuffle128<0xDD>(v, v2);
    r[j + 4] = shuffle128<0x88>(w, w2);
    r[j + 12] = shuffle128<0xDD>(w, w2);
  }
}

// Loads `rows` (<= 16) rows of `n` (<= 16) values each, the rest zero, and transposes them:
// r[j] then holds element j of every row.
inline void load_transposed(const float* src, int64_t ld, int rows, int64_t n, __m512 r[16]) {
  const __mmask16 m = lanes(n);
  for (int i = 0; i < 16; ++i) {
    r[i] = i < rows ? _mm512_maskz_loadu_ps(m, src + i * ld) : _mm512_setzero_ps();
  }
  transpose16(r);
}

}  // namespace kiln::cpu::avx512
