// finish_rows (qgemm_util.h) on one AVX-512 vector, for the kernels that hold their dequantized
// results in registers (depthwise planes, AMX tiles, finish_rows_avx512). Include only from
// files compiled for AVX-512; internal linkage keeps each copy in its own file.
#pragma once

#include <immintrin.h>

#include <algorithm>
#include <cstdint>
#include <type_traits>

#include "runtime/kernels/cpu/qgemm_kernel.h"
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

// Tiles of int32 sums (acc[r * kQNR + j], a qgemm_kernel.h tile; row r is output channel
// row0 + r) dequantized (and finished) 16 lanes at a time.

// dequantize_tile for per-row (conv) epilogues, 16 lanes at a time: the same arithmetic in the
// same order per element (int32 subtract, one f32 multiply, one f32 add, max), so the result
// is bit-identical to the portable version.
inline void dequantize_rows(const int32_t* acc, int rows, int cols, const QEpilogue& e, int64_t row0,
                     float* c, int64_t ldc) {
  const __mmask16 tail = static_cast<__mmask16>((1u << (cols % 16)) - 1);
  for (int r = 0; r < rows; ++r) {
    const int64_t ch = row0 + r;
    const __m512i off = _mm512_set1_epi32(e.zero_point * e.wsum[ch]);
    const __m512 scale = _mm512_set1_ps(e.x_scale * e.w_scale[ch]);
    const __m512 bias = _mm512_set1_ps(e.bias ? e.bias[ch] : 0.0f);
    const int32_t* a = acc + r * kQNR;
    float* out = c + r * ldc;
    for (int j = 0; j < cols; j += 16) {
      const __mmask16 m = j + 16 <= cols ? static_cast<__mmask16>(0xffff) : tail;
      const __m512i v = _mm512_sub_epi32(_mm512_maskz_loadu_epi32(m, a + j), off);
      __m512 f = _mm512_mul_ps(_mm512_maskz_cvtepi32_ps(kAll, v), scale);
      if (e.bias) f = _mm512_add_ps(f, bias);
      if (e.relu) f = max16(f, _mm512_setzero_ps());
      _mm512_mask_storeu_ps(out + j, m, f);
    }
  }
  if (e.post) e.post(e.post_closure, c, ldc, rows, cols);
}

// dequantize_rows followed by finish_rows, without leaving the registers. The finish mode is a
// template argument and F is copied into locals, so the loop keeps its constants in registers
// (stores through u8 pointers would otherwise force reloads) and has no branches.
template <bool kU8, int kZ>
inline void finish_tile_rows(const int32_t* acc, int rows, int cols, const QEpilogue& e, int64_t row0,
                      const FinishVec& fin, int64_t off, int64_t ld) {
  const FinishVec F = fin;
  const __mmask16 tail = static_cast<__mmask16>((1u << (cols % 16)) - 1);
  const float* const bias_row = e.bias;
  const bool relu = e.relu;
  const int32_t zp = e.zero_point;
  const float x_scale = e.x_scale;
  for (int r = 0; r < rows; ++r) {
    const int64_t ch = row0 + r;
    const __m512i zoff = _mm512_set1_epi32(zp * e.wsum[ch]);
    const __m512 scale = _mm512_set1_ps(x_scale * e.w_scale[ch]);
    const __m512 bias = _mm512_set1_ps(bias_row ? bias_row[ch] : 0.0f);
    const auto one = [&](int j, __mmask16 m) {
      const __m512i v = _mm512_sub_epi32(_mm512_maskz_loadu_epi32(m, acc + r * kQNR + j), zoff);
      // mul_round: not contracted with the bias add into an FMA (dequantize_tile rounds twice).
      __m512 f = _mm512_maskz_mul_round_ps(kAll, _mm512_maskz_cvtepi32_ps(kAll, v), scale,
                                           _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
      if (bias_row) f = _mm512_add_ps(f, bias);
      if (relu) f = max16(f, _mm512_setzero_ps());
      finish_store_t<kU8, kZ>(F, f, off + r * ld + j, m);
    };
    if (cols == kQNR) {  // the common whole-tile run: no masks
      one(0, 0xffff);
      one(16, 0xffff);
    } else {
      for (int j = 0; j < cols; j += 16) one(j, j + 16 <= cols ? static_cast<__mmask16>(0xffff) : tail);
    }
  }
}

}  // namespace
}  // namespace kiln::cpu
