// Internal: one output row of an im2col-style gather, shared by the conv kernels that build
// per-tap planes (op_conv.cpp and conv_grad_weight.cpp).
#pragma once

#include <algorithm>
#include <cstdint>

namespace kiln::cpu {

// out[ow] = in[ow * sw + shift] for ow in [lo, hi), 0 elsewhere in [0, OW); `in` null (the row
// lies in the padding) zeroes the whole row.
inline void im2col_row(const float* in, float* out, int64_t OW, int64_t lo, int64_t hi,
                       int64_t sw, int64_t shift) {
  if (!in) {
    std::fill(out, out + OW, 0.0f);
    return;
  }
  std::fill(out, out + lo, 0.0f);
  if (sw == 1) {
    std::copy(in + lo + shift, in + hi + shift, out + lo);
  } else {
    for (int64_t ow = lo; ow < hi; ++ow) out[ow] = in[ow * sw + shift];
  }
  std::fill(out + hi, out + OW, 0.0f);
}

}  // namespace kiln::cpu
