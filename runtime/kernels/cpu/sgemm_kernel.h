// Internal: the SGEMM micro-kernel contract and the per-ISA kernel table.
//
// Packed layouts (all floats, zero-padded so kernels never test bounds while multiplying):
//  - A, M x K: cut into KC-deep blocks; block starting at k0 lies at offset k0 * Mpad
//    (Mpad = M rounded up to MR) and holds Mpad/MR panels of kc x MR values, k-major:
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
  int64_t kc;  // K block: one B panel (kc x nr) stays in L1 across the A panels of a block
  int64_t mc;  // M block (multiple of mr): the A block (mc x kc) stays in L2
  int64_t nc;  // N block (multiple of nr): the packed B block (kc x nc) fits in L2 beside it
  MicroKernelFn micro;
};

const SgemmKernel& sgemm_kernel(Isa isa);

// Per-ISA micro-kernels (each in its own translation unit with its own -m flags).
void sgemm_micro_avx512(int64_t kc, const float* a, const float* b, const MicroTile& t);
void sgemm_micro_avx2(int64_t kc, const float* a, const float* b, const MicroTile& t);
void sgemm_micro_scalar(int64_t kc, const float* a, const float* b, const MicroTile& t);

}  // namespace kiln::cpu
