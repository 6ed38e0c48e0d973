// AVX-512 row tiles of the few-taps convolution: K tap vectors x V (1 or 2) pixel vectors in
// registers, output channels MB at a time (MB * V = 8 accumulator chains cover the FMA
// latency), each channel's weights broadcast from memory.
#include <immintrin.h>

#include <array>
#include <utility>

#include "runtime/kernels/cpu/conv_fewtaps.h"

namespace kiln::cpu {

namespace {

template <int V>
using Masks = std::array<__mmask16, V>;

// Channels [c0, c0 + MB) of the row. `r` is the caller's local copy: stores through y cannot
// alias it, so its fields stay in registers.
template <int K, int V, int MB>
[[gnu::always_inline]] inline void channel_block(const FewTapsRow& r, const __m512 (&xv)[K][V],
                                                 const Masks<V>& m, int c0) {
  // The sums start from the bias (one add fewer per stored vector).
  __m512 acc[MB][V];
#pragma GCC unroll 8
  for (int j = 0; j < MB; ++j) {
    const __m512 b = r.bias ? _mm512_set1_ps(r.bias[c0 + j]) : _mm512_setzero_ps();
#pragma GCC unroll 2
    for (int v = 0; v < V; ++v) acc[j][v] = b;
  }
  const float* w = r.w + static_cast<int64_t>(c0) * K;
#pragma GCC unroll 16
  for (int k = 0; k < K; ++k) {
#pragma GCC unroll 8
    for (int j = 0; j < MB; ++j) {
      const __m512 wb = _mm512_set1_ps(w[j * K + k]);
#pragma GCC unroll 2
      for (int v = 0; v < V; ++v) acc[j][v] = _mm512_fmadd_ps(xv[k][v], wb, acc[j][v]);
    }
  }
  const __m512 zero = _mm512_setzero_ps();
#pragma GCC unroll 8
  for (int j = 0; j < MB; ++j) {
    const int64_t at = (c0 + j) * r.ldy;
#pragma GCC unroll 2
    for (int v = 0; v < V; ++v) {
      __m512 o = acc[j][v];
      if (r.res) {
        o = _mm512_add_ps(o, _mm512_maskz_loadu_ps(m[v], r.res + at + 16 * v));
        // v < 0 ? 0 : v, as the outvec tiles and generated epilogues (keeps -0 and NaN).
        if (r.relu) o = _mm512_mask_mov_ps(o, _mm512_cmp_ps_mask(o, zero, _CMP_LT_OQ), zero);
      } else if (r.relu) {
        // The mask form: GCC 12's plain _mm512_max_ps trips -Wmaybe-uninitialized.
        o = _mm512_mask_max_ps(o, 0xFFFF, o, zero);
      }
      _mm512_mask_storeu_ps(r.y + at + 16 * v, m[v], o);
    }
  }
}

template <int K, int V>
void row(const FewTapsRow& in) {
  constexpr int MB = 8 / V;
  const FewTapsRow r = in;
  Masks<V> m;
#pragma GCC unroll 2
  for (int v = 0; v < V; ++v) {
    const int n = r.pixels - 16 * v;
    m[v] = n >= 16 ? static_cast<__mmask16>(0xFFFF)
                   : static_cast<__mmask16>(n <= 0 ? 0u : (1u << n) - 1u);
  }
  __m512 xv[K][V];
#pragma GCC unroll 16
  for (int k = 0; k < K; ++k) {
#pragma GCC unroll 2
    for (int v = 0; v < V; ++v) xv[k][v] = _mm512_maskz_loadu_ps(m[v], r.x + r.off[k] + 16 * v);
  }
  int c = 0;
  for (; c + MB <= r.channels; c += MB) channel_block<K, V, MB>(r, xv, m, c);
  for (; c < r.channels; ++c) channel_block<K, V, 1>(r, xv, m, c);
}

using RowFn = void (*)(const FewTapsRow&);

template <int V, int... Ks>
constexpr std::array<RowFn, sizeof...(Ks)> table(std::integer_sequence<int, Ks...>) {
  return {&row<Ks + 1, V>...};
}

}  // namespace

void fewtaps_row_avx512(int K, const FewTapsRow& r) {
  // Two pixel vectors per segment while the taps leave the registers for them (K <= 9).
  static constexpr auto one = table<1>(std::make_integer_sequence<int, kFewTapsMaxK>{});
  static constexpr auto two = table<2>(std::make_integer_sequence<int, 9>{});
  (r.pixels > 16 && K <= 9 ? two[K - 1] : one[K - 1])(r);
}

}  // namespace kiln::cpu
