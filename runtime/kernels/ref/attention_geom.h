// The geometry of KilnAttention(Q, Kt, V, mask?) shared by its reference and CPU kernels:
// `batch` independent problems (the flattened batch dims), each Q [M, D] @ Kt [D, N] -> scores
// [M, N] (+ mask) -> softmax -> @ V [N, Dv]. The mask is addressed through broadcast strides.
#pragma once

#include <cstdint>
#include <vector>

#include "runtime/kernels/ref/kernel.h"
#include "runtime/kernels/ref/ref_util.h"

namespace kiln::ref {

struct AttentionGeom {
  int64_t batch = 1, M = 0, D = 0, N = 0, Dv = 0;
  float scale = 1.0f;
  bool divide = false;
  bool has_mask = false;
  std::vector<int64_t> mask_batch_offset;  // per batch index: offset of its [M, N] window
  int64_t mask_row_stride = 0, mask_col_stride = 0;
};

inline AttentionGeom attention_geom(const KernelContext& ctx) {
  const Tensor &q = ctx.input(0), &kt = ctx.input(1), &v = ctx.input(2);
  const size_t r = q.dims().size();
  ctx.check(r >= 2 && kt.dims().size() == r && v.dims().size() == r,
            "Q, Kt and V must have the same rank >= 2");
  AttentionGeom g;
  g.M = q.dims()[r - 2];
  g.D = q.dims()[r - 1];
  g.N = kt.dims()[r - 1];
  g.Dv = v.dims()[r - 1];
  ctx.check(kt.dims()[r - 2] == g.D && v.dims()[r - 2] == g.N, "inner dims do not match");
  Dims batch_dims(q.dims().begin(), q.dims().end() - 2);
  for (size_t i = 0; i + 2 < r; ++i)
    ctx.check(kt.dims()[i] == batch_dims[i] && v.dims()[i] == batch_dims[i], "batch dims differ");
  for (int64_t d : batch_dims) g.batch *= d;
  g.scale = ctx.attr().get_float("scale", 1.0f);
  g.divide = ctx.attr().get_int("divide", 0) != 0;
  g.has_mask = ctx.has_input(3);
  if (g.has_mask) {
    Dims scores = batch_dims;
    scores.push_back(g.M);
    scores.push_back(g.N);
    const Tensor& m = ctx.input(3);
    ctx.check(m.dims().size() <= r && broadcast_dims(scores, m.dims()) == scores,
              "mask ", dims_to_string(m.dims()), " does not broadcast to the scores ",
              dims_to_string(scores));
    const std::vector<int64_t> s = broadcast_strides(m.dims(), scores);
    g.mask_row_stride = s[r - 2];
    g.mask_col_stride = s[r - 1];
    g.mask_batch_offset.assign(static_cast<size_t>(g.batch), 0);
    for (int64_t b = 0; b < g.batch; ++b) {  // row-major walk of the batch index
      int64_t rem = b, off = 0;
      for (size_t i = r - 2; i-- > 0;) {
        off += (rem % batch_dims[i]) * s[i];
        rem /= batch_dims[i];
      }
      g.mask_batch_offset[static_cast<size_t>(b)] = off;
    }
  }
  return g;
}

}  // namespace kiln::ref
