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

// Input row r's even / odd columns go to row r / 2 of sub-planes (r % 2, 0 / 1), with
// whole-vector stores in increasing address order per sub-plane (each row's spill past OW is
// overwritten by the next row or lands in the slack).
void depthwise_flat_split_avx512(const FlatPlan& p, const float* x, float* sub) {
  alignas(64) static const int32_t kEven[16] = {0,  2,  4,  6,  8,  10, 12, 14,
                                                16, 18, 20, 22, 24, 26, 28, 30};
  alignas(64) static const int32_t kOdd[16] = {1,  3,  5,  7,  9,  11, 13, 15,
                                               17, 19, 21, 23, 25, 27, 29, 31};
  const __m512i even = _mm512_load_si512(kEven), odd = _mm512_load_si512(kOdd);
  const auto lo = static_cast<__mmask16>(p.W >= 16 ? 0xffff : (1u << p.W) - 1);
  const auto hi = static_cast<__mmask16>(p.W <= 16 ? 0 : (1u << (p.W - 16)) - 1);
  for (int64_t r = 0; r < p.H; ++r) {
    const float* row = x + r * p.W;
    const __m512 a = _mm512_maskz_loadu_ps(lo, row), b = _mm512_maskz_loadu_ps(hi, row + 16);
    float* dst = sub + (r % 2) * 2 * p.sub_floats + r / 2 * p.OW;
    _mm512_storeu_ps(dst, _mm512_permutex2var_ps(a, even, b));
    _mm512_storeu_ps(dst + p.sub_floats, _mm512_permutex2var_ps(a, odd, b));
  }
}

void depthwise_flat_plane_avx512(const FlatPlan& p, const float* w, float bias, bool relu,
                                 const float* x, float* y) {
  if (p.taps == 9) return plane<9>(p, w, bias, relu, x, y);
  plane<0>(p, w, bias, relu, x, y);
}

}  // namespace kiln::cpu
