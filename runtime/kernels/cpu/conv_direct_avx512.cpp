// AVX-512 register tile of the direct convolution: 8 output channels x vecs (1..3) vectors of
// 16 flat pixels in up to 24 zmm accumulators. Per tap it loads vecs unaligned source vectors
// and broadcasts 8 weights; the stores compress away the junk columns of the flat layout.
#include <immintrin.h>

#include "runtime/kernels/cpu/conv_direct.h"

namespace kiln::cpu {

namespace {

template <int V>
void tile(const DirectTile& t) {
  constexpr int R = kDirectRows;
  __m512 acc[R][V];
#pragma GCC unroll 8
  for (int r = 0; r < R; ++r) {
#pragma GCC unroll 3
    for (int v = 0; v < V; ++v) acc[r][v] = _mm512_setzero_ps();
  }
  const float* a = t.a;
#pragma GCC unroll 4
  for (int64_t k = 0; k < t.K; ++k, a += R) {
    const float* src = t.x + t.off[k];
    __m512 b[V];
#pragma GCC unroll 3
    for (int v = 0; v < V; ++v) b[v] = _mm512_loadu_ps(src + 16 * v);
#pragma GCC unroll 8
    for (int r = 0; r < R; ++r) {
      const __m512 w = _mm512_set1_ps(a[r]);
#pragma GCC unroll 3
      for (int v = 0; v < V; ++v) acc[r][v] = _mm512_fmadd_ps(w, b[v], acc[r][v]);
    }
  }
  const __m512 zero = _mm512_setzero_ps();
  for (int r = 0; r < t.rows; ++r) {
    float* y = t.y + r * t.ldy;
    const __m512 bias = t.bias ? _mm512_set1_ps(t.bias[r]) : zero;
#pragma GCC unroll 3
    for (int v = 0; v < V; ++v) {
      __m512 o = _mm512_add_ps(acc[r][v], bias);
      // The mask form: GCC 12's plain _mm512_max_ps trips -Wmaybe-uninitialized.
      if (t.relu) o = _mm512_mask_max_ps(o, 0xFFFF, o, zero);
      const __mmask16 m = t.mask[v];
      if (m == 0xFFFF) {
        _mm512_storeu_ps(y + t.dst[v], o);
      } else if (m != 0) {
        const int n = __builtin_popcount(m);
        _mm512_mask_storeu_ps(y + t.dst[v], static_cast<__mmask16>((1u << n) - 1u),
                              _mm512_maskz_compress_ps(m, o));
      }
    }
  }
}

}  // namespace

void direct_tile_avx512(int vecs, const DirectTile& t) {
  switch (vecs) {
    case 1:
      return tile<1>(t);
    case 2:
      return tile<2>(t);
    default:
      return tile<3>(t);
  }
}

}  // namespace kiln::cpu
