// AVX-512 pieces of the int8 convolution's im2col path (qconv.cpp; qconv_im2col_avx512.cpp):
// the panel packing as dword gathers and the tile epilogue in registers. The portable code in
// qconv.cpp does the same work one word / one element at a time.
#pragma once

#include <cstdint>

namespace kiln::cpu {

struct QEpilogue;

// One im2col panel, [taps * cq][kQNR pixels][4 bytes]: for tap t and channel word c, pixel j's
// word is the 4 bytes at img + pix[j] + tap_off[t] + 4 * c. Every offset fits in int32.
void qconv_pack_panel_avx512(const uint8_t* img, const int32_t* pix, const int64_t* tap_off,
                             int64_t taps, int64_t cq, uint8_t* panel);

// Interleaves four n-byte rows into n 4-byte words: out[j * 4 + r] = rows[r][j].
void qconv_interleave4_avx512(const uint8_t* r0, const uint8_t* r1, const uint8_t* r2,
                              const uint8_t* r3, int64_t n, uint8_t* out);

// One tile of int32 sums (qgemm_kernel.h layout; row r is output channel row0 + r): finished
// by e.fin into its outputs from element `off` (row stride ld), or dequantized to Y + off with
// e.post. Bit-identical to dequantize_tile / finish_rows.
void qconv_finish_tile_avx512(const int32_t* acc, int rows, int cols, const QEpilogue& e,
                              int64_t row0, float* Y, int64_t off, int64_t ld);

}  // namespace kiln::cpu
