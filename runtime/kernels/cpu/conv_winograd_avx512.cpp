// AVX-512 stages of the F(2x2, 3x3) Winograd convolution: the input transform (16 tiles of a
// tile row per vector, their 4x4 patches de-interleaved from the source rows), the 16 channel
// GEMMs (8 output channels x up to 48 tiles per register tile, the transformed weights
// broadcast), and the output transform (2x2 pixels per tile re-interleaved into output rows,
// then bias, residual, ReLU).
#include <immintrin.h>

#include <algorithm>

#include "runtime/kernels/cpu/conv_winograd.h"

namespace kiln::cpu {

namespace {

inline __mmask16 lanes_below(int64_t n) {
  return n >= 16 ? static_cast<__mmask16>(0xFFFF)
                 : static_cast<__mmask16>(n <= 0 ? 0u : (1u << n) - 1u);
}

// Indices for _mm512_permutex2var_ps over (a, b) = 32 consecutive floats.
inline __m512i even_index() {
  return _mm512_setr_epi32(0, 2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 22, 24, 26, 28, 30);
}
inline __m512i odd_index() {
  return _mm512_setr_epi32(1, 3, 5, 7, 9, 11, 13, 15, 17, 19, 21, 23, 25, 27, 29, 31);
}
// Interleaves lanes of (a, b): low half a0 b0 a1 b1 ... a7 b7, high half a8 b8 ... a15 b15.
inline __m512i interleave_low() {
  return _mm512_setr_epi32(0, 16, 1, 17, 2, 18, 3, 19, 4, 20, 5, 21, 6, 22, 7, 23);
}
inline __m512i interleave_high() {
  return _mm512_setr_epi32(8, 24, 9, 25, 10, 26, 11, 27, 12, 28, 13, 29, 14, 30, 15, 31);
}

// acc[8][NQ] over the C channels: M rows [0, 8) x NQ vectors of tiles.
template <int NQ>
void gemm_tile(const float* u, const float* v, int64_t C, int64_t Tp, float* m) {
  __m512 acc[8][NQ];
#pragma GCC unroll 8
  for (int i = 0; i < 8; ++i) {
#pragma GCC unroll 3
    for (int q = 0; q < NQ; ++q) acc[i][q] = _mm512_setzero_ps();
  }
  for (int64_t c = 0; c < C; ++c, u += 8, v += Tp) {
    __m512 vv[NQ];
#pragma GCC unroll 3
    for (int q = 0; q < NQ; ++q) vv[q] = _mm512_loadu_ps(v + 16 * q);
#pragma GCC unroll 8
    for (int i = 0; i < 8; ++i) {
      const __m512 b = _mm512_set1_ps(u[i]);
#pragma GCC unroll 3
      for (int q = 0; q < NQ; ++q) acc[i][q] = _mm512_fmadd_ps(vv[q], b, acc[i][q]);
    }
  }
#pragma GCC unroll 8
  for (int i = 0; i < 8; ++i) {
#pragma GCC unroll 3
    for (int q = 0; q < NQ; ++q) _mm512_storeu_ps(m + i * Tp + 16 * q, acc[i][q]);
  }
}

// The last R (1..kNarrowTiles) tiles, which would fill a 16-tile vector only partly: NB blocks
// of 8 channels per pass, channels in the (8-lane) vectors and each tile's V value broadcast,
// so a lone tile costs one FMA per 8 channels instead of a whole vector per channel. Each
// element is the same FMA chain over the channels as in gemm_tile. (8 blocks x 3 tiles of
// accumulators, plus the broadcasts and a U row, fill the 32 vector registers.)
constexpr int kNarrowTiles = 3;
template <int NB, int R>
void gemm_narrow(const float* u, int64_t C, const float* v, int64_t Tp, float* m) {
  __m256 acc[NB][R];
#pragma GCC unroll 8
  for (int j = 0; j < NB; ++j) {
#pragma GCC unroll 4
    for (int r = 0; r < R; ++r) acc[j][r] = _mm256_setzero_ps();
  }
  for (int64_t c = 0; c < C; ++c, v += Tp) {
    __m256 b[R];
#pragma GCC unroll 4
    for (int r = 0; r < R; ++r) b[r] = _mm256_set1_ps(v[r]);
#pragma GCC unroll 8
    for (int j = 0; j < NB; ++j) {
      const __m256 uj = _mm256_loadu_ps(u + (j * C + c) * 8);
#pragma GCC unroll 4
      for (int r = 0; r < R; ++r) acc[j][r] = _mm256_fmadd_ps(uj, b[r], acc[j][r]);
    }
  }
  alignas(32) float lanes[8];
  for (int j = 0; j < NB; ++j) {
    for (int r = 0; r < R; ++r) {
      _mm256_store_ps(lanes, acc[j][r]);
      for (int i = 0; i < 8; ++i) m[(8 * j + i) * Tp + r] = lanes[i];
    }
  }
}

// Blocks [0, blocks) of gemm_narrow, 8 at a time (8 independent FMA chains per tile), then 4,
// 2, 1.
template <int R>
void gemm_narrow_blocks(const float* u, int64_t C, int64_t blocks, const float* v, int64_t Tp,
                        float* m) {
  int64_t b = 0;
  for (; b + 8 <= blocks; b += 8) gemm_narrow<8, R>(u + b * C * 8, C, v, Tp, m + b * 8 * Tp);
  if (blocks - b >= 4) gemm_narrow<4, R>(u + b * C * 8, C, v, Tp, m + b * 8 * Tp), b += 4;
  if (blocks - b >= 2) gemm_narrow<2, R>(u + b * C * 8, C, v, Tp, m + b * 8 * Tp), b += 2;
  if (blocks - b >= 1) gemm_narrow<1, R>(u + b * C * 8, C, v, Tp, m + b * 8 * Tp);
}

}  // namespace

void winograd_input_avx512(const WinogradItem& it) {
  const int64_t nv = (it.tiles_w + 15) / 16;
  const __m512i even = even_index(), odd = odd_index();
  const __m512 zero = _mm512_setzero_ps();
  for (int64_t c = 0; c < it.C; ++c) {
    for (int64_t ii = 0; ii < it.tile_rows; ++ii) {
      for (int64_t v = 0; v < nv; ++v) {
        // The source columns [32v, 32v + 34) that exist.
        const int64_t left = it.src_cols - 32 * v;
        const __mmask16 ma = lanes_below(left), mb = lanes_below(left - 16);
        const __mmask16 ma2 = lanes_below(left - 2), mb2 = lanes_below(left - 18);
        // d[r][k]: element (r, k) of the 4x4 patch of tiles 16v .. 16v + 15 of the tile row.
        __m512 d[4][4];
        for (int r = 0; r < 4; ++r) {
          if (2 * ii + r >= it.src_rows) {
            d[r][0] = d[r][1] = d[r][2] = d[r][3] = zero;
            continue;
          }
          const float* p = it.src + c * it.src_plane + (2 * ii + r) * it.src_row + 32 * v;
          const __m512 a = _mm512_maskz_loadu_ps(ma, p), b = _mm512_maskz_loadu_ps(mb, p + 16);
          const __m512 a2 = _mm512_maskz_loadu_ps(ma2, p + 2);
          const __m512 b2 = _mm512_maskz_loadu_ps(mb2, p + 18);
          d[r][0] = _mm512_permutex2var_ps(a, even, b);
          d[r][1] = _mm512_permutex2var_ps(a, odd, b);
          d[r][2] = _mm512_permutex2var_ps(a2, even, b2);
          d[r][3] = _mm512_permutex2var_ps(a2, odd, b2);
        }
        // B^T d B, B^T = [1 0 -1 0; 0 1 1 0; 0 -1 1 0; 0 1 0 -1]: rows, then columns.
        __m512 t[4][4];
        for (int k = 0; k < 4; ++k) {
          t[0][k] = _mm512_sub_ps(d[0][k], d[2][k]);
          t[1][k] = _mm512_add_ps(d[1][k], d[2][k]);
          t[2][k] = _mm512_sub_ps(d[2][k], d[1][k]);
          t[3][k] = _mm512_sub_ps(d[1][k], d[3][k]);
        }
        // Full-vector stores: lanes past the tile row are overwritten by the next tile row
        // (or land in V's slack; the output transform never reads them).
        float* out = it.V + c * it.Tp + ii * it.tiles_w + 16 * v;
        const int64_t xi_stride = it.Vs;
        for (int r = 0; r < 4; ++r) {
          _mm512_storeu_ps(out + (4 * r + 0) * xi_stride, _mm512_sub_ps(t[r][0], t[r][2]));
          _mm512_storeu_ps(out + (4 * r + 1) * xi_stride, _mm512_add_ps(t[r][1], t[r][2]));
          _mm512_storeu_ps(out + (4 * r + 2) * xi_stride, _mm512_sub_ps(t[r][2], t[r][1]));
          _mm512_storeu_ps(out + (4 * r + 3) * xi_stride, _mm512_sub_ps(t[r][1], t[r][3]));
        }
      }
    }
  }
}

void winograd_gemm_avx512(const WinogradItem& it) {
  // A last vector of at most kNarrowTiles tiles goes to gemm_narrow (ResNet's 14x14 planes:
  // 49 tiles, three vectors and one tile).
  const int64_t rest = it.T % 16;
  const int64_t narrow = rest <= kNarrowTiles ? rest : 0;
  const int64_t vecs = (it.T - narrow + 15) / 16, blocks = it.Mp / 8;
  for (int64_t xi = 0; xi < 16; ++xi) {
    const float* v = it.V + xi * it.Vs;
    if (narrow) {
      // The blocks are u_blocks * C * 8 floats apart per xi, C * 8 apart within one.
      const float* u = it.U + xi * it.u_blocks * it.C * 8;
      const float* vn = v + 16 * vecs;
      float* m = it.M + xi * it.Ms + 16 * vecs;
      switch (narrow) {
        case 1: gemm_narrow_blocks<1>(u, it.C, blocks, vn, it.Tp, m); break;
        case 2: gemm_narrow_blocks<2>(u, it.C, blocks, vn, it.Tp, m); break;
        default: gemm_narrow_blocks<3>(u, it.C, blocks, vn, it.Tp, m); break;
      }
    }
    for (int64_t mb = 0; mb < blocks; ++mb) {
      const float* u = it.U + (xi * it.u_blocks + mb) * it.C * 8;
      float* m = it.M + xi * it.Ms + mb * 8 * it.Tp;
      int64_t q = 0;
      for (; q + 3 <= vecs; q += 3) gemm_tile<3>(u, v + 16 * q, it.C, it.Tp, m + 16 * q);
      if (vecs - q == 2) gemm_tile<2>(u, v + 16 * q, it.C, it.Tp, m + 16 * q);
      if (vecs - q == 1) gemm_tile<1>(u, v + 16 * q, it.C, it.Tp, m + 16 * q);
    }
  }
}

void winograd_output_avx512(const WinogradItem& it, const WinogradOut& o) {
  const int64_t nv = (it.tiles_w + 15) / 16;
  const __m512i lo_index = interleave_low(), hi_index = interleave_high();
  const __m512 zero = _mm512_setzero_ps();
  for (int ch = 0; ch < o.channels; ++ch) {
    const __m512 bias = o.bias ? _mm512_set1_ps(o.bias[ch]) : zero;
    for (int64_t ii = 0; ii < it.tile_rows; ++ii) {
      for (int64_t v = 0; v < nv; ++v) {
        const float* mp = it.M + ch * it.Tp + ii * it.tiles_w + 16 * v;
        // Only this tile row's lanes: past the item's last tile M may hold anything.
        const __mmask16 tiles = lanes_below(it.tiles_w - 16 * v);
        __m512 m[4][4];
        for (int r = 0; r < 4; ++r) {
          for (int k = 0; k < 4; ++k) {
            m[r][k] = _mm512_maskz_loadu_ps(tiles, mp + (4 * r + k) * it.Ms);
          }
        }
        // A^T m A, A^T = [1 1 1 0; 0 1 -1 -1]: rows, then columns.
        __m512 s[2][4];
        for (int k = 0; k < 4; ++k) {
          s[0][k] = _mm512_add_ps(_mm512_add_ps(m[0][k], m[1][k]), m[2][k]);
          s[1][k] = _mm512_sub_ps(_mm512_sub_ps(m[1][k], m[2][k]), m[3][k]);
        }
        const int64_t col = 32 * v;
        const __mmask16 mask_lo = lanes_below(o.out_w - col);
        const __mmask16 mask_hi = lanes_below(o.out_w - col - 16);
        for (int a = 0; a < 2; ++a) {
          const int64_t row = 2 * ii + a;
          if (row >= o.rows) break;
          const __m512 left = _mm512_add_ps(_mm512_add_ps(s[a][0], s[a][1]), s[a][2]);
          const __m512 right = _mm512_sub_ps(_mm512_sub_ps(s[a][1], s[a][2]), s[a][3]);
          const int64_t at = ch * o.ldy + row * o.out_w + col;
          __m512 out[2] = {_mm512_permutex2var_ps(left, lo_index, right),
                           _mm512_permutex2var_ps(left, hi_index, right)};
          const __mmask16 masks[2] = {mask_lo, mask_hi};
          for (int h = 0; h < 2; ++h) {
            if (!masks[h]) break;
            __m512 y = _mm512_add_ps(out[h], bias);
            if (o.res) {
              y = _mm512_add_ps(y, _mm512_maskz_loadu_ps(masks[h], o.res + at + 16 * h));
              // v < 0 ? 0 : v, as the other conv paths and generated epilogues.
              if (o.relu) y = _mm512_mask_mov_ps(y, _mm512_cmp_ps_mask(y, zero, _CMP_LT_OQ), zero);
            } else if (o.relu) {
              // The mask form: GCC 12's plain _mm512_max_ps trips -Wmaybe-uninitialized.
              y = _mm512_mask_max_ps(y, 0xFFFF, y, zero);
            }
            _mm512_mask_storeu_ps(o.y + at + 16 * h, masks[h], y);
          }
        }
      }
    }
  }
}

}  // namespace kiln::cpu
