// Internal: direct ("shifted rows") convolution for AVX-512, no im2col packing.
//
// Each image is first copied into a zero-bordered source: per input channel, per stride phase
// (ph, pw), a plane of Hq x Wq values xq[i][j] = xpad[i*sh + ph][j*sw + pw]. In that layout
// tap (c, kh, kw) of output pixel (oh, ow) is xq at a fixed offset off(c, kh, kw) plus the flat
// index p = oh * Wq + ow, for any stride and dilation. So the convolution is a GEMM
// Y[m, p] = sum_k W[m, k] * xq[off[k] + p] whose B rows are read straight from xq: a register
// tile of 8 output channels x 16*V consecutive flat pixels loads V vectors per k and broadcasts
// 8 weights. The flat index also covers Wq - OW junk columns per output row; the tile's stores
// drop them with compress masks, so Y is written in its normal NCHW layout.
#pragma once

#include <cstddef>
#include <cstdint>

#include "runtime/kernels/cpu/conv.h"

namespace kiln {
class ThreadPool;
}

namespace kiln::cpu {

// Output channels per register tile; the packed weights are panels of this many rows.
constexpr int kDirectRows = 8;

// Whether packing for AVX-512 should pick the direct path for this (non-depthwise) shape.
bool direct_conv_preferred(const KilnConv2dShape& s);

// Tests and benchmarks: false makes packing pick the im2col GEMM path instead (process-wide).
void set_direct_conv_enabled(bool on);

// Floats of the packed weights: per group, ceil(Mg / 8) panels of Kg x 8 values (k-major).
size_t direct_packed_floats(const KilnConv2dShape& s);
void pack_direct_weights(const KilnConv2dShape& s, const float* weights, float* packed);

// Y = conv(X) with the epilogue (row_bias, relu, post on finished blocks), split over `pool`.
void direct_conv(const KilnConv2dShape& s, int64_t out_h, int64_t out_w, const float* packed,
                 const float* x, const KilnGemmEpilogue& ep, float* y, ThreadPool* pool);

// One register tile, for the ISA files: rows [0, rows) of an 8-row weight panel times the
// 16 * vecs flat pixels starting at `x`, over K taps; the valid lanes of vector v (mask[v])
// land at y[r * ldy + dst[v]] onwards, packed together, after bias and ReLU.
struct DirectTile {
  const float* a;      // K x 8 panel
  const float* x;      // source at the tile's first flat pixel
  const int64_t* off;  // K tap offsets into the source
  int64_t K;
  float* y;  // output channel 0 of the panel
  int64_t ldy;
  int rows;
  const uint16_t* mask;  // vecs lane masks
  const int64_t* dst;    // vecs output columns
  const float* bias;     // rows values, or null
  bool relu;
};
void direct_tile_avx512(int vecs, const DirectTile& t);

}  // namespace kiln::cpu
