// AVX-512 register tiles of the output-channel-vectorized convolution: CO (1..3) panels of 16
// output channels x P pixels of one output row, CO * P <= 28 zmm accumulators. Per tap: CO
// weight loads, P broadcasts, CO * P FMAs. The tile is transposed 16 x 16 in registers so each
// channel's P pixels leave in one masked store.
#include <immintrin.h>

#include "runtime/kernels/cpu/conv_outvec.h"
#include "runtime/kernels/cpu/conv_outvec_dispatch.h"
#include "runtime/kernels/cpu/transpose16_avx512.h"

namespace kiln::cpu {

namespace {

using avx512::transpose16;

// flatten: the transposes inline (as calls they take the tile through memory).
template <int CO, int R, int Q, int SW>
__attribute__((flatten)) void tile(const OutvecTile& t) {
  constexpr int P = R * Q;
  __m512 acc[CO][P];
#pragma GCC unroll 4
  for (int j = 0; j < CO; ++j) {
#pragma GCC unroll 28
    for (int i = 0; i < P; ++i) acc[j][i] = _mm512_setzero_ps();
  }
  const int64_t ws = t.wstride;
  // The weight lines to prefetch, `prefetch_lines` of them spread over the K taps (Bresenham).
  const float* pf = t.prefetch;
  int64_t pf_acc = 0;
  auto taps = [&](int64_t k_begin, int64_t k_end) {
    const float* w = t.w + 16 * k_begin;
#pragma GCC unroll 2
    for (int64_t k = k_begin; k < k_end; ++k, w += 16) {
      if (pf) {
        pf_acc += t.prefetch_lines;
        while (pf_acc >= t.K) {
          _mm_prefetch(reinterpret_cast<const char*>(pf), _MM_HINT_T1);
          pf += 16;
          pf_acc -= t.K;
        }
      }
      const float* xs = t.x + t.off[k];
      if (t.xnext) {
        const float* xn = t.xnext + t.off[k];
#pragma GCC unroll 2
        for (int r = 0; r < R; ++r) {
          _mm_prefetch(reinterpret_cast<const char*>(xn + r * t.xrow), _MM_HINT_T1);
          if ((Q - 1) * SW >= 8) {
            _mm_prefetch(reinterpret_cast<const char*>(xn + r * t.xrow + (Q - 1) * SW),
                         _MM_HINT_T1);
          }
        }
      }
      __m512 wv[CO];
#pragma GCC unroll 4
      for (int j = 0; j < CO; ++j) wv[j] = _mm512_loadu_ps(w + j * ws);
#pragma GCC unroll 28
      for (int i = 0; i < P; ++i) {
        const __m512 b = _mm512_set1_ps(xs[(i / Q) * t.xrow + (i % Q) * SW]);
#pragma GCC unroll 4
        for (int j = 0; j < CO; ++j) acc[j][i] = _mm512_fmadd_ps(wv[j], b, acc[j][i]);
      }
    }
  };
  if (t.ksplit > 0) {
    // Two halves summed from zero each, then added: the bits of split-K's partial sums.
    taps(0, t.ksplit);
    __m512 first[CO][P];
#pragma GCC unroll 4
    for (int j = 0; j < CO; ++j) {
#pragma GCC unroll 28
      for (int i = 0; i < P; ++i) first[j][i] = acc[j][i], acc[j][i] = _mm512_setzero_ps();
    }
    taps(t.ksplit, t.K);
#pragma GCC unroll 4
    for (int j = 0; j < CO; ++j) {
#pragma GCC unroll 28
      for (int i = 0; i < P; ++i) acc[j][i] = _mm512_add_ps(first[j][i], acc[j][i]);
    }
  } else {
    taps(0, t.K);
  }
  const __m512 zero = _mm512_setzero_ps();
  // The bias (one per lane: lanes are channels) and, without a residual, the ReLU go on the
  // accumulators before the transpose: CO * P operations instead of one per stored vector.
#pragma GCC unroll 4
  for (int j = 0; j < CO; ++j) {
    if (16 * j >= t.channels) break;
    if (t.bias) {
      const __m512 b = _mm512_maskz_loadu_ps(avx512::lanes(t.channels - 16 * j), t.bias + 16 * j);
#pragma GCC unroll 28
      for (int i = 0; i < P; ++i) acc[j][i] = _mm512_add_ps(acc[j][i], b);
    }
    if (t.relu && !t.res) {
      // The mask form: GCC 12's plain _mm512_max_ps trips -Wmaybe-uninitialized.
#pragma GCC unroll 28
      for (int i = 0; i < P; ++i) {
        acc[j][i] = _mm512_mask_max_ps(acc[j][i], 0xFFFF, acc[j][i], zero);
      }
    }
  }
#pragma GCC unroll 4
  for (int j = 0; j < CO; ++j) {
    const int c0 = 16 * j;
    if (c0 >= t.channels) break;
    const int nc = t.channels - c0 < 16 ? t.channels - c0 : 16;
#pragma GCC unroll 4
    for (int row = 0; row < R; ++row) {
#pragma GCC unroll 2
      for (int q = 0; q < Q; q += 16) {
        const int np = Q - q < 16 ? Q - q : 16;
        __m512 r[16];
#pragma GCC unroll 16
        for (int i = 0; i < 16; ++i) r[i] = q + i < Q ? acc[j][row * Q + q + i] : zero;
        transpose16(r);
        const __mmask16 m = static_cast<__mmask16>((1u << np) - 1u);
        float* y = t.y + row * t.yrow + q;
        const float* res = t.res ? t.res + row * t.yrow + q : nullptr;
        for (int c = 0; c < nc; ++c) {
          __m512 o = r[c];
          if (res) {
            o = _mm512_add_ps(o, _mm512_maskz_loadu_ps(m, res + (c0 + c) * t.ldy));
            // v < 0 ? 0 : v, as the generated epilogue this replaces (keeps -0 and NaN).
            if (t.relu) o = _mm512_mask_mov_ps(o, _mm512_cmp_ps_mask(o, zero, _CMP_LT_OQ), zero);
          }
          _mm512_mask_storeu_ps(y + (c0 + c) * t.ldy, m, o);
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

void outvec_sum_halves_avx512(const float* a, const float* b, const float* bias,
                              const float* res, bool relu, int64_t M, int64_t P, int64_t p0,
                              int64_t p1, float* y) {
  const __m512 zero = _mm512_setzero_ps();
  for (int64_t c = 0; c < M; ++c) {
    const __m512 bv = _mm512_set1_ps(bias ? bias[c] : 0.0f);
    const int64_t row = c * P;
    for (int64_t p = p0; p < p1; p += 16) {
      const __mmask16 m = avx512::lanes(static_cast<int>(p1 - p < 16 ? p1 - p : 16));
      // (a + b) + bias, then the residual and ReLU exactly as the tiles order them.
      __m512 v = _mm512_add_ps(_mm512_maskz_loadu_ps(m, a + row + p),
                               _mm512_maskz_loadu_ps(m, b + row + p));
      if (bias) v = _mm512_add_ps(v, bv);
      if (res) {
        v = _mm512_add_ps(v, _mm512_maskz_loadu_ps(m, res + row + p));
        if (relu) v = _mm512_mask_mov_ps(v, _mm512_cmp_ps_mask(v, zero, _CMP_LT_OQ), zero);
      } else if (relu) {
        v = _mm512_mask_max_ps(v, 0xFFFF, v, zero);
      }
      _mm512_mask_storeu_ps(y + row + p, m, v);
    }
  }
}

void outvec_tile_avx512(int co, int rows, int q, int sw, const OutvecTile& t) {
  // Accumulator budgets: most pixels per tile of 1, 2 and 3 panels.
  outvec::run_tile<Tile, 28, 14, 9>(co, rows, q, sw, t);
}

}  // namespace kiln::cpu
