// depthwise_flat_plane_avx512 (depthwise_flat.h): masked loads touch no memory in their
// masked-off lanes, so taps may reach before or past the plane.
#include <immintrin.h>

#include "runtime/kernels/cpu/depthwise_flat.h"

namespace kiln::cpu {
namespace {

// Four or two vectors per pass (independent FMA chains: one chain of taps is latency-bound). kTaps:
// the tap count as a constant, or 0 to read it from the plan.
template <int kTaps>
void plane(const FlatPlan& p, const float* w, float bias, bool relu, const float* x, float* y) {
  const int64_t taps = kTaps ? kTaps : p.taps, nv = p.vectors;
  __m512 wv[kTaps ? kTaps : 1];
  if constexpr (kTaps > 0)
    for (int t = 0; t < kTaps; ++t) wv[t] = _mm512_set1_ps(w[t]);
  const __m512 b = _mm512_set1_ps(bias);
  const int64_t* off = p.offset.data();
  const auto finish = [&](__m512 acc, int64_t v) {
    if (relu) acc = _mm512_mask_max_ps(acc, 0xffff, acc, _mm512_setzero_ps());
    _mm512_mask_storeu_ps(y + 16 * v, static_cast<__mmask16>(p.out_mask[v]), acc);
  };
  int64_t v = 0;
  for (; v + 4 <= nv; v += 4) {
    const uint16_t* m0 = p.mask.data() + v * taps;  // [v][t]
    const float* x0 = x + 16 * v;
    __m512 a0 = b, a1 = b, a2 = b, a3 = b;
    for (int64_t t = 0; t < taps; ++t) {
      const __m512 wt = kTaps ? wv[kTaps ? t : 0] : _mm512_set1_ps(w[t]);
      const auto k0 = static_cast<__mmask16>(m0[t]), k1 = static_cast<__mmask16>(m0[taps + t]);
      const auto k2 = static_cast<__mmask16>(m0[2 * taps + t]);
      const auto k3 = static_cast<__mmask16>(m0[3 * taps + t]);
      a0 = _mm512_mask3_fmadd_ps(_mm512_maskz_loadu_ps(k0, x0 + off[t]), wt, a0, k0);
      a1 = _mm512_mask3_fmadd_ps(_mm512_maskz_loadu_ps(k1, x0 + 16 + off[t]), wt, a1, k1);
      a2 = _mm512_mask3_fmadd_ps(_mm512_maskz_loadu_ps(k2, x0 + 32 + off[t]), wt, a2, k2);
      a3 = _mm512_mask3_fmadd_ps(_mm512_maskz_loadu_ps(k3, x0 + 48 + off[t]), wt, a3, k3);
    }
    finish(a0, v);
    finish(a1, v + 1);
    finish(a2, v + 2);
    finish(a3, v + 3);
  }
  for (; v + 2 <= nv; v += 2) {
    const uint16_t* m0 = p.mask.data() + v * taps;  // [v][t]
    const uint16_t* m1 = m0 + taps;
    const float* x0 = x + 16 * v;
    __m512 a0 = b, a1 = b;
    for (int64_t t = 0; t < taps; ++t) {
      const __m512 wt = kTaps ? wv[kTaps ? t : 0] : _mm512_set1_ps(w[t]);
      const auto k0 = static_cast<__mmask16>(m0[t]), k1 = static_cast<__mmask16>(m1[t]);
      a0 = _mm512_mask3_fmadd_ps(_mm512_maskz_loadu_ps(k0, x0 + off[t]), wt, a0, k0);
      a1 = _mm512_mask3_fmadd_ps(_mm512_maskz_loadu_ps(k1, x0 + 16 + off[t]), wt, a1, k1);
    }
    finish(a0, v);
    finish(a1, v + 1);
  }
  if (v < nv) {
    const uint16_t* m0 = p.mask.data() + v * taps;
    __m512 a0 = b;
    for (int64_t t = 0; t < taps; ++t) {
      const __m512 wt = kTaps ? wv[kTaps ? t : 0] : _mm512_set1_ps(w[t]);
      const auto k0 = static_cast<__mmask16>(m0[t]);
      a0 = _mm512_mask3_fmadd_ps(_mm512_maskz_loadu_ps(k0, x + 16 * v + off[t]), wt, a0, k0);
    }
    finish(a0, v);
  }
}

}  // namespace

void depthwise_flat_plane_avx512(const FlatPlan& p, const float* w, float bias, bool relu,
                                 const float* x, float* y) {
  if (p.taps == 9) return plane<9>(p, w, bias, relu, x, y);
  plane<0>(p, w, bias, relu, x, y);
}

}  // namespace kiln::cpu
