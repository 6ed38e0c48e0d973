// Internal: depthwise convolution (group == C == M), one input plane -> one output plane.
// Each plane is first copied into a zero-bordered scratch plane, so the inner loops never test
// bounds; for stride 1 an output row is then a sum of KH*KW shifted input rows, which the ISA
// row kernels vectorize along the row.
#pragma once

#include <cstdint>

#include "runtime/kernels/cpu/conv.h"
#include "runtime/kernels/cpu/cpu_isa.h"

namespace kiln {
class ThreadPool;
}

namespace kiln::cpu {

// out[x] = bias + sum_t w[t] * rows[t][x] for x in [0, width), then max(., 0) if relu.
using DepthwiseRowFn = void (*)(const float* const* rows, const float* w, int taps, float bias,
                                bool relu, float* out, int64_t width);
void depthwise_row_avx512(const float* const* rows, const float* w, int taps, float bias, bool relu,
                          float* out, int64_t width);
void depthwise_row_avx2(const float* const* rows, const float* w, int taps, float bias, bool relu,
                        float* out, int64_t width);

// All N*C planes of a depthwise convolution, split over `pool`. `w` is M x KH x KW.
void depthwise_conv(const KilnConv2dShape& s, int64_t out_h, int64_t out_w, Isa isa, const float* w,
                    const float* x, const KilnGemmEpilogue& ep, float* y, ThreadPool* pool);

}  // namespace kiln::cpu
