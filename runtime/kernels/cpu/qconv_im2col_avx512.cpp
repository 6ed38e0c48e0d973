// AVX-512 im2col panel packing and tile epilogue for the int8 convolution (qconv_im2col.h).
#include <immintrin.h>

#include "runtime/kernels/cpu/qconv_finish_avx512.h"
#include "runtime/kernels/cpu/qconv_im2col.h"
#include "runtime/kernels/cpu/qgemm_kernel.h"
#include "runtime/kernels/cpu/qgemm_util.h"

namespace kiln::cpu {

void qconv_pack_panel_avx512(const uint8_t* img, const int32_t* pix, const int64_t* tap_off,
                             int64_t taps, int64_t cq, uint8_t* panel) {
  static_assert(kQNR == 32, "two 16-word gathers per panel row");
  const __m512i lo = _mm512_loadu_si512(pix), hi = _mm512_loadu_si512(pix + 16);
  for (int64_t t = 0; t < taps; ++t) {
    const uint8_t* tap = img + tap_off[t];
    for (int64_t c = 0; c < cq; ++c, panel += 4 * kQNR) {
      // The masked form: GCC 12 reports the plain one's undefined source as uninitialized.
      const __m512i z = _mm512_setzero_si512();
      _mm512_storeu_si512(panel, _mm512_mask_i32gather_epi32(z, kAll, lo, tap + 4 * c, 1));
      _mm512_storeu_si512(panel + 64, _mm512_mask_i32gather_epi32(z, kAll, hi, tap + 4 * c, 1));
    }
  }
}

void qconv_finish_tile_avx512(const int32_t* acc, int rows, int cols, const QEpilogue& e,
                              int64_t row0, float* Y, int64_t off, int64_t ld) {
  if (!e.fin) return dequantize_rows(acc, rows, cols, e, row0, Y + off, ld);
  const FinishVec F = finish_vec(*e.fin);
  with_finish_mode(F, [&](auto u8, auto zk) {
    finish_tile_rows<u8(), zk()>(acc, rows, cols, e, row0, F, off, ld);
  });
}

}  // namespace kiln::cpu
