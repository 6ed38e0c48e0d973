// Internal: the SGEMM micro-kernel contract and the per-ISA kernel table.
//
// Packed layouts (all floats, zero-padded so kernels never test bounds while multiplying):
//  - A, M x K: cut into k_block(kern, K)-deep blocks; block starting at k0 lies at offset
//    k0 * Mpad (Mpad = M rounded up to MR) and holds Mpad/MR panels of kc x MR values, k-major:
//    panel[k * MR + r] = op(A)[m0 + r, k0 + k].
//  - B, K x N: the same with NR-column panels: block at k0 * Npad, panel[k * NR + c].
#pragma once

#include <cstdint>

#include "runtime/kernels/cpu/cpu_isa.h"

namespace kiln::cpu {

// How one micro-tile (rows x cols of C, rows <= MR, cols <= NR) is written back.
struct MicroTile {
  float* c;
  int64_t ldc;
  int rows, cols;
  float alpha;
  float beta;                // multiplies the old C when load_c
  bool load_c;               // false on the first K block when beta == 0
  const float* row_bias;     // rows values, or null (set on the last K block only)
  const float* column_bias;  // cols values, or null (last K block only)
  bool relu;                 // last K block only
};

// C_tile = alpha * (A_panel * B_panel) + beta * C_tile (+ epilogue), over kc steps.
using MicroKernelFn = void (*)(int64_t kc, const float* a_panel, const float* b_panel,
                               const MicroTile& tile);

struct SgemmKernel {
  Isa isa;
  int mr, nr;  // register tile
  int64_t kc;  // largest K block (see k_block)
  int64_t mc;  // M block (multiple of mr): the A block (mc x kc) stays in L2
  int64_t nc;  // N block (multiple of nr): the packed B block (kc x nc) fits in L2 beside it
  MicroKernelFn micro;
  // One row of C (rows == 1) from an A row read in place, its k values contiguous (a GEMV: no
  // A packing, which for one row writes and re-reads a 14-row panel per K block); the same FMA
  // order as `micro` on one row, so the bits match. Null: the ISA packs A.
  MicroKernelFn gemv = nullptr;
};

const SgemmKernel& sgemm_kernel(Isa isa);

// The depth of the K blocks every packed layout and the driver cut K into: K split into
// ceil(K / kern.kc) blocks of equal depth (the last one may be shorter), so a K just above kc
// does not leave a thin last block that costs a whole extra pass over C.
inline int64_t k_block(const SgemmKernel& kern, int64_t K) {
  if (K <= kern.kc) return K < 1 ? 1 : K;
  const int64_t blocks = (K + kern.kc - 1) / kern.kc;
  return (K + blocks - 1) / blocks;
}

// Per-ISA micro-kernels (each in its own translation unit with its own -m flags).
void sgemm_micro_avx512(int64_t kc, const float* a, const float* b, const MicroTile& t);
void sgemm_micro_avx2(int64_t kc, const float* a, const float* b, const MicroTile& t);
void sgemm_micro_scalar(int64_t kc, const float* a, const float* b, const MicroTile& t);
void sgemm_gemv_avx512(int64_t kc, const float* a, const float* b, const MicroTile& t);

// AVX-512 packing for the 14 x 32 kernel (sgemm_pack_avx512.cpp): the first `rows` (<= 14)
// rows of A (op(A) = A, not transposed), columns [k0, k0+kc), into one zero-padded A panel;
// rows [k0, k0+kc) x columns [n0, n0+nc) of op(B) into ceil(nc/32) zero-padded B panels.
void pack_a_panel_avx512(const float* A, int64_t lda, int rows, int64_t k0, int64_t kc, float* dst);
void pack_b_block_avx512(bool trans, const float* B, int64_t ldb, int64_t k0, int64_t kc,
                         int64_t n0, int64_t nc, float* dst);

}  // namespace kiln::cpu
