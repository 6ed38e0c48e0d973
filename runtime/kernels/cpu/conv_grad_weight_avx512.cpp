// The AVX-512 register tile of conv_grad_weight_dot (conv_grad_weight.h): up to 4 x 6 dot
// products over P floats per image, 16 lanes at a time, the tail masked.
// GCC 12's avx512fintrin.h builds _mm512_reduce_add_ps on _mm512_undefined_ps(), which
// -W(maybe-)uninitialized reports as "'__Y' is used uninitialized": a header false positive.
#pragma GCC diagnostic ignored "-Wuninitialized"
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#include <immintrin.h>

#include "runtime/kernels/cpu/conv_grad_weight.h"

namespace kiln::cpu {

namespace {

template <int MR, int JR>
void tile(int nimg, int64_t P, const float* const* a, const float* const* b, float* c,
          int64_t ldc, bool accumulate) {
  __m512 s[MR][JR];
  for (int i = 0; i < MR; ++i)
    for (int j = 0; j < JR; ++j) s[i][j] = _mm512_setzero_ps();
  const int64_t full = P / 16 * 16;
  const __mmask16 tail = static_cast<__mmask16>((1u << (P - full)) - 1u);
  for (int n = 0; n < nimg; ++n) {
    const float* const* ar = a + n * MR;
    const float* const* br = b + n * JR;
    for (int64_t k = 0; k < full; k += 16) {
      __m512 av[MR];
      for (int i = 0; i < MR; ++i) av[i] = _mm512_loadu_ps(ar[i] + k);
      for (int j = 0; j < JR; ++j) {
        const __m512 bv = _mm512_loadu_ps(br[j] + k);
        for (int i = 0; i < MR; ++i) s[i][j] = _mm512_fmadd_ps(av[i], bv, s[i][j]);
      }
    }
    if (tail) {  // masked loads read nothing past the row
      __m512 av[MR];
      for (int i = 0; i < MR; ++i) av[i] = _mm512_maskz_loadu_ps(tail, ar[i] + full);
      for (int j = 0; j < JR; ++j) {
        const __m512 bv = _mm512_maskz_loadu_ps(tail, br[j] + full);
        for (int i = 0; i < MR; ++i) s[i][j] = _mm512_fmadd_ps(av[i], bv, s[i][j]);
      }
    }
  }
  for (int i = 0; i < MR; ++i) {
    for (int j = 0; j < JR; ++j) {
      const float v = _mm512_reduce_add_ps(s[i][j]);
      c[i * ldc + j] = accumulate ? c[i * ldc + j] + v : v;
    }
  }
}

using TileFn = void (*)(int, int64_t, const float* const*, const float* const*, float*, int64_t,
                        bool);

template <int MR>
TileFn pick(int jr) {
  switch (jr) {
    case 1: return &tile<MR, 1>;
    case 2: return &tile<MR, 2>;
    case 3: return &tile<MR, 3>;
    case 4: return &tile<MR, 4>;
    case 5: return &tile<MR, 5>;
    default: return &tile<MR, 6>;
  }
}

}  // namespace

void grad_weight_tile_avx512(int mr, int jr, int nimg, int64_t P, const float* const* a,
                             const float* const* b, float* c, int64_t ldc, bool accumulate) {
  TileFn fn = mr == 1 ? pick<1>(jr) : mr == 2 ? pick<2>(jr) : mr == 3 ? pick<3>(jr) : pick<4>(jr);
  fn(nimg, P, a, b, c, ldc, accumulate);
}

}  // namespace kiln::cpu
