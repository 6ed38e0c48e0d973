// finish_rows (qgemm_util.h) on one AVX-512 vector, for the kernels that hold their dequantized
// results in registers (depthwise planes, AMX tiles, finish_rows_avx512). Include only from
// files compiled for AVX-512; internal linkage keeps each copy in its own file.
#pragma once

#include <immintrin.h>

#include <cstdint>

#include "runtime/kernels/cpu/qgemm_util.h"

namespace kiln::cpu {
namespace {

// GCC 12 reports its own headers' unmasked conversions and max / min as maybe-uninitialized
// when inlined here; the all-lanes mask forms compute the same and do not trip it.
constexpr __mmask16 kAll = 0xffff;
inline __m512 max16(__m512 a, __m512 b) { return _mm512_mask_max_ps(a, kAll, a, b); }
inline __m512 min16(__m512 a, __m512 b) { return _mm512_mask_min_ps(a, kAll, a, b); }

struct FinishVec {
  __m512 lo, hi, inv, yz, zs, q255;
  __m512i zz;
  const QFinish* f;
};

inline FinishVec finish_vec(const QFinish& f) {
  return FinishVec{_mm512_set1_ps(f.lo),     _mm512_set1_ps(f.hi),
                   _mm512_set1_ps(1.0f / f.y_scale), _mm512_set1_ps(f.y_zero_point),
                   _mm512_set1_ps(f.z_scale), _mm512_set1_ps(255.0f),
                   _mm512_set1_epi32(f.z_zero_point), &f};
}

// Lanes m of v, element o of Y / Z onwards: + Z, clamp, then stored as f32 or u8, with the
// portable finish_rows' arithmetic in its order. mul_round keeps GCC from contracting a multiply
// and the following add into an FMA (which would round once instead of twice).
inline void finish_store(const FinishVec& F, __m512 v, int64_t o, __mmask16 m) {
  const QFinish& f = *F.f;
  constexpr int kNear = _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC;
  if (f.z && f.z_u8) {
    const auto* zq = static_cast<const uint8_t*>(f.z) + o;
    const __m512i zi = _mm512_maskz_cvtepu8_epi32(kAll, _mm_maskz_loadu_epi8(m, zq));
    v = _mm512_add_ps(v, _mm512_maskz_mul_round_ps(kAll, _mm512_maskz_cvtepi32_ps(kAll, _mm512_sub_epi32(zi, F.zz)), F.zs,
                                             kNear));
  } else if (f.z) {
    v = _mm512_add_ps(v, _mm512_maskz_loadu_ps(m, static_cast<const float*>(f.z) + o));
  }
  // std::min(std::max(v, lo), hi): max_ps / min_ps return the second operand on NaN.
  v = min16(F.hi, max16(F.lo, v));
  if (!f.y_u8) {
    _mm512_mask_storeu_ps(static_cast<float*>(f.y) + o, m, v);
    return;
  }
  __m512 q = _mm512_maskz_roundscale_ps(kAll, _mm512_maskz_mul_round_ps(kAll, v, F.inv, kNear), kNear);
  q = min16(max16(_mm512_add_ps(q, F.yz), _mm512_setzero_ps()), F.q255);  // NaN->0
  const __m128i b = _mm512_maskz_cvtusepi32_epi8(kAll, _mm512_maskz_cvtps_epi32(kAll, q));
  uint8_t* dst = static_cast<uint8_t*>(f.y) + o;
  if (m == 0xffff) _mm_storeu_si128(reinterpret_cast<__m128i*>(dst), b);
  else _mm_mask_storeu_epi8(dst, m, b);
}

}  // namespace
}  // namespace kiln::cpu
