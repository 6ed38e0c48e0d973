// Softmax, LogSoftmax-free fast paths for transformer models (f32, contiguous rows):
//   Softmax             over the last axis (opset >= 13) or over dims[axis:] flattened (< 13
//                       with axis = rank - 1): one vectorized row kernel per row;
//   LayerNormalization  gamma / beta shaped like the normalized dims, only Y wanted.
// Rows are split over the pool; each row's arithmetic is independent of the split.
#include "runtime/kernels/cpu/op_util.h"
#include "runtime/kernels/cpu/softmax_rows.h"

namespace kiln::cpu {

namespace {

// dims without leading 1s.
Dims squeeze_leading(Dims d) {
  size_t i = 0;
  while (i < d.size() && d[i] == 1) ++i;
  return Dims(d.begin() + static_cast<std::ptrdiff_t>(i), d.end());
}

// `p`'s dims equal x's dims from `axis` on (leading 1s aside).
bool param_fits(const Tensor& p, const Dims& x, int64_t axis) {
  return p.dtype() == DType::F32 &&
         squeeze_leading(p.dims()) ==
             squeeze_leading(Dims(x.begin() + static_cast<std::ptrdiff_t>(axis), x.end()));
}

}  // namespace

void fast_Softmax(KernelContext& ctx) {
  if (!input_is_f32(ctx, 0)) return run_reference(ctx);
  const Tensor& x = ctx.input(0);
  const int64_t rank = x.rank();
  int64_t axis = ctx.attr().get_int("axis", ctx.opset < 13 ? 1 : -1);
  if (axis < 0) axis += rank;
  if (rank < 1 || axis != rank - 1 || x.numel() == 0) return run_reference(ctx);
  const int64_t n = x.dim(rank - 1), rows = x.numel() / n;
  const float* px = x.data<float>();
  float* py = uninit_output(ctx, 0).data<float>();
  parallel_ranges(ctx.pool, rows, n * 8, [&](int64_t begin, int64_t end) {
    for (int64_t r = begin; r < end; ++r) softmax_row(px + r * n, py + r * n, n);
  });
}

void fast_LayerNormalization(KernelContext& ctx) {
  if (!input_is_f32(ctx, 0) || ctx.num_outputs() != 1 ||
      ctx.attr().get_int("stash_type", 1) != 1)
    return run_reference(ctx);
  const Tensor& x = ctx.input(0);
  const int64_t rank = x.rank();
  int64_t axis = ctx.attr().get_int("axis", -1);
  if (axis < 0) axis += rank;
  if (axis < 0 || axis >= rank || x.numel() == 0) return run_reference(ctx);
  if (!param_fits(ctx.input(1), x.dims(), axis) ||
      (ctx.has_input(2) && !param_fits(ctx.input(2), x.dims(), axis)))
    return run_reference(ctx);
  int64_t n = 1;
  for (int64_t i = axis; i < rank; ++i) n *= x.dim(i);
  const int64_t rows = x.numel() / n;
  const float eps = ctx.attr().get_float("epsilon", 1e-5f);
  const float* px = x.data<float>();
  const float* gamma = ctx.input(1).data<float>();
  const float* beta = ctx.has_input(2) ? ctx.input(2).data<float>() : nullptr;
  float* py = uninit_output(ctx, 0).data<float>();
  parallel_ranges(ctx.pool, rows, n * 6, [&](int64_t begin, int64_t end) {
    for (int64_t r = begin; r < end; ++r) layernorm_row(px + r * n, gamma, beta, py + r * n, n, eps);
  });
}

}  // namespace kiln::cpu
