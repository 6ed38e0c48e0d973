// Internal: depthwise convolution (group == C == M), one input plane -> one output plane, each
// plane by window_plane (sliding_window.h) straight from the input: no padded or phase copies.
#pragma once

#include <cstdint>

#include "runtime/kernels/cpu/conv.h"
#include "runtime/kernels/cpu/cpu_isa.h"

namespace kiln {
class ThreadPool;
}

namespace kiln::cpu {

// All N*C planes of a depthwise convolution, split over `pool`. `w` is M x KH x KW. The
// epilogue's bias and ReLU run in registers; its `post` runs on each finished plane.
void depthwise_conv(const KilnConv2dShape& s, int64_t out_h, int64_t out_w, Isa isa, const float* w,
                    const float* x, const KilnGemmEpilogue& ep, float* y, ThreadPool* pool);

}  // namespace kiln::cpu
