// AVX-512 packing for the 14 x 32 SGEMM kernel. The transposing cases (op(A) = A read by rows,
// op(B) = B^T) move 16 x 16 tiles through registers instead of scalar strided stores, and read
// every source line once (row-by-row reads of a power-of-two stride would otherwise fight over
// one L1 set).
#include <immintrin.h>

#include <algorithm>

#include "runtime/kernels/cpu/sgemm_kernel.h"
#include "runtime/kernels/cpu/transpose16_avx512.h"

namespace kiln::cpu {

namespace {

constexpr int kMr = 14;
constexpr int kNr = 32;

using avx512::lanes;
using avx512::load_transposed;
using avx512::transpose16;

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
