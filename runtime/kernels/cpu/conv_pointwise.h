// Internal: 1x1 stride-1 convolution on AVX-512 with X read in place ("pointwise rows").
//
// Per image and group the conv is Y[M, P] = W[M, K] X[K, P], and the rows of X (input channel
// planes) are already contiguous along pixels, so instead of packing X into SGEMM B panels the
// register tile (14 output channels x 32 pixels, the SGEMM's shape) loads its two B vectors per
// k straight from X[k][p0 .. p0+32). The weights stay in the SGEMM's packed A layout (panels of
// kc x 14, one K block when K <= kc), so packing is unchanged. A strip of 32 pixels x K rows
// of X stays in L1 while every channel panel runs over it (deeper K: one K block of the strip
// at a time, the tiles storing and reloading their partial sums in Y). Each output element is
// one fixed K-order FMA chain (as in the SGEMM's 14 x 32 tiles; a reloaded partial sum
// continues it exactly), so results never depend on the thread count.
#pragma once

#include <cstdint>

#include "runtime/kernels/cpu/sgemm.h"

namespace kiln {
class ThreadPool;
}

namespace kiln::cpu {

struct SgemmKernel;

// Whether the conv driver should run this 1x1 stride-1 GEMM (M output channels, K input
// channels, P pixels, weights packed by `kern`) here instead of the SGEMM.
bool pointwise_rows_preferred(const SgemmKernel& kern, int64_t M, int64_t K, int64_t P);

// Tests and benchmarks: false sends every such conv to the SGEMM again (process-wide).
void set_pointwise_rows_enabled(bool on);

// Y (M x P, row stride P) = A X with the epilogue (row_bias, relu, post on finished blocks);
// `packed_a` is the SGEMM's packed A for M x K (K <= kern.kc), X is K x P (row stride P).
// `residual` (or null): laid out like Y, added after the bias and before the ReLU (see
// kiln_conv2d_residual). With more than one K block Y holds partial sums before the last
// block, so `residual` must not alias Y then.
void pointwise_rows_conv(int64_t M, int64_t K, int64_t P, const float* packed_a, const float* x,
                         const KilnGemmEpilogue& ep, const float* residual, float* y,
                         ThreadPool* pool);

// One register tile, for the ISA file: rows [0, rows) of a 14-row A panel (K x 14, k-major)
// times X columns [0, cols) (cols <= 32) of K rows `ldx` apart; row r lands at y[r * ldy],
// plus bias[r] and ReLU. `next` (or null): the next strip's X, prefetched into L2.
struct PointwiseTile {
  const float* a;
  const float* x;
  int64_t ldx;
  int64_t K;
  float* y;
  int64_t ldy;
  int cols;
  const float* bias;
  bool relu;
  const float* next;
  const float* res;  // like y (row r at res[r * ldy]), or null; then ReLU is v < 0 ? 0 : v
  const float* res_next;  // or null: the same rows of a later strip's residual, for L2
  // Set on every K block after the first: the accumulators start from Y (the earlier blocks'
  // sums, stored as they were), so each element is still one fixed-order FMA chain. The
  // epilogue (bias, residual, ReLU) runs only when `last` is set.
  bool from_y;
  bool last;

};
constexpr int kPointwiseRows = 14;
// The deepest K the path takes for any M: a strip of X (K x 32 floats) stays in L1 beside the
// weights, one K block.
constexpr int64_t kPointwiseRowsMaxK = 256;
// Deeper K (up to the SGEMM's packed K block) runs in K blocks when M is at most this.
constexpr int64_t kPointwiseRowsDeepMaxM = 128;
constexpr int kPointwiseCols = 32;
// The deepest K block the panels run over a strip before the next block (its rows stay in L1).
constexpr int64_t kPointwiseRowsBlockK = 256;
// K cut into blocks of equal depth, at most kPointwiseRowsBlockK deep.
int64_t pointwise_k_block(int64_t K);
void pointwise_tile_avx512(int rows, const PointwiseTile& t);

}  // namespace kiln::cpu
