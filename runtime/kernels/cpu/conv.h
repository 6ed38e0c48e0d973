// 2-D convolution, NCHW, f32, for the native backend:
//   Y[n, m] = bias[m] + sum over the group's input channels and kernel taps of X * W, then an
// optional ReLU, with strides, asymmetric pads, dilations and groups (ONNX Conv semantics).
//
// Paths, picked from the shape when the weights are packed:
//  - depthwise (group == C == M): direct per-channel kernel, vectorized along output rows with
//    AVX-512 / AVX2 for stride 1 (any kernel size and dilation), portable otherwise;
//  - AVX-512, 3x3 stride 1 undilated ungrouped over output planes at least 16 wide, with at
//    most 1.5 MiB of transformed weights (or 14 wide with up to 4.5 MiB, read once per image;
//    more than 16 taps): Winograd F(2x2, 3x3) (conv_winograd.h);
//  - AVX-512, width stride 1, KxK with at most 16 taps per output (C / group * KH * KW): direct
//    convolution vectorized along output pixels, all output channels per input load
//    (conv_fewtaps.h);
//  - AVX-512 / AVX2, width stride 1 or 2, except 1x1 stride-1 convs over planes bigger than
//    16x16 with more than 16 output channels: direct convolution vectorized along output
//    channels (conv_outvec.h; the rule is pick_dense_conv_path there);
//  - 1x1, stride 1, no pad: one SGEMM per image and group, B = X viewed as C x (H*W);
//  - AVX-512, KxK at stride 1 (or strided over few input channels, as stems are), width
//    strides above 2 only: direct convolution vectorized along output pixels (conv_direct.h);
//  - everything else: implicit GEMM, W (M x C*KH*KW, pre-packed once) times im2col(X), the
//    im2col panels packed straight from the image into the SGEMM's B panels (no im2col buffer).
// Bias and ReLU are applied by the SGEMM epilogue (row_bias: one per output channel); a
// residual (kiln_conv2d_residual) by the outvec, pointwise-rows, few-taps and Winograd AVX-512
// tiles as they store, by the other paths on each finished block.
#pragma once

#include <cstddef>
#include <cstdint>

#include "runtime/kernels/cpu/sgemm.h"

namespace kiln {
class ThreadPool;
}

extern "C" {

struct KilnConv2dShape {
  int64_t N, C, H, W;  // input X: N x C x H x W
  int64_t M;           // output channels; W is M x (C / group) x KH x KW
  int64_t KH, KW;
  int64_t stride_h, stride_w;
  int64_t pad_top, pad_left, pad_bottom, pad_right;
  int64_t dilation_h, dilation_w;
  int64_t group;
};

// Output spatial size; the shape is validated (throws std::invalid_argument when inconsistent).
int64_t kiln_conv2d_output_height(const KilnConv2dShape* shape);
int64_t kiln_conv2d_output_width(const KilnConv2dShape* shape);

// Bytes for the packed weights of `shape` (current ISA), and the packing itself. `packed`
// should be 64-byte aligned; it records the path and ISA and is tied to this shape's C, M,
// KH, KW and group.
size_t kiln_conv2d_packed_weights_size(const KilnConv2dShape* shape);
void kiln_conv2d_pack_weights(const KilnConv2dShape* shape, const float* weights, void* packed);
// The same packed weights stored as fp16 (for weights that are fp16 already): kiln_conv2d and
// kiln_conv2d_ex accept either and widen them once per call. (Winograd convs get the f32
// packing: their transformed weights are not fp16-exact.)
size_t kiln_conv2d_packed_weights_half_size(const KilnConv2dShape* shape);
void kiln_conv2d_pack_weights_half(const KilnConv2dShape* shape, const float* weights,
                                   void* packed);

// Y (N x M x OH x OW) = conv(X, packed weights) + bias (M values, or null), ReLU if `relu`.
// `pool` may be null.
void kiln_conv2d(const KilnConv2dShape* shape, const void* packed_weights, const float* X,
                 const float* bias, int relu, float* Y, kiln::ThreadPool* pool);

// kiln_conv2d with a full GEMM epilogue (kiln/sgemm.h): row_bias is the per-channel bias, relu,
// and `post` called on finished blocks of Y (column_bias must be null). `epilogue` may be null.
void kiln_conv2d_ex(const KilnConv2dShape* shape, const void* packed_weights, const float* X,
                    const KilnGemmEpilogue* epilogue, float* Y, kiln::ThreadPool* pool);

// kiln_conv2d_ex plus a residual R (null: none) of Y's shape and layout, added after the bias
// and before the ReLU: Y = relu?(conv + bias + R) (ReLU as `v < 0 ? 0 : v`), then `post`.
// The AVX-512 outvec and pointwise-rows tiles add R while storing; the other paths add it on
// each finished block with the same arithmetic, so every path gives the same bits. R may be Y
// itself (an in-place Add, no separate output buffer): paths that cannot read it from Y then
// work from a copy.
void kiln_conv2d_residual(const KilnConv2dShape* shape, const void* packed_weights,
                          const float* X, const KilnGemmEpilogue* epilogue, const float* residual,
                          float* Y, kiln::ThreadPool* pool);

}  // extern "C"
