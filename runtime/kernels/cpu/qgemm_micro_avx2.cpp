// AVX2 int8 tile. vpmaddubsw would add two u8 x s8 products into a saturating int16, which
// overflows (2 * 255 * 127 > 32767); instead each 4-byte group is split into its even and odd
// bytes widened to 16 bits (zero- or sign-extended in place) and vpmaddwd sums pairs exactly
// into int32: lane = x0*w0 + x2*w2 (even) plus x1*w1 + x3*w3 (odd). Up to 3 rows x 16 columns
// per pass (6 accumulators + 4 split panel registers); a 6 x 32 tile takes four passes.
#include <immintrin.h>

#include <cmath>
#include <cstring>

#include "runtime/kernels/cpu/qgemm_kernel.h"

namespace kiln::cpu {
namespace {

// Even / odd bytes of each 16-bit lane as 16-bit values.
template <bool Signed>
inline void split(__m256i v, __m256i* even, __m256i* odd) {
  if constexpr (Signed) {
    *even = _mm256_srai_epi16(_mm256_slli_epi16(v, 8), 8);
    *odd = _mm256_srai_epi16(v, 8);
  } else {
    *even = _mm256_and_si256(v, _mm256_set1_epi16(0x00FF));
    *odd = _mm256_srli_epi16(v, 8);
  }
}

// Rows [0, R) x the 16 columns of `panel` starting at column half `h`.
template <int R, bool RowsSigned>
void pass(const uint8_t* rows, int64_t rs, const uint8_t* panel, int64_t kq, int h, int32_t* acc) {
  __m256i c0[R], c1[R];
  for (int r = 0; r < R; ++r) c0[r] = c1[r] = _mm256_setzero_si256();
  panel += h * 64;
  for (int64_t q = 0; q < kq; ++q, panel += 128) {
    __m256i e0, o0, e1, o1;
    split<!RowsSigned>(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(panel)), &e0, &o0);
    split<!RowsSigned>(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(panel + 32)), &e1, &o1);
    for (int r = 0; r < R; ++r) {
      int32_t v;
      std::memcpy(&v, rows + r * rs + 4 * q, 4);
      __m256i be, bo;
      split<RowsSigned>(_mm256_set1_epi32(v), &be, &bo);
      c0[r] = _mm256_add_epi32(c0[r], _mm256_add_epi32(_mm256_madd_epi16(e0, be),
                                                       _mm256_madd_epi16(o0, bo)));
      c1[r] = _mm256_add_epi32(c1[r], _mm256_add_epi32(_mm256_madd_epi16(e1, be),
                                                       _mm256_madd_epi16(o1, bo)));
    }
  }
  for (int r = 0; r < R; ++r) {
    _mm256_storeu_si256(reinterpret_cast<__m256i*>(acc + r * kQNR + h * 16), c0[r]);
    _mm256_storeu_si256(reinterpret_cast<__m256i*>(acc + r * kQNR + h * 16 + 8), c1[r]);
  }
}

template <bool S>
void rows_pass(const uint8_t* rows, int64_t rs, int nrows, const uint8_t* panel, int64_t kq,
               int h, int32_t* acc) {
  switch (nrows) {
    case 1: return pass<1, S>(rows, rs, panel, kq, h, acc);
    case 2: return pass<2, S>(rows, rs, panel, kq, h, acc);
    default: return pass<3, S>(rows, rs, panel, kq, h, acc);
  }
}

}  // namespace

void qtile_avx2(const uint8_t* rows, int64_t row_stride, int nrows, const uint8_t* panel,
                int64_t kq, bool rows_signed, int32_t* acc) {
  for (int r0 = 0; r0 < nrows; r0 += 3) {
    const int n = nrows - r0 < 3 ? nrows - r0 : 3;
    for (int h = 0; h < 2; ++h) {
      if (rows_signed)
        rows_pass<true>(rows + r0 * row_stride, row_stride, n, panel, kq, h, acc + r0 * kQNR);
      else
        rows_pass<false>(rows + r0 * row_stride, row_stride, n, panel, kq, h, acc + r0 * kQNR);
    }
  }
}

}  // namespace kiln::cpu

namespace kiln::cpu {

// q = clamp(round_half_even(x / scale) + zp, 0, 255), 8 at a time: the same IEEE division and
// rounding as the scalar quantizer, so both give the same bytes.
void quantize_u8_avx2(const float* x, int64_t n, float scale, float zp, uint8_t* out) {
  const __m256 s = _mm256_set1_ps(scale), z = _mm256_set1_ps(zp);
  const __m256 lo = _mm256_setzero_ps(), hi = _mm256_set1_ps(255.0f);
  int64_t i = 0;
  for (; i + 8 <= n; i += 8) {
    __m256 q = _mm256_round_ps(_mm256_div_ps(_mm256_loadu_ps(x + i), s),
                               _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
    q = _mm256_add_ps(q, z);
    q = _mm256_min_ps(_mm256_max_ps(q, lo), hi);  // max(NaN, 0) = 0
    const __m256i v = _mm256_cvtps_epi32(q);
    const __m128i w = _mm_packus_epi32(_mm256_castsi256_si128(v), _mm256_extracti128_si256(v, 1));
    const __m128i b = _mm_packus_epi16(w, w);
    _mm_storel_epi64(reinterpret_cast<__m128i*>(out + i), b);
  }
  for (; i < n; ++i) {
    const float q = std::nearbyint(x[i] / scale) + zp;
    out[i] = !(q > 0.0f) ? 0 : q >= 255.0f ? 255 : static_cast<uint8_t>(q);
  }
}

}  // namespace kiln::cpu
