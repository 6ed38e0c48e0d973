// Internal: depthwise convolution of small planes (7x7 .. 10x10) with the plane flattened: 16
// consecutive outputs of the whole plane per vector, across row ends. With stride 1 and
// "same" width (OW == W), tap (kh, kw) of output L = oy * W + ox reads input L + (kh - pad_top) * W
// + (kw - pad_left), so every tap is one load at a fixed offset, and lane masks (computed once
// per shape) drop the taps that fall in the padding. Row-by-row kernels fill a fraction of a
// vector on such planes (7 of 16 lanes at 7x7) and pay a tail per row.
#pragma once

#include <cstdint>
#include <vector>

#include "runtime/kernels/cpu/conv.h"

namespace kiln::cpu {

// Outputs per plane at most and taps at most for the flat kernel. Against the row kernels
// (sliding_window.h), 3x3, 1 thread: 960x7x7 23 vs 46 us, 64x8x8 1.5 vs 2.9, 96x10x10 3.8 vs
// 5.8; at 14x14 0.85x alone but no faster inside MobileNetV2, so not there.
constexpr int64_t kFlatMaxPlane = 100;
constexpr int64_t kFlatMaxTaps = 49;

// True when the flat kernel takes `s` (depthwise, output oh x ow): stride 1, dilation 1,
// ow == W, oh * ow <= kFlatMaxPlane, KH * KW <= kFlatMaxTaps.
bool depthwise_flat_applies(const KilnConv2dShape& s, int64_t oh, int64_t ow);

// The per-shape tables: tap t's input offset from the output index, and the 16-lane mask of
// vector v's lanes that read inside the plane for tap t (mask[v * taps + t]) and that are
// outputs (out_mask[v]).
struct FlatPlan {
  int64_t plane = 0, vectors = 0, taps = 0;
  std::vector<int64_t> offset;
  std::vector<uint16_t> mask, out_mask;
};
FlatPlan depthwise_flat_plan(const KilnConv2dShape& s, int64_t oh, int64_t ow);

// One plane: y[L] = relu?(bias + sum over in-plane taps t (in order) of w[t] * x[L + offset[t]]).
void depthwise_flat_plane_avx512(const FlatPlan& p, const float* w, float bias, bool relu,
                                 const float* x, float* y);

}  // namespace kiln::cpu
