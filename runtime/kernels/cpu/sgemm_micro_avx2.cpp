// AVX2+FMA SGEMM micro-kernel: 6 rows x 16 columns of C in 12 ymm accumulators, plus two B
// vectors and one broadcast: 15 of the 16 registers.
#include <immintrin.h>

#include <array>
#include <utility>

#include "runtime/kernels/cpu/sgemm_kernel.h"

namespace kiln::cpu {

namespace {

constexpr int kMr = 6;
constexpr int kNr = 16;

// maskload/maskstore take a per-lane sign mask: lanes [0, n) set.
inline __m256i lane_mask(int n) {
  alignas(32) static const int32_t ones_then_zeros[16] = {-1, -1, -1, -1, -1, -1, -1, -1,
                                                          0,  0,  0,  0,  0,  0,  0,  0};
  n = n < 0 ? 0 : (n > 8 ? 8 : n);
  return _mm256_loadu_si256(reinterpret_cast<const __m256i*>(ones_then_zeros + 8 - n));
}

template <int Rows>
void micro_rows(int64_t kc, const float* a, const float* b, const MicroTile& t) {
  __m256 acc0[Rows], acc1[Rows];
#pragma GCC unroll 6
  for (int i = 0; i < Rows; ++i) {
    acc0[i] = _mm256_setzero_ps();
    acc1[i] = _mm256_setzero_ps();
  }
#pragma GCC unroll 4
  for (int64_t k = 0; k < kc; ++k) {
    const __m256 b0 = _mm256_loadu_ps(b);
    const __m256 b1 = _mm256_loadu_ps(b + 8);
#pragma GCC unroll 6
    for (int i = 0; i < Rows; ++i) {
      const __m256 ai = _mm256_broadcast_ss(a + i);
      acc0[i] = _mm256_fmadd_ps(ai, b0, acc0[i]);
      acc1[i] = _mm256_fmadd_ps(ai, b1, acc1[i]);
    }
    a += kMr;
    b += kNr;
  }

  const __m256i m0 = lane_mask(t.cols);
  const __m256i m1 = lane_mask(t.cols - 8);
  const __m256 alpha = _mm256_set1_ps(t.alpha);
  const __m256 beta = _mm256_set1_ps(t.beta);
  const __m256 zero = _mm256_setzero_ps();
  __m256 cb0 = zero, cb1 = zero;
  if (t.column_bias) {
    cb0 = _mm256_maskload_ps(t.column_bias, m0);
    cb1 = _mm256_maskload_ps(t.column_bias + 8, m1);
  }
#pragma GCC unroll 6
  for (int i = 0; i < Rows; ++i) {
    float* c = t.c + i * t.ldc;
    __m256 v0 = _mm256_mul_ps(acc0[i], alpha);
    __m256 v1 = _mm256_mul_ps(acc1[i], alpha);
    if (t.load_c) {
      v0 = _mm256_fmadd_ps(_mm256_maskload_ps(c, m0), beta, v0);
      v1 = _mm256_fmadd_ps(_mm256_maskload_ps(c + 8, m1), beta, v1);
    }
    if (t.row_bias) {
      const __m256 rb = _mm256_set1_ps(t.row_bias[i]);
      v0 = _mm256_add_ps(v0, rb);
      v1 = _mm256_add_ps(v1, rb);
    }
    if (t.column_bias) {
      v0 = _mm256_add_ps(v0, cb0);
      v1 = _mm256_add_ps(v1, cb1);
    }
    if (t.relu) {
      v0 = _mm256_max_ps(v0, zero);
      v1 = _mm256_max_ps(v1, zero);
    }
    _mm256_maskstore_ps(c, m0, v0);
    _mm256_maskstore_ps(c + 8, m1, v1);
  }
}

template <size_t... I>
constexpr auto make_row_table(std::index_sequence<I...>) {
  return std::array<MicroKernelFn, sizeof...(I)>{&micro_rows<static_cast<int>(I) + 1>...};
}

}  // namespace

void sgemm_micro_avx2(int64_t kc, const float* a, const float* b, const MicroTile& t) {
  static constexpr auto table = make_row_table(std::make_index_sequence<kMr>());
  table[static_cast<size_t>(t.rows - 1)](kc, a, b, t);
}

}  // namespace kiln::cpu
