#include "runtime/kernels/cpu/pool_rows.h"

namespace kiln::cpu {

bool max_pool_rows(Isa isa, const PlaneWindow& g, int64_t planes, const float* x, float* y) {
  // AVX-512 only: AVX2 and scalar keep window_plane (narrower vectors, no two-source permute).
  return isa == Isa::Avx512 && max_pool_rows_avx512(g, planes, x, y);
}

}  // namespace kiln::cpu
