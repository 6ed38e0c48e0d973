// AVX-512 packing for the 14 x 32 SGEMM kernel. The transposing cases (op(A) = A read by rows,
// op(B) = B^T) move 16 x 16 tiles through registers instead of scalar strided stores, and read
// every source line once (row-by-row reads of a power-of-two stride would otherwise fight over
// one L1 set).
#include <immintrin.h>

#include <algorithm>

#include "runtime/kernels/cpu/sgemm_kernel.h"

namespace kiln::cpu {

namespace {

constexpr int kMr = 14;
constexpr int kNr = 32;

inline __mmask16 lanes(int64_t n) {
  return n >= 16 ? static_cast<__mmask16>(0xFFFF) : static_cast<__mmask16>((1u << n) - 1u);
}

// The full-mask forms of the shuffles: GCC 12's unmasked ones start from an "undefined"
// vector that trips -Wuninitialized.
constexpr __mmask16 kAll = 0xFFFF;
inline __m512 unpacklo(__m512 a, __m512 b) { return _mm512_mask_unpacklo_ps(a, kAll, a, b); }
inline __m512 unpackhi(__m512 a, __m512 b) { return _mm512_mask_unpackhi_ps(a, kAll, a, b); }
template <int Imm>
inline __m512 shuffle(__m512 a, __m512 b) {
  return _mm512_mask_shuffle_ps(a, kAll, a, b, Imm);
}
template <int Imm>
inline __m512 shuffle128(__m512 a, __m512 b) {
  return _mm512_mask_shuffle_f32x4(a, kAll, a, b, Imm);
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

}  // namespace

void pack_a_panel_avx512(const float* A, int64_t lda, int rows, int64_t k0, int64_t kc,
                         float* dst) {
  const __mmask16 row_lanes = lanes(kMr);
  const float* src = A + k0;
  for (int64_t k = 0; k < kc; k += 16) {
    const int64_t n = std::min<int64_t>(16, kc - k);
    __m512 r[16];
    load_transposed(src + k, lda, rows, n, r);
    for (int64_t j = 0; j < n; ++j) _mm512_mask_storeu_ps(dst + (k + j) * kMr, row_lanes, r[j]);
  }
}

void pack_b_block_avx512(bool trans, const float* B, int64_t ldb, int64_t k0, int64_t kc,
                         int64_t n0, int64_t nc, float* dst) {
  if (!trans) {
    // op(B)[k, n] = B[k * ldb + n]: read each row of the block once, left to right, and deal
    // its 32-column pieces out to the panels.
    const int64_t panels = (nc + kNr - 1) / kNr;
    for (int64_t k = 0; k < kc; ++k) {
      const float* src = B + (k0 + k) * ldb + n0;
      for (int64_t p = 0; p < panels; ++p) {
        const int64_t c = p * kNr;
        float* d = dst + p * kNr * kc + k * kNr;
        const int64_t left = nc - c;
        if (left >= kNr) {
          _mm512_storeu_ps(d, _mm512_loadu_ps(src + c));
          _mm512_storeu_ps(d + 16, _mm512_loadu_ps(src + c + 16));
        } else {
          _mm512_storeu_ps(d, _mm512_maskz_loadu_ps(lanes(left), src + c));
          _mm512_storeu_ps(
              d + 16, _mm512_maskz_loadu_ps(lanes(std::max<int64_t>(left - 16, 0)), src + c + 16));
        }
      }
    }
    return;
  }
  // op(B)[k, n] = B[n * ldb + k]: 16 columns of op(B) x 16 k at a time through a transpose.
  for (int64_t c = 0; c < nc; c += 16) {
    const int cols = static_cast<int>(std::min<int64_t>(16, nc - c));
    float* panel = dst + (c / kNr) * kNr * kc + c % kNr;
    const float* src = B + (n0 + c) * ldb + k0;
    for (int64_t k = 0; k < kc; k += 16) {
      const int64_t n = std::min<int64_t>(16, kc - k);
      __m512 r[16];
      load_transposed(src + k, ldb, cols, n, r);
      for (int64_t j = 0; j < n; ++j) _mm512_storeu_ps(panel + (k + j) * kNr, r[j]);
    }
  }
  // A last panel narrower than 16 columns still has its upper half to zero.
  if (nc % kNr != 0 && nc % kNr <= 16) {
    float* panel = dst + (nc / kNr) * kNr * kc + 16;
    for (int64_t k = 0; k < kc; ++k) _mm512_storeu_ps(panel + k * kNr, _mm512_setzero_ps());
  }
}

}  // namespace kiln::cpu
