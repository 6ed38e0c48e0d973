// AVX-512 VNNI int8 tile: vpdpbusd accumulates four u8 x s8 products per 32-bit lane.
// kQMR rows x 2 zmm (32 columns) = 12 accumulators.
#include <immintrin.h>

#include <cstring>

#include "runtime/kernels/cpu/qgemm_kernel.h"

namespace kiln::cpu {
namespace {

template <int R, bool RowsSigned>
void tile(const uint8_t* rows, int64_t rs, const uint8_t* panel, int64_t kq, int32_t* acc) {
  __m512i c0[R], c1[R];
  for (int r = 0; r < R; ++r) c0[r] = c1[r] = _mm512_setzero_si512();
  for (int64_t q = 0; q < kq; ++q, panel += 128) {
    const __m512i p0 = _mm512_loadu_si512(panel);
    const __m512i p1 = _mm512_loadu_si512(panel + 64);
    for (int r = 0; r < R; ++r) {
      int32_t v;
      std::memcpy(&v, rows + r * rs + 4 * q, 4);
      const __m512i b = _mm512_set1_epi32(v);
      if constexpr (RowsSigned) {
        c0[r] = _mm512_dpbusd_epi32(c0[r], p0, b);
        c1[r] = _mm512_dpbusd_epi32(c1[r], p1, b);
      } else {
        c0[r] = _mm512_dpbusd_epi32(c0[r], b, p0);
        c1[r] = _mm512_dpbusd_epi32(c1[r], b, p1);
      }
    }
  }
  for (int r = 0; r < R; ++r) {
    _mm512_storeu_si512(acc + r * kQNR, c0[r]);
    _mm512_storeu_si512(acc + r * kQNR + 16, c1[r]);
  }
}

template <bool S>
void dispatch(const uint8_t* rows, int64_t rs, int nrows, const uint8_t* panel, int64_t kq,
              int32_t* acc) {
  switch (nrows) {
    case 1: return tile<1, S>(rows, rs, panel, kq, acc);
    case 2: return tile<2, S>(rows, rs, panel, kq, acc);
    case 3: return tile<3, S>(rows, rs, panel, kq, acc);
    case 4: return tile<4, S>(rows, rs, panel, kq, acc);
    case 5: return tile<5, S>(rows, rs, panel, kq, acc);
    default: return tile<6, S>(rows, rs, panel, kq, acc);
  }
}

}  // namespace

void qtile_avx512vnni(const uint8_t* rows, int64_t row_stride, int nrows, const uint8_t* panel,
                      int64_t kq, bool rows_signed, int32_t* acc) {
  if (rows_signed)
    dispatch<true>(rows, row_stride, nrows, panel, kq, acc);
  else
    dispatch<false>(rows, row_stride, nrows, panel, kq, acc);
}

}  // namespace kiln::cpu
