// Internal: depthwise convolution of small planes (7x7 .. 10x10 outputs) with the plane
// flattened: 16 consecutive outputs of the whole plane per vector, across row ends. With stride 1
// and "same" width (OW == W), tap (kh, kw) of output L = oy * W + ox reads input L + (kh -
// pad_top) * W + (kw - pad_left), so every tap is one load at a fixed offset, and lane masks
// (computed once per shape) drop the taps that fall in the padding. Stride 2 first splits the
// plane into four row / column parity sub-planes with the output's row pitch, which makes it
// the same problem. Row-by-row kernels fill a fraction of a vector on such planes (7 of 16
// lanes at 7x7) and pay a tail per row.
#pragma once

#include <cstdint>
#include <vector>

#include "runtime/kernels/cpu/conv.h"

namespace kiln::cpu {

// Outputs per plane at most and taps at most for the flat kernel. Against the row kernels
// (sliding_window.h), 3x3, 1 thread: 960x7x7 20 vs 46 us, 64x8x8 1.4 vs 2.8, 96x10x10 3.4 vs
// 5.7; stride 2: 576x14x14 27 vs 36, 160x13x13 7.1 vs 10.8. At 14x14 outputs 0.85x alone but
// no faster inside MobileNetV2, so not there.
constexpr int64_t kFlatMaxPlane = 100;
constexpr int64_t kFlatMaxTaps = 49;

// True when the flat kernel takes `s` (depthwise, output oh x ow): dilation 1, oh * ow <=
// kFlatMaxPlane, KH * KW <= kFlatMaxTaps, and stride 1 with ow == W or stride 2 with
// ceil(W / 2) <= ow and W <= 32.
bool depthwise_flat_applies(const KilnConv2dShape& s, int64_t oh, int64_t ow);

// The per-shape tables: tap t's source offset from the output index (into the plane, or at
// stride 2 into the sub-planes), and the 16-lane mask of vector v's lanes that read inside the
// plane for tap t (mask[v * taps + t]) and that are outputs (out_mask[v]). Empty (plane 0) if
// the shape does not fit.
struct FlatPlan {
  int64_t plane = 0, vectors = 0, taps = 0;
  int64_t stride = 1, H = 0, W = 0, OW = 0;
  int64_t sub_floats = 0;  // stride 2: floats per sub-plane (scratch: 4 * sub_floats)
  std::vector<int64_t> offset;
  std::vector<uint16_t> mask, out_mask;
};
FlatPlan depthwise_flat_plan(const KilnConv2dShape& s, int64_t oh, int64_t ow);

// Stride 2: one input plane x to its four parity sub-planes (4 * p.sub_floats floats at sub).
void depthwise_flat_split_avx512(const FlatPlan& p, const float* x, float* sub);
// One plane: y[L] = relu?(bias + sum over in-plane taps t (in order) of w[t] * tap value),
// reading the input plane (stride 1) or its sub-planes (stride 2).
void depthwise_flat_plane_avx512(const FlatPlan& p, const float* w, float bias, bool relu,
                                 const float* src, float* y);

}  // namespace kiln::cpu
