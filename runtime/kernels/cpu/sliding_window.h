// Internal: one H x W input plane -> one OH x OW output plane under a KH x KW window (NCHW),
// the shared core of depthwise convolution, MaxPool and AveragePool. The vector bodies work
// from the input directly: along the output row, 16 (AVX-512) or 8 (AVX2) outputs per vector,
// padded columns masked off at the loads, padded rows skipped, stride 2 by deinterleaving two
// loads, and for 3x3 / 5x5 / 2x2 windows several output rows per pass so each input row loaded
// serves all of them. Every output's arithmetic is the same whichever rows/columns it is
// computed with, so results never depend on how planes are split over threads.
#pragma once

#include <cstdint>

#include "runtime/kernels/cpu/cpu_isa.h"

namespace kiln::cpu {

struct PlaneWindow {
  int64_t H, W, OH, OW, KH, KW;
  int64_t stride_h, stride_w, pad_top, pad_left, dilation_h, dilation_w;
};

enum class WindowOp {
  Conv,  // bias + sum of w[kh * KW + kw] * tap over in-bounds taps (kh-major), ReLU if asked
  Max,   // max of the in-bounds taps (-inf when a window has none); w, bias and relu unused
};

// Output (oh, ow) reads rows oh * stride_h - pad_top + kh * dilation_h, and likewise columns;
// any OH / OW is allowed (windows past the input just have fewer taps).
void window_plane(Isa isa, const PlaneWindow& g, WindowOp op, const float* w, float bias,
                  bool relu, const float* x, float* y);

// The per-ISA bodies behind window_plane.
void window_plane_scalar(const PlaneWindow& g, WindowOp op, const float* w, float bias, bool relu,
                         const float* x, float* y);
void window_plane_avx2(const PlaneWindow& g, WindowOp op, const float* w, float bias, bool relu,
                       const float* x, float* y);
void window_plane_avx512(const PlaneWindow& g, WindowOp op, const float* w, float bias, bool relu,
                         const float* x, float* y);

}  // namespace kiln::cpu
