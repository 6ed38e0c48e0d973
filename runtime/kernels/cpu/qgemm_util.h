// Pieces the int8 GEMM and convolution drivers share (runtime/kernels/cpu/qgemm*.cpp).
#pragma once

#include <cstdint>

namespace kiln::cpu {

struct QFinish;

// The epilogue of one tile: y = float(acc - zero_point * wsum[c]) * (x_scale * w_scale[c])
// + bias[c], ReLU, then post on the stored block. c is the row (conv) or column (GEMM).
struct QEpilogue {
  float x_scale = 1;
  int32_t zero_point = 0;
  const float* w_scale = nullptr;
  const int32_t* wsum = nullptr;
  const float* bias = nullptr;
  bool per_row = false;
  bool relu = false;
  void (*post)(void*, float*, int64_t, int64_t, int64_t) = nullptr;
  void* post_closure = nullptr;
  // Convolution only: when set, tiles are dequantized into scratch and finished by finish_rows
  // (u8 output, native residual and clamp); post is then unused.
  const QFinish* fin = nullptr;
};

// The last steps of KilnQConv's u8 modes after dequantization (y = dq + bias):
// y += Z (dequantized when u8), y = min(max(y, lo), hi), then stored as f32 or as u8
// (saturate(round(y * (1 / y_scale)) + y_zero_point)), in that order, as the reference kernel.
struct QFinish {
  void* y = nullptr;
  bool y_u8 = false;
  float y_scale = 1, y_zero_point = 0;
  const void* z = nullptr;  // null: no residual
  bool z_u8 = false;
  float z_scale = 1;
  int32_t z_zero_point = 0;
  float lo = -__builtin_inff(), hi = __builtin_inff();
};

// Finishes rows x cols dequantized values t (row stride ldt) whose first element is element
// `off` of Y and Z (row stride ld elements).
void finish_rows(const float* t, int64_t ldt, int64_t rows, int64_t cols, const QFinish& f,
                 int64_t off, int64_t ld);

// acc is [rows][kQNR]; stores rows x cols floats at c (row stride ldc); row0 / col0 are the
// tile's first output row / column (to index per-channel data).
void dequantize_tile(const int32_t* acc, int rows, int cols, const QEpilogue& e, int64_t row0,
                     int64_t col0, float* c, int64_t ldc);

struct DynamicRange {
  float scale = 1;
  int32_t zero_point = 0;
};
// u8 scale and zero point of a rows x cols f32 block, exactly as ONNX DynamicQuantizeLinear.
DynamicRange dynamic_range(const float* x, int64_t rows, int64_t cols, int64_t ld);

}  // namespace kiln::cpu
