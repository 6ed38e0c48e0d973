// Internal: 3x3 stride-1 convolution by Winograd's minimal filtering F(2x2, 3x3), AVX-512,
// NCHW in and out.
//
// Each 2x2 block of output pixels (a tile) comes from a 4x4 input patch d and the 3x3 filter g
// as Y = A^T [(G g G^T) .* (B^T d B)] A: the 16 products replace 36 multiply-adds, so the
// channel sums, 16 small GEMMs M_xi = U_xi V_xi over the input channels (U = G g G^T packed
// once, V = B^T d B per tile), take 2.25x fewer FMAs than direct convolution. The input and
// output transforms are adds along tile rows, tiles in the vector lanes. Each output element
// is a fixed sum whatever the thread count. F(2x2, 3x3) keeps the rounding close to direct
// convolution's (the transforms only add, subtract and halve).
#pragma once

#include <cstddef>
#include <cstdint>

#include "runtime/kernels/cpu/conv.h"

namespace kiln {
class ThreadPool;
}

namespace kiln::cpu {

// Whether the kernel can run this shape (given AVX-512): 3x3, stride 1, dilation 1, one
// group; any padding and plane size.
bool winograd_conv_supported(const KilnConv2dShape& s);

// Floats of the transformed weights: 16 x ceil(M / 8) blocks of C x 8.
size_t winograd_packed_floats(const KilnConv2dShape& s);
// Whether the transformed weights outgrow L2 (1.5 MiB): then each call reads them from memory
// once per image, not once per work item: an item covers a whole image and the threads split
// its output channels (each transforming the image's input itself).
bool winograd_streams_weights(const KilnConv2dShape& s);
void pack_winograd_weights(const KilnConv2dShape& s, const float* weights, float* packed);

// Y = conv(X) with the epilogue (row_bias, relu, post on finished blocks) and `residual` (Y's
// shape, or null: added after the bias, before the ReLU), split over `pool`.
void winograd_conv(const KilnConv2dShape& s, int64_t out_h, int64_t out_w, const float* packed,
                   const float* x, const KilnGemmEpilogue& ep, const float* residual, float* y,
                   ThreadPool* pool);

// The three stages for one work item (rows of tiles of one image), AVX-512 file.
struct WinogradItem {
  int64_t C, Mp;       // input channels; output channels rounded up to 8
  int64_t tiles_w;     // tiles per tile row
  int64_t tile_rows;   // tile rows in this item
  int64_t T, Tp;       // tiles in the item, and the row stride of V and M (>= T + 16)
  // Source: C planes src_plane floats apart, rows src_row floats apart starting at the item's
  // first patch row; only rows [0, src_rows) and columns [0, src_cols) are read, zeros taken
  // past them (the image itself when unpadded, else a zero-bordered copy).
  const float* src;
  int64_t src_row, src_plane, src_rows, src_cols;
  // V: 16 matrices C x Tp, Vs floats apart; M: 16 matrices Mp x Tp, Ms floats apart. Both
  // strides are an odd number of cache lines, so the 16 lines a tile's transform reads or
  // writes fall in different L1 sets.
  float* V;
  int64_t Vs;
  float* M;
  int64_t Ms;
  const float* U;      // packed weights of the item's first channel block
  int64_t u_blocks;    // 8-channel blocks per xi in the packed weights (>= Mp / 8)
};
void winograd_input_avx512(const WinogradItem& it);
void winograd_gemm_avx512(const WinogradItem& it);
// Output rows [2 * tile_row0, ...) of channels [0, channels): y, res start at the item's
// first output row of channel 0 (ldy floats between channels, out_w per row).
struct WinogradOut {
  float* y;
  const float* res;
  const float* bias;
  int64_t ldy, out_w, rows;  // output rows in the item (2 * tile_rows, or one less at the end)
  int channels;
  bool relu;
};
void winograd_output_avx512(const WinogradItem& it, const WinogradOut& o);

}  // namespace kiln::cpu
