// finish_rows (qgemm_util.h) on one AVX-512 vector, for the kernels that hold their dequantized
// results in registers (depthwise planes, AMX tiles, finish_rows_avx512). Include only from
// files compiled for AVX-512; internal linkage keeps each copy in its own file.
#pragma once

#include <immintrin.h>

#include <algorithm>
#include <cstdint>
#include <type_traits>

#include "runtime/kernels/cpu/qgemm_util.h"

namespace kiln::cpu {
namespace {

// GCC 12 reports its own headers' unmasked conversions and max / min as maybe-uninitialized
// when inlined here; the all-lanes mask forms compute the same and do not trip it.
constexpr __mmask16 kAll = 0xffff;
inline __m512 max16(__m512 a, __m512 b) { return _mm512_mask_max_ps(a, kAll, a, b); }
inline __m512 min16(__m512 a, __m512 b) { return _mm512_mask_min_ps(a, kAll, a, b); }

// u8 output: the clamp to [lo, hi], the multiply by 1 / y_scale, the rounding, + y_zero_point
// and the saturation to [0, 255] are one clamp of v * (1 / y_scale) to [qlo, qhi] before an
// integer rounding and + y_zero_point: the multiply by a positive value is monotone in f32 and the
// rounding commutes with clamps to integers, so clamping before it to the images of the bounds
// (lo, hi, and -zp / 255 - zp where the rounding lands) gives the same byte for every non-NaN v.
// NaN converts to INT_MIN and ends at 0, as in the reference.
struct FinishVec {
  __m512 lo, hi, inv, zs, qlo, qhi;
  __m512i zz, yz;
  void* y;
  const void* z;
  bool y_u8;
  int z_kind;  // 0: no residual, 1: f32, 2: u8
  int32_t y_zero_point;
};

inline FinishVec finish_vec(const QFinish& f) {
  const float inv = 1.0f / f.y_scale, z = f.y_zero_point;
  // The finish clamp as max16 / min16 compute it, then the u8 range (see FinishVec).
  const auto bound = [&](float v) {
    v = f.lo > v ? f.lo : v;
    v = f.hi < v ? f.hi : v;
    return std::min(std::max(v * inv, -z), 255.0f - z);
  };
  return FinishVec{_mm512_set1_ps(f.lo),
                   _mm512_set1_ps(f.hi),
                   _mm512_set1_ps(inv),
                   _mm512_set1_ps(f.z_scale),
                   _mm512_set1_ps(bound(-__builtin_inff())),
                   _mm512_set1_ps(bound(__builtin_inff())),
                   _mm512_set1_epi32(f.z_zero_point),
                   _mm512_set1_epi32(static_cast<int32_t>(z)),
                   f.y,
                   f.z,
                   f.y_u8,
                   !f.z ? 0 : f.z_u8 ? 2 : 1,
                   static_cast<int32_t>(z)};
}

// The u8 output of v (one byte per int32 lane, in [0, 255]); see FinishVec.
inline __m512i finish_u8(const FinishVec& F, __m512 v) {
  constexpr int kNear = _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC;
  const __m512 q = min16(F.qhi, max16(F.qlo, _mm512_maskz_mul_round_ps(kAll, v, F.inv, kNear)));
  const __m512i i = _mm512_add_epi32(_mm512_maskz_cvt_roundps_epi32(kAll, q, kNear), F.yz);
  return _mm512_maskz_max_epi32(kAll, i, _mm512_setzero_si512());
}

// Lanes m of v, element o of Y / Z onwards: + Z, clamp, then stored as f32 or u8, with the
// portable finish_rows' arithmetic in its order. mul_round keeps GCC from contracting a multiply
// and the following add into an FMA (which would round once instead of twice). The mode is a
// template argument so that hot loops carry no per-vector branches (see with_finish_mode).
template <bool kU8, int kZ>
inline void finish_store_t(const FinishVec& F, __m512 v, int64_t o, __mmask16 m) {
  constexpr int kNear = _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC;
  if constexpr (kZ == 2) {
    const auto* zq = static_cast<const uint8_t*>(F.z) + o;
    const __m512i zi = _mm512_maskz_cvtepu8_epi32(kAll, _mm_maskz_loadu_epi8(m, zq));
    v = _mm512_add_ps(v, _mm512_maskz_mul_round_ps(
                             kAll, _mm512_maskz_cvtepi32_ps(kAll, _mm512_sub_epi32(zi, F.zz)),
                             F.zs, kNear));
  } else if constexpr (kZ == 1) {
    v = _mm512_add_ps(v, _mm512_maskz_loadu_ps(m, static_cast<const float*>(F.z) + o));
  }
  if constexpr (!kU8) {
    // std::min(std::max(v, lo), hi): max_ps / min_ps return the second operand on NaN.
    v = min16(F.hi, max16(F.lo, v));
    _mm512_mask_storeu_ps(static_cast<float*>(F.y) + o, m, v);
  } else {
    const __m128i b = _mm512_maskz_cvtepi32_epi8(kAll, finish_u8(F, v));
    uint8_t* dst = static_cast<uint8_t*>(F.y) + o;
    if (m == 0xffff) _mm_storeu_si128(reinterpret_cast<__m128i*>(dst), b);
    else _mm_mask_storeu_epi8(dst, m, b);
  }
}

// Calls fn(std::bool_constant<y_u8>, std::integral_constant<int, z_kind>) for F's mode.
template <typename Fn>
inline void with_finish_mode(const FinishVec& F, Fn&& fn) {
  using U8 = std::true_type;
  using F32 = std::false_type;
  const auto z = [&](auto u8) {
    switch (F.z_kind) {
      case 0: return fn(u8, std::integral_constant<int, 0>{});
      case 1: return fn(u8, std::integral_constant<int, 1>{});
      default: return fn(u8, std::integral_constant<int, 2>{});
    }
  };
  if (F.y_u8) z(U8{});
  else z(F32{});
}

// finish_store_t with the mode chosen at run time (for callers outside hot loops).
inline void finish_store(const FinishVec& F, __m512 v, int64_t o, __mmask16 m) {
  with_finish_mode(F, [&](auto u8, auto zk) { finish_store_t<u8(), zk()>(F, v, o, m); });
}

}  // namespace
}  // namespace kiln::cpu
