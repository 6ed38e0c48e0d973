// Internal: direct convolution vectorized along OUTPUT CHANNELS ("outvec"), NCHW in and out.
//
// The weights are packed at compile time into panels of L output channels (L = 16 on AVX-512,
// 8 on AVX2), panel[k][l] with k = (c, kh, kw) over the group's input channels and taps. A
// register tile holds CO panels x P output pixels of an output row: per tap it loads CO
// weight vectors, broadcasts one input value per pixel straight from the (zero-bordered when
// padded) NCHW image at x[c][oh*sh + kh*dh][ow*sw + kw*dw], and does CO*P FMAs (narrow planes:
// a tile covers two whole rows, so the weights loaded per FMA stay few). Strides and
// dilations only change the broadcast addresses, so strided convs run at full speed, and
// every lane is an output channel, so small planes (7x7, 14x14) waste nothing. The finished
// tile is transposed in registers (channels x pixels) and stored as P contiguous pixels per
// channel row, with bias and ReLU; `post` runs on finished (channels x whole rows) blocks.
// Each output element is one tile's fixed K-order sum, so results never depend on threads.
#pragma once

#include <cstddef>
#include <cstdint>

#include "runtime/kernels/cpu/conv.h"
#include "runtime/kernels/cpu/cpu_isa.h"

namespace kiln {
class ThreadPool;
}

namespace kiln::cpu {

// The dense (not depthwise) convolution paths packing chooses between.
enum class DenseConvPath : int32_t {
  Gemm = 1,
  PixelDirect = 3,
  OutVec = 4,
  FewTaps = 5,
  Winograd = 6
};

// The selection rule (see conv_outvec.cpp): which path packing picks for this non-depthwise
// shape on `isa`.
DenseConvPath pick_dense_conv_path(const KilnConv2dShape& s, Isa isa);
// Whether the outvec kernel can run this shape on `isa` (AVX2 or AVX-512, strides 1 or 2).
bool outvec_conv_supported(const KilnConv2dShape& s, Isa isa);

// Tests and benchmarks: force the path packing picks for dense convs (process-wide; a path
// the shape or ISA cannot take falls back to the rule). Null: the rule again.
void force_dense_conv_path(const DenseConvPath* path);

// The tile shape the kernel uses for this shape (tests): panels per tile, rows per tile (1 or
// 2) and the widest run of pixels per tile row.
void outvec_tile_shape(const KilnConv2dShape& s, Isa isa, int64_t out_h, int64_t out_w, int* co,
                       int* rows, int* pixels);

// Whether outvec_conv sums this shape's input channels as two halves (split-K, see
// conv_outvec.cpp): unpadded 1x1 convs on AVX-512 over small planes with many input channels
// and no more output channels than pixels.
bool outvec_splits_k(const KilnConv2dShape& s, Isa isa);

// Output channels per weight panel and per vector.
int outvec_lanes(Isa isa);

// Floats of the packed weights: per group, ceil(Mg / L) panels of Kg x L values (k-major).
size_t outvec_packed_floats(const KilnConv2dShape& s, Isa isa);
void pack_outvec_weights(const KilnConv2dShape& s, Isa isa, const float* weights, float* packed);

// Y = conv(X) with the epilogue (row_bias, relu, post on finished blocks), split over `pool`.
// `residual` (AVX-512 only; else null): Y's shape, added by the tiles after the bias, before
// the ReLU (see kiln_conv2d_residual).
void outvec_conv(const KilnConv2dShape& s, Isa isa, int64_t out_h, int64_t out_w,
                 const float* packed, const float* x, const KilnGemmEpilogue& ep,
                 const float* residual, float* y, ThreadPool* pool);

// Zero-bordered source rows [row0, row0 + rows) (padded coordinates) of input channels
// [c0, c0 + nc) of image x, each sw_cols = W + pad_left + pad_right wide, channel planes
// `chan_stride` floats apart in dst. Shared with the few-taps kernel.
void fill_padded(const KilnConv2dShape& s, int64_t sw_cols, const float* x, int64_t c0, int64_t nc,
                 int64_t row0, int64_t rows, int64_t chan_stride, float* dst);

// One register tile, for the ISA files: panels [0, co) (wstride floats apart, each K x L) times
// rows (1 or 2) x q pixels, pixel (r, i) at x + r * xrow + i * sw plus the tap offsets off[k];
// channel c of pixel (r, i), plus bias[c] and ReLU, lands at y[c * ldy + r * yrow + i] for
// c < channels.
struct OutvecTile {
  const float* w;
  int64_t wstride;
  const float* x;
  int64_t xrow;
  const int64_t* off;
  int64_t K;
  float* y;
  int64_t ldy, yrow;
  int channels;
  const float* bias;  // per channel, or null
  bool relu;
  // AVX-512 only: laid out like y (channel c of pixel (r, i) at res[c * ldy + r * yrow + i]),
  // added after the bias; the ReLU is then `v < 0 ? 0 : v`, as generated epilogues do it.
  const float* res;
  // AVX-512: `prefetch_lines` consecutive weight lines (16 floats each) from here to prefetch
  // into L2, spread evenly over the K taps, or null: (a share of) the next panel group's
  // weights, which otherwise stream from memory at the FMAs' pace.
  const float* prefetch;
  int64_t prefetch_lines;
  // AVX-512: the next tile's pixel (0, 0) (same taps, rows and pixels as this one), or null:
  // its input lines are prefetched into L2, one tap per tap. A 1x1 projection after a
  // depthwise conv split by channels finds half its input in the other core's cache, where
  // the hardware prefetchers do not follow hundreds of channel planes.
  const float* xnext;
  // AVX-512, or 0: the taps sum as two halves, [0, ksplit) and [ksplit, K), added after (the
  // bits of split-K's two partial sums, see conv_outvec.cpp, on one thread).
  int64_t ksplit;
};
// The most pixels (rows x q) per tile for co panels (the accumulators fill the register file).
int outvec_max_pixels(Isa isa, int co);
// 4 panels never beat 2 or 3 in the cost model (the FMAs bound every tile), so none is built.
constexpr int kOutvecMaxPanels = 3;
void outvec_tile_avx512(int co, int rows, int q, int sw, const OutvecTile& t);
// Split-K's sum (conv_outvec.cpp): pixels [p0, p1) of the M x P images a and b, y = a + b, plus
// bias[c] and res (or null, laid out like y) and the ReLU as the tiles do them; p0 is a
// multiple of 16.
void outvec_sum_halves_avx512(const float* a, const float* b, const float* bias,
                              const float* res, bool relu, int64_t M, int64_t P, int64_t p0,
                              int64_t p1, float* y);
void outvec_tile_avx2(int co, int rows, int q, int sw, const OutvecTile& t);

}  // namespace kiln::cpu
