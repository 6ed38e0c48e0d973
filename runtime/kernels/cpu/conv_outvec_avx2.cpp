// AVX2 register tiles of the output-channel-vectorized convolution: CO (1..3) panels of 8
// output channels x P pixels of one output row, CO * P <= 12 ymm accumulators (the weights
// and one broadcast take the rest of the 16 registers). Stores go through an 8 x 8 in-register
// transpose, one masked store per channel.
#include <immintrin.h>

#include "runtime/kernels/cpu/conv_outvec.h"
#include "runtime/kernels/cpu/conv_outvec_dispatch.h"

namespace kiln::cpu {

namespace {

inline void transpose8(__m256 r[8]) {
  __m256 t[8];
#pragma GCC unroll 4
  for (int i = 0; i < 4; ++i) {
    t[2 * i] = _mm256_unpacklo_ps(r[2 * i], r[2 * i + 1]);
    t[2 * i + 1] = _mm256_unpackhi_ps(r[2 * i], r[2 * i + 1]);
  }
  __m256 u[8];
#pragma GCC unroll 2
  for (int i = 0; i < 2; ++i) {
    u[4 * i] = _mm256_shuffle_ps(t[4 * i], t[4 * i + 2], 0x44);
    u[4 * i + 1] = _mm256_shuffle_ps(t[4 * i], t[4 * i + 2], 0xEE);
    u[4 * i + 2] = _mm256_shuffle_ps(t[4 * i + 1], t[4 * i + 3], 0x44);
    u[4 * i + 3] = _mm256_shuffle_ps(t[4 * i + 1], t[4 * i + 3], 0xEE);
  }
#pragma GCC unroll 4
  for (int j = 0; j < 4; ++j) {
    r[j] = _mm256_permute2f128_ps(u[j], u[4 + j], 0x20);
    r[4 + j] = _mm256_permute2f128_ps(u[j], u[4 + j], 0x31);
  }
}

// Lanes [0, n) set.
inline __m256i lane_mask(int n) {
  const __m256i idx = _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7);
  return _mm256_cmpgt_epi32(_mm256_set1_epi32(n), idx);
}

template <int CO, int R, int Q, int SW>
void tile(const OutvecTile& t) {
  constexpr int P = R * Q;
  __m256 acc[CO][P];
#pragma GCC unroll 4
  for (int j = 0; j < CO; ++j) {
#pragma GCC unroll 12
    for (int i = 0; i < P; ++i) acc[j][i] = _mm256_setzero_ps();
  }
  const float* w = t.w;
  const int64_t ws = t.wstride;
#pragma GCC unroll 2
  for (int64_t k = 0; k < t.K; ++k, w += 8) {
    const float* xs = t.x + t.off[k];
    __m256 wv[CO];
#pragma GCC unroll 4
    for (int j = 0; j < CO; ++j) wv[j] = _mm256_loadu_ps(w + j * ws);
#pragma GCC unroll 12
    for (int i = 0; i < P; ++i) {
      const __m256 b = _mm256_broadcast_ss(xs + (i / Q) * t.xrow + (i % Q) * SW);
#pragma GCC unroll 4
      for (int j = 0; j < CO; ++j) acc[j][i] = _mm256_fmadd_ps(wv[j], b, acc[j][i]);
    }
  }
  const __m256 zero = _mm256_setzero_ps();
#pragma GCC unroll 4
  for (int j = 0; j < CO; ++j) {
    const int c0 = 8 * j;
    if (c0 >= t.channels) break;
    const int nc = t.channels - c0 < 8 ? t.channels - c0 : 8;
#pragma GCC unroll 4
    for (int row = 0; row < R; ++row) {
#pragma GCC unroll 2
      for (int q = 0; q < Q; q += 8) {
        const int np = Q - q < 8 ? Q - q : 8;
        __m256 r[8];
#pragma GCC unroll 8
        for (int i = 0; i < 8; ++i) r[i] = q + i < Q ? acc[j][row * Q + q + i] : zero;
        transpose8(r);
        const __m256i m = lane_mask(np);
        float* y = t.y + row * t.yrow + q;
        for (int c = 0; c < nc; ++c) {
          __m256 o = r[c];
          if (t.bias) o = _mm256_add_ps(o, _mm256_set1_ps(t.bias[c0 + c]));
          if (t.relu) o = _mm256_max_ps(o, zero);
          _mm256_maskstore_ps(y + (c0 + c) * t.ldy, m, o);
        }
      }
    }
  }
}

template <int CO, int R, int Q, int SW>
struct Tile {
  static void run(const OutvecTile& t) { tile<CO, R, Q, SW>(t); }
};

}  // namespace

void outvec_tile_avx2(int co, int rows, int q, int sw, const OutvecTile& t) {
  // Accumulator budgets: most pixels per tile of 1, 2 and 3 panels.
  outvec::run_tile<Tile, 12, 6, 4>(co, rows, q, sw, t);
}

}  // namespace kiln::cpu
