// Internal: dense convolution for few taps per output (C / group * KH * KW <= 16, a network's
// first conv over one or two input channels), AVX-512, width stride 1, NCHW in and out.
//
// With so few taps the outvec kernel's per-tile transpose and stores cost more than its FMAs,
// and the SGEMM paths spend their time packing. Here the lanes are output pixels of one row:
// a tile loads every tap's input vector once (the whole receptive field of up to 32 pixels
// stays in registers) and reuses it for every output channel, whose weights are broadcast
// from memory; each channel's row is stored as it is, no transpose. Each output element is
// one k-ordered FMA chain starting from its bias, then residual and ReLU, so results never
// depend on threads.
#pragma once

#include <cstddef>
#include <cstdint>

#include "runtime/kernels/cpu/conv.h"

namespace kiln {
class ThreadPool;
}

namespace kiln::cpu {

// The most taps (C / group * KH * KW) the kernel keeps in registers.
constexpr int64_t kFewTapsMaxK = 16;

// Whether the kernel can run this shape (given AVX-512): width stride 1, at most kFewTapsMaxK
// taps. Any padding, height stride, dilation and group.
bool fewtaps_conv_supported(const KilnConv2dShape& s);

// The packed weights are the ONNX weights as they are: M x (C / group * KH * KW) floats.
size_t fewtaps_packed_floats(const KilnConv2dShape& s);

// Y = conv(X) with the epilogue (row_bias, relu, post on finished blocks) and `residual` (Y's
// shape, or null: added after the bias, before the ReLU), split over `pool`.
void fewtaps_conv(const KilnConv2dShape& s, int64_t out_h, int64_t out_w, const float* weights,
                  const float* x, const KilnGemmEpilogue& ep, const float* residual, float* y,
                  ThreadPool* pool);

// One output row segment of up to 32 pixels (16 when K > 9), channels [0, channels): tap k
// of pixel i reads x[off[k] + i]; channel c of pixel i lands at y[c * ldy + i].
struct FewTapsRow {
  const float* w;  // channels x K weights
  const float* x;
  const int64_t* off;
  float* y;
  int64_t ldy;
  int channels;
  int pixels;
  const float* bias;  // per channel, or null
  const float* res;   // laid out like y, or null
  bool relu;
};
// K in [1, kFewTapsMaxK].
void fewtaps_row_avx512(int K, const FewTapsRow& r);

}  // namespace kiln::cpu
