// AVX-512 pointwise-rows tile (see conv_pointwise.h): 14 x 32 accumulators, per k two B
// vectors loaded from X's row k and 14 broadcast weights, like the SGEMM micro-kernel.
#include <immintrin.h>

#include <array>
#include <utility>

#include "runtime/kernels/cpu/conv_pointwise.h"

namespace kiln::cpu {

namespace {

inline __mmask16 lane_mask(int n) {
  return n >= 16 ? static_cast<__mmask16>(0xFFFF)
                 : static_cast<__mmask16>(n <= 0 ? 0u : (1u << n) - 1u);
}

// Half: at most 16 columns (the last strip of a 28x28 plane), so only the first vector of
// each row is computed (the second is masked off when stored anyway). kFullLoads: a whole
// 32-column strip, whose X rows load unmasked: masked loads cost the k loop 4-7% (one tile,
// K = 256, X in L1: 207 -> 218 GFLOP/s; ResNet-50 at 1 thread 2.7% faster).
template <int Rows, bool Half, bool kFullLoads = false>
void tile_rows(const PointwiseTile& t) {
  const __mmask16 m0 = lane_mask(t.cols), m1 = lane_mask(t.cols - 16);
  __m512 acc0[Rows], acc1[Rows];
  if (t.from_y) {
#pragma GCC unroll 14
    for (int i = 0; i < Rows; ++i) {
      acc0[i] = _mm512_maskz_loadu_ps(m0, t.y + i * t.ldy);
      acc1[i] = _mm512_maskz_loadu_ps(m1, t.y + i * t.ldy + 16);
    }
  } else {
#pragma GCC unroll 14
    for (int i = 0; i < Rows; ++i) acc0[i] = acc1[i] = _mm512_setzero_ps();
  }
  const float* a = t.a;
  // The residual rows stream from memory, Rows lines a plane apart per tile, which the
  // hardware prefetchers do not follow: each tile pulls its rows of a later strip into L2.
  if (t.res_next) {
#pragma GCC unroll 14
    for (int i = 0; i < Rows; ++i) {
      const char* line = reinterpret_cast<const char*>(t.res_next + i * t.ldy);
      _mm_prefetch(line, _MM_HINT_T1);
      _mm_prefetch(line + 64, _MM_HINT_T1);
    }
  }
  // Row k of X at offset k * ldx: offsets, not advanced pointers, so no pointer is formed
  // past the end of X after the last row.
  int64_t row = 0;
#pragma GCC unroll 1
  for (int64_t k = 0; k < t.K; ++k, row += t.ldx) {
    // The first panel over a strip also pulls a later strip's rows toward L2: the hardware
    // prefetchers do not follow K streams a plane apart.
    if (t.next) {
      _mm_prefetch(reinterpret_cast<const char*>(t.next + row), _MM_HINT_T1);
      _mm_prefetch(reinterpret_cast<const char*>(t.next + row + 16), _MM_HINT_T1);
    }
    const __m512 b0 =
        kFullLoads ? _mm512_loadu_ps(t.x + row) : _mm512_maskz_loadu_ps(m0, t.x + row);
    if constexpr (Half) {
#pragma GCC unroll 14
      for (int i = 0; i < Rows; ++i) {
        acc0[i] = _mm512_fmadd_ps(_mm512_set1_ps(a[k * kPointwiseRows + i]), b0, acc0[i]);
      }
    } else {
      const __m512 b1 = kFullLoads ? _mm512_loadu_ps(t.x + row + 16)
                                   : _mm512_maskz_loadu_ps(m1, t.x + row + 16);
#pragma GCC unroll 14
      for (int i = 0; i < Rows; ++i) {
        const __m512 ai = _mm512_set1_ps(a[k * kPointwiseRows + i]);
        acc0[i] = _mm512_fmadd_ps(ai, b0, acc0[i]);
        acc1[i] = _mm512_fmadd_ps(ai, b1, acc1[i]);
      }
    }
  }
  if (!t.last) {
#pragma GCC unroll 14
    for (int i = 0; i < Rows; ++i) {
      _mm512_mask_storeu_ps(t.y + i * t.ldy, m0, acc0[i]);
      _mm512_mask_storeu_ps(t.y + i * t.ldy + 16, m1, acc1[i]);
    }
    return;
  }
  const __m512 zero = _mm512_setzero_ps();
#pragma GCC unroll 14
  for (int i = 0; i < Rows; ++i) {
    __m512 v0 = acc0[i], v1 = acc1[i];
    if (t.bias) {
      const __m512 rb = _mm512_set1_ps(t.bias[i]);
      v0 = _mm512_add_ps(v0, rb);
      v1 = _mm512_add_ps(v1, rb);
    }
    if (t.res) {
      v0 = _mm512_add_ps(v0, _mm512_maskz_loadu_ps(m0, t.res + i * t.ldy));
      v1 = _mm512_add_ps(v1, _mm512_maskz_loadu_ps(m1, t.res + i * t.ldy + 16));
      // v < 0 ? 0 : v, as the generated epilogue this replaces (keeps -0 and NaN).
      if (t.relu) {
        v0 = _mm512_mask_mov_ps(v0, _mm512_cmp_ps_mask(v0, zero, _CMP_LT_OQ), zero);
        v1 = _mm512_mask_mov_ps(v1, _mm512_cmp_ps_mask(v1, zero, _CMP_LT_OQ), zero);
      }
    } else if (t.relu) {
      v0 = _mm512_mask_max_ps(v0, 0xFFFF, v0, zero);
      v1 = _mm512_mask_max_ps(v1, 0xFFFF, v1, zero);
    }
    float* y = t.y + i * t.ldy;
    _mm512_mask_storeu_ps(y, m0, v0);
    _mm512_mask_storeu_ps(y + 16, m1, v1);
  }
}

template <bool Half, bool FullLoads, int... R>
constexpr auto make_table(std::integer_sequence<int, R...>) {
  return std::array<void (*)(const PointwiseTile&), sizeof...(R)>{
      &tile_rows<R + 1, Half, FullLoads>...};
}

}  // namespace

void pointwise_tile_avx512(int rows, const PointwiseTile& t) {
  constexpr auto rows_seq = std::make_integer_sequence<int, kPointwiseRows>{};
  static constexpr auto full = make_table<false, false>(rows_seq);
  static constexpr auto half = make_table<true, false>(rows_seq);
  static constexpr auto whole = make_table<false, true>(rows_seq);
  if (t.cols == kPointwiseCols) return whole[static_cast<size_t>(rows - 1)](t);
  (t.cols <= kPointwiseCols / 2 ? half : full)[static_cast<size_t>(rows - 1)](t);
}

}  // namespace kiln::cpu
