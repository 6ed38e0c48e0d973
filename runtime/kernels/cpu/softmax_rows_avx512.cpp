// AVX-512 softmax_row: the portable row kernel of softmax_rows.cpp 16 lanes at a time, with the
// same operations in the same order (the same exp polynomial without FMA contraction, the same
// 16 per-lane partial sums combined in double), so both paths give bit-identical rows.
#include <immintrin.h>

#include <cstdint>
#include <initializer_list>

#include "runtime/kernels/cpu/softmax_rows.h"

namespace kiln::cpu {

namespace {

constexpr __mmask16 kAll = 0xFFFF;

// Full-mask forms of max/min/convert/shift: GCC 12's unmasked ones start from an "undefined"
// vector that trips -Wmaybe-uninitialized.
inline __m512 vmax(__m512 a, __m512 b) { return _mm512_mask_max_ps(a, kAll, a, b); }
inline __m512 vmin(__m512 a, __m512 b) { return _mm512_mask_min_ps(a, kAll, a, b); }

// Multiply and add as separate roundings, as in the portable code: the explicit-rounding forms
// keep GCC from contracting them into FMAs (which would change the last bit).
constexpr int kNearest = _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC;
inline __m512 mul(__m512 a, __m512 b) { return _mm512_mul_round_ps(a, b, kNearest); }
inline __m512 add(__m512 a, __m512 b) { return _mm512_add_round_ps(a, b, kNearest); }
inline __m512 sub(__m512 a, __m512 b) { return _mm512_sub_round_ps(a, b, kNearest); }

inline __mmask16 lanes(int64_t n) {
  return n >= 16 ? kAll : static_cast<__mmask16>((1u << n) - 1u);
}

// exp_approx of softmax_rows.cpp on 16 lanes.
inline __m512 exp16(__m512 x) {
  const __m512 lo = _mm512_set1_ps(-87.3f), hi = _mm512_set1_ps(88.37f);
  const __m512 round = _mm512_set1_ps(12582912.0f);
  // max/min return the second operand for a NaN x: the clamp, as the portable selects do.
  __m512 xc = vmax(x, lo);
  xc = vmin(xc, hi);
  const __m512 n = sub(add(mul(xc, _mm512_set1_ps(1.44269504088896341f)), round), round);
  __m512 r = sub(xc, mul(n, _mm512_set1_ps(0.693359375f)));
  r = sub(r, mul(n, _mm512_set1_ps(-2.12194440e-4f)));
  __m512 p = _mm512_set1_ps(1.0f / 720.0f);
  for (const float c : {1.0f / 120.0f, 1.0f / 24.0f, 1.0f / 6.0f, 0.5f, 1.0f, 1.0f}) {
    p = add(mul(p, r), _mm512_set1_ps(c));
  }
  const __m512i zero = _mm512_setzero_si512();
  const __m512i ni = _mm512_mask_cvttps_epi32(zero, kAll, n);
  const __m512i e =
      _mm512_mask_slli_epi32(zero, kAll, _mm512_add_epi32(ni, _mm512_set1_epi32(127)), 23);
  __m512 y = mul(p, _mm512_castsi512_ps(e));
  y = _mm512_mask_mov_ps(y, _mm512_cmp_ps_mask(x, lo, _CMP_LT_OQ), _mm512_setzero_ps());
  y = _mm512_mask_mov_ps(y, _mm512_cmp_ps_mask(x, hi, _CMP_GT_OQ),
                         _mm512_set1_ps(__builtin_inff()));
  return _mm512_mask_mov_ps(y, _mm512_cmp_ps_mask(x, x, _CMP_UNORD_Q), x);
}

// The 16 lane partials in double, lane 0 first, as sum_of does.
inline double lane_sum(__m512 v) {
  alignas(64) float part[16];
  _mm512_store_ps(part, v);
  double s = 0;
  for (float f : part) s += f;
  return s;
}

}  // namespace

void softmax_row_avx512(const float* x, float* y, int64_t n) {
  // max_of: 16 lane maxima over the whole blocks, then the lanes, then the tail.
  __m512 top = _mm512_set1_ps(-__builtin_inff());
  int64_t i = 0;
  for (; i + 16 <= n; i += 16) top = vmax(_mm512_loadu_ps(x + i), top);
  alignas(64) float part[16];
  _mm512_store_ps(part, top);
  float m = -__builtin_inff();
  for (float v : part) m = v > m ? v : m;
  for (; i < n; ++i) m = x[i] > m ? x[i] : m;

  const __m512 vm = _mm512_set1_ps(m);
  __m512 vsum = _mm512_setzero_ps();
  const int64_t full = n / 16 * 16;
  for (i = 0; i < n; i += 16) {
    const __mmask16 k = lanes(n - i);
    const __m512 e = exp16(sub(_mm512_maskz_loadu_ps(k, x + i), vm));
    _mm512_mask_storeu_ps(y + i, k, e);
    if (k == kAll) vsum = add(vsum, e);
  }
  // sum_of: the lanes, then the tail, each added to the double total in order.
  double s = lane_sum(vsum);
  for (i = full; i < n; ++i) s += y[i];
  const float inv = static_cast<float>(1.0 / s);
  const __m512 vinv = _mm512_set1_ps(inv);
  for (i = 0; i < n; i += 16) {
    const __mmask16 k = lanes(n - i);
    _mm512_mask_storeu_ps(y + i, k, mul(_mm512_maskz_loadu_ps(k, y + i), vinv));
  }
}

}  // namespace kiln::cpu
