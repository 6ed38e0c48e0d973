// int8 GEMM and 2-D convolution for the native backend (Kiln's KilnQMatMul / KilnQConv):
// f32 activations are quantized to u8 (asymmetric: x_scale, x_zero_point) inside the call,
// multiplied by s8 weights (symmetric, one f32 scale per output channel) with exact int32
// sums, and the f32 result is y = float(sum((q(x) - x_zero_point) * w)) * (x_scale *
// w_scale[c]) + bias[c], then the epilogue (ReLU, `post`), as kiln/sgemm.h's KilnGemmEpilogue.
//
// The weights are packed once (at compile time) in a layout every ISA reads: 32-column panels,
// K in groups of 4 bytes. The u8 x s8 dot products run as AVX-512 VNNI vpdpbusd where the CPU
// has it; the AVX2 path widens both operands to 16 bits and uses vpmaddwd, because vpmaddubsw's
// 16-bit pair sums saturate for u8 * s8 (2 * 255 * 127 > 32767). Every path is exact, so
// results are bit-identical across ISAs and thread counts.
#pragma once

#include <cstddef>
#include <cstdint>

#include "runtime/kernels/cpu/conv.h"
#include "runtime/kernels/cpu/sgemm.h"

extern "C" {

// Bytes for B packed by kiln_qgemm_pack_b (64-byte aligned buffer recommended).
size_t kiln_qgemm_packed_b_size(int64_t N, int64_t K);
// Packs s8 B, [K, N] row-major (trans_b = 0) or [N, K] (trans_b = 1), with scales[N].
void kiln_qgemm_pack_b(int trans_b, int64_t N, int64_t K, const int8_t* B, const float* scales,
                       void* packed);
// C[M, N] (row stride ldc) = dq(q(A[M, K], row stride lda) @ B) + column_bias, relu, post.
// x_scale <= 0 quantizes dynamically from A's range (as ONNX DynamicQuantizeLinear).
// `epilogue` and `pool` may be null.
void kiln_qgemm_packed_b(int64_t M, int64_t N, int64_t K, const float* A, int64_t lda,
                         float x_scale, int32_t x_zero_point, const void* packed_b, float* C,
                         int64_t ldc, const KilnGemmEpilogue* epilogue, kiln::ThreadPool* pool);

// Bytes for the packed s8 weights of `shape` (W is M x C/group x KH x KW).
size_t kiln_qconv2d_packed_weights_size(const KilnConv2dShape* shape);
void kiln_qconv2d_pack_weights(const KilnConv2dShape* shape, const int8_t* W, const float* scales,
                               void* packed);
// Y (N x M x OH x OW) = dq(conv(q(X), W)) + row_bias[m], relu, post (column_bias must be null).
// x_scale must be > 0 (static quantization). f32 in and out; kiln_qconv2d_io below has the rest.
void kiln_qconv2d(const KilnConv2dShape* shape, const void* packed_weights, const float* X,
                  float x_scale, int32_t x_zero_point, const KilnGemmEpilogue* epilogue, float* Y,
                  kiln::ThreadPool* pool);

// KilnQConv's u8 modes (ir/infer/quantized_ops.cpp): X f32 (quantized inside with x_scale /
// x_zero_point) or u8 (already quantized with them); Y f32 or u8 (QuantizeLinear with y_scale /
// y_zero_point); an optional residual Z (Y's layout) f32 or u8 (dequantized with z_scale /
// z_zero_point) added after the bias; then Y clamped to [act_lo, act_hi] (ReLU: 0, +inf; Clip:
// its bounds; none: -inf, +inf). Depthwise convolutions (group == C == M) take a direct kernel.
struct KilnQConvIO {
  const void* x;
  int32_t x_u8;
  float x_scale;
  int32_t x_zero_point;
  void* y;
  int32_t y_u8;
  float y_scale;
  int32_t y_zero_point;
  const void* z;  // null: no residual
  int32_t z_u8;
  float z_scale;
  int32_t z_zero_point;
  float act_lo, act_hi;
};
// `epilogue` supplies row_bias only (relu / post must be unset; the clamp replaces them).
void kiln_qconv2d_io(const KilnConv2dShape* shape, const void* packed_weights,
                     const KilnQConvIO* io, const KilnGemmEpilogue* epilogue,
                     kiln::ThreadPool* pool);

}  // extern "C"

namespace kiln::cpu {

// Which u8 x s8 dot-product kernel runs now: "amx", "avx512-vnni", "avx2" or "scalar" (follows
// cpu::active_isa(); AMX and VNNI need Avx512 active and the CPU's AMX-INT8 / AVX512_VNNI).
const char* qgemm_kernel_name();
bool cpu_has_avx512_vnni();
// AMX tiles usable: the CPU has AMX-INT8 and Linux granted this process the tile state.
bool amx_usable();
// AMX is used where usable unless disallowed here or by KILN_CPU_AMX=0 in the environment
// (tests use this to reach the VNNI kernel on AMX machines). Process-wide, like force_isa.
void set_amx_allowed(bool allowed);

}  // namespace kiln::cpu
