// The int8 micro-kernels behind qgemm.h: one tile of up to kQMR rows x kQNR columns of exact
// int32 dot products. Rows are read with a byte stride (4-byte groups along K); the other
// operand is one packed panel, [K/4][kQNR columns][4 bytes]. `rows_signed` says which operand
// is s8: true for convolution (rows = weights, panel = u8 im2col), false for GEMM (rows = u8
// activations, panel = weights). acc[r * kQNR + j] is overwritten.
#pragma once

#include <cstdint>

namespace kiln::cpu {

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

}  // namespace kiln::cpu

namespace kiln::cpu {

// out[i] = clamp(round_half_even(x[i] / scale) + zp, 0, 255) (NaN -> 0), ONNX QuantizeLinear.
void quantize_u8(const float* x, int64_t n, float scale, float zp, uint8_t* out);
void quantize_u8_avx2(const float* x, int64_t n, float scale, float zp, uint8_t* out);

// The tile kernel for cpu::active_isa() (AMX where usable and allowed), and the most rows it
// takes per call (kQMR or kQMRAmx).
QTileFn active_qtile();
int active_qtile_rows();

}  // namespace kiln::cpu
