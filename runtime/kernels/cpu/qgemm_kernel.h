// The int8 micro-kernels behind qgemm.h: one tile of up to kQMR rows x kQNR columns of exact
// int32 dot products. Rows are read with a byte stride (4-byte groups along K); the other
// operand is one packed panel, [K/4][kQNR columns][4 bytes]. `rows_signed` says which operand
// is s8: true for convolution (rows = weights, panel = u8 im2col), false for GEMM (rows = u8
// activations, panel = weights). acc[r * kQNR + j] is overwritten.
#pragma once

#include <cstdint>

namespace kiln {
class ThreadPool;
}

namespace kiln::cpu {

struct QEpilogue;

constexpr int kQMR = 6;      // rows per tile call of the vector kernels
constexpr int kQMRAmx = 16;  // rows per tile call of the AMX kernel (one tile's height)
constexpr int kQMRMax = 16;  // accumulator buffers hold this many rows
constexpr int kQNR = 32;

using QTileFn = void (*)(const uint8_t* rows, int64_t row_stride, int nrows, const uint8_t* panel,
                         int64_t kq, bool rows_signed, int32_t* acc);

void qtile_scalar(const uint8_t* rows, int64_t row_stride, int nrows, const uint8_t* panel,
                  int64_t kq, bool rows_signed, int32_t* acc);
void qtile_avx2(const uint8_t* rows, int64_t row_stride, int nrows, const uint8_t* panel,
                int64_t kq, bool rows_signed, int32_t* acc);
void qtile_avx512vnni(const uint8_t* rows, int64_t row_stride, int nrows, const uint8_t* panel,
                      int64_t kq, bool rows_signed, int32_t* acc);
// Needs amx_usable() (qgemm.h): the CPU's AMX-INT8 and the kernel's permission for tile data.
void qtile_amx(const uint8_t* rows, int64_t row_stride, int nrows, const uint8_t* panel,
               int64_t kq, bool rows_signed, int32_t* acc);

// Direct int8 convolution on AMX tiles for stride 1 and one group, with no im2col: the input is
// laid out as planes of 4-channel words, [N][G = Cp/4][plane_words][4 bytes], each plane the
// zero-point-padded image (Hp x Wp) followed by slack. Output position q of the "wide" grid
// (OH x Wp: columns past OW are computed and dropped) reads word q + kh*dil_h*Wp + kw*dil_w of
// every plane, so 16 consecutive q of 16 channel groups are one tile load with the plane as
// row stride. plane_words >= round_up(OH*Wp, 32) + (KH-1)*dil_h*Wp + (KW-1)*dil_w. Weights
// are qconv's packed rows [M][K = KH*KW*Cp]. Needs amx_usable().
struct QConvAmxArgs {
  const uint8_t* planes;
  int64_t N, G, Wp, plane_words;
  int64_t OH, OW, KH, KW, dil_h, dil_w;
  const uint8_t* weights;
  int64_t M, K;
};
void qconv_direct_amx(const QConvAmxArgs& a, const QEpilogue& e, float* Y, ThreadPool* pool);

}  // namespace kiln::cpu

namespace kiln::cpu {

// out[i] = clamp(round_half_even(x[i] / scale) + zp, 0, 255) (NaN -> 0), ONNX QuantizeLinear.
void quantize_u8(const float* x, int64_t n, float scale, float zp, uint8_t* out);
void quantize_u8_avx2(const float* x, int64_t n, float scale, float zp, uint8_t* out);
void quantize_u8_avx512(const float* x, int64_t n, float scale, float zp, uint8_t* out);

// The tile kernel for cpu::active_isa() (AMX where usable and allowed), and the most rows it
// takes per call (kQMR or kQMRAmx).
QTileFn active_qtile();
int active_qtile_rows();

}  // namespace kiln::cpu
