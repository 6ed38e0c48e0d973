#include "runtime/kernels/cpu/pool_indices.h"

#include "runtime/kernels/cpu/op_util.h"

namespace kiln::cpu {

bool max_pool_2x2_with_indices(const MaxPoolIndicesShape& s, const float* x, float* y,
                               int64_t* ind, ThreadPool* pool) {
  if (s.KH != 2 || s.KW != 2 || s.sh != 2 || s.sw != 2 || s.dh != 1 || s.dw != 1 || s.ph != 0 ||
      s.pw != 0 || s.OH < 1 || s.OW < 1 || 2 * s.OH > s.H || 2 * s.OW > s.W) {
    return false;
  }
  const int64_t in_plane = s.H * s.W, out_plane = s.OH * s.OW;
  parallel_ranges(pool, s.planes, in_plane, [&](int64_t b, int64_t e) {
    for (int64_t p = b; p < e; ++p) {
      for (int64_t oh = 0; oh < s.OH; ++oh) {
        const int64_t row = p * in_plane + 2 * oh * s.W;  // flat index of the window row's start
        const float* __restrict r0 = x + row;
        const float* __restrict r1 = r0 + s.W;
        float* __restrict yo = y + p * out_plane + oh * s.OW;
        int64_t* __restrict io = ind + p * out_plane + oh * s.OW;
        for (int64_t ow = 0; ow < s.OW; ++ow) {
          // Taps in row-major order; a later one wins only when strictly larger.
          float best = r0[2 * ow];
          int64_t arg = 0;
          bool wins = r0[2 * ow + 1] > best;
          best = wins ? r0[2 * ow + 1] : best;
          arg = wins ? 1 : arg;
          wins = r1[2 * ow] > best;
          best = wins ? r1[2 * ow] : best;
          arg = wins ? s.W : arg;
          wins = r1[2 * ow + 1] > best;
          best = wins ? r1[2 * ow + 1] : best;
          arg = wins ? s.W + 1 : arg;
          yo[ow] = best;
          io[ow] = row + 2 * ow + arg;
        }
      }
    }
  });
  return true;
}

}  // namespace kiln::cpu
