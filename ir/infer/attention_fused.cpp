// Inference for KilnAttention(Q, Kt, V, mask?) = softmax(S + mask, last axis) @ V with
// S = Q @ Kt scaled (S * scale, or S / scale when divide = 1): the attention core that
// PyTorch exports as MatMul -> Div|Mul -> Add -> Softmax -> MatMul (passes/fuse_attention.cpp).
//   Q [..., M, D], Kt [..., D, N], V [..., N, Dv]: the same rank and the same batch dims;
//   mask broadcasts to [..., M, N] without growing it; Y [..., M, Dv].
#include "ir/infer_util.h"

namespace kiln {

namespace {

bool dims_agree(const Dim& a, const Dim& b) {
  if (a.is_static() && b.is_static()) return a.value == b.value;
  return a == b || !a.is_static() || !b.is_static();
}

}  // namespace

void infer_KilnAttention(InferContext& ctx) {
  const DType dt = ctx.dtype(0);
  if (!is_float(dt)) ctx.fail("Q has dtype ", dtype_name(dt), ", expected a float type");
  for (size_t i = 1; i < 3; ++i) {
    if (ctx.dtype(i) != dt)
      ctx.fail("input ", i, " has dtype ", dtype_name(ctx.dtype(i)), ", Q has ", dtype_name(dt));
  }
  const int64_t divide = ctx.attr().get_int("divide", 0);
  if (divide != 0 && divide != 1) ctx.fail("attribute divide must be 0 or 1, got ", divide);
  const Shape &q = ctx.shape(0), &kt = ctx.shape(1), &v = ctx.shape(2);
  ValueType& y = ctx.output(0);
  y.dtype = dt;
  if (!q.rank_known || !kt.rank_known || !v.rank_known) return;
  const size_t r = q.rank();
  if (r < 2 || kt.rank() != r || v.rank() != r)
    ctx.fail("Q, Kt and V must have the same rank >= 2, got ", q.to_string(), ", ",
             kt.to_string(), ", ", v.to_string());
  for (size_t i = 0; i + 2 < r; ++i) {
    if (!dims_agree(q.dims[i], kt.dims[i]) || !dims_agree(q.dims[i], v.dims[i]))
      ctx.fail("batch dims differ: Q ", q.to_string(), ", Kt ", kt.to_string(), ", V ",
               v.to_string());
  }
  if (!dims_agree(q.dims[r - 1], kt.dims[r - 2]) || !dims_agree(kt.dims[r - 1], v.dims[r - 2]))
    ctx.fail("inner dims do not match: Q ", q.to_string(), ", Kt ", kt.to_string(), ", V ",
             v.to_string());
  Shape scores = q;
  scores.dims[r - 1] = kt.dims[r - 1];
  if (ctx.has_input(3)) {
    if (ctx.dtype(3) != dt)
      ctx.fail("mask has dtype ", dtype_name(ctx.dtype(3)), ", Q has ", dtype_name(dt));
    const Shape& m = ctx.shape(3);
    if (m.rank_known) {
      const Shape b = broadcast_shapes(ctx, scores, m);
      if (b.rank() != r)
        ctx.fail("mask ", m.to_string(), " does not broadcast to the scores ", scores.to_string());
      for (size_t i = 0; i < r; ++i) {
        if (!dims_agree(b.dims[i], scores.dims[i]))
          ctx.fail("mask ", m.to_string(), " grows the scores ", scores.to_string());
      }
    }
  }
  y.shape = q;
  y.shape.dims[r - 1] = v.dims[r - 1];
}

}  // namespace kiln
