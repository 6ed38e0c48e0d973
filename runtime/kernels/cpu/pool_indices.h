// Internal: MaxPool with its Indices output (what training saves for KilnMaxPoolGrad) for the
// common 2x2 window, stride 2, no padding or dilation: one branch-free pass per plane. The
// generic with-indices loop in op_pool.cpp handles every other geometry.
#pragma once

#include <cstdint>

namespace kiln {
class ThreadPool;
}

namespace kiln::cpu {

struct MaxPoolIndicesShape {
  int64_t planes, H, W, OH, OW, KH, KW, sh, sw, dh, dw, ph, pw;
};

// Writes Y and flat Indices (plane * H * W + h * W + w; the first maximum in row-major tap
// order wins, as the reference) and returns true when `s` is that geometry; false otherwise,
// writing nothing.
bool max_pool_2x2_with_indices(const MaxPoolIndicesShape& s, const float* x, float* y,
                               int64_t* ind, ThreadPool* pool);

}  // namespace kiln::cpu
