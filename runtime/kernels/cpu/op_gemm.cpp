// Matrix-product op kernels on the packed SGEMM (f32):
//   Gemm    Y = alpha op(A) op(B) + beta C; C as a row / column bias in the epilogue, or copied
//           into Y first when it is a full M x N matrix;
//   MatMul  rank >= 2 operands with broadcast batch axes; a 2-D B folds A's batch axes into M
//           (one large SGEMM), otherwise one SGEMM per output batch.
#include <algorithm>
#include <cstring>
#include <vector>

#include "runtime/kernels/cpu/op_util.h"
#include "runtime/kernels/cpu/sgemm.h"
#include "runtime/threadpool/thread_pool.h"

namespace kiln::cpu {

void fast_Gemm(KernelContext& ctx) {
  if (!input_is_f32(ctx, 0) || !input_is_f32(ctx, 1) || !input_is_f32(ctx, 2, true) ||
      ctx.input(0).rank() != 2 || ctx.input(1).rank() != 2) {
    return run_reference(ctx);
  }
  const Tensor& a = ctx.input(0);
  const Tensor& b = ctx.input(1);
  const Tensor* c = ctx.has_input(2) ? &ctx.input(2) : nullptr;
  const bool ta = ctx.attr().get_int("transA", 0) != 0, tb = ctx.attr().get_int("transB", 0) != 0;
  const float alpha = ctx.attr().get_float("alpha", 1.0f), beta = ctx.attr().get_float("beta", 1.0f);
  const int64_t M = ta ? a.dim(1) : a.dim(0), K = ta ? a.dim(0) : a.dim(1);
  const int64_t N = tb ? b.dim(0) : b.dim(1), Kb = tb ? b.dim(1) : b.dim(0);
  if (K != Kb) return run_reference(ctx);  // it reports the mismatch

  // How C enters: not at all, as a full matrix copied into Y, or as a bias vector.
  enum class CUse { None, Full, Column, Row } use = CUse::None;
  if (c && beta != 0.0f) {
    const Dims& d = c->dims();
    if (d == Dims{M, N}) {
      use = CUse::Full;
    } else if (c->numel() == 1 && d.size() <= 2) {
      use = CUse::Column;  // a scalar: the same bias in every column
    } else if ((d == Dims{N}) || (d == Dims{1, N})) {
      use = CUse::Column;
    } else if (d == Dims{M, 1}) {
      use = CUse::Row;
    } else {
      return run_reference(ctx);  // it broadcasts or rejects anything else
    }
  }
  Tensor& y = uninit_output(ctx, 0, {M, N});
  float* py = y.data<float>();
  std::vector<float> bias;
  KilnGemmEpilogue ep{};
  float gemm_beta = 0.0f;
  if (use == CUse::Full) {
    std::memcpy(py, c->data<float>(), sizeof(float) * static_cast<size_t>(M * N));
    gemm_beta = beta;
  } else if (use != CUse::None) {
    const int64_t len = use == CUse::Row ? M : N;
    const float* pc = c->data<float>();
    bias.resize(static_cast<size_t>(len));
    for (int64_t i = 0; i < len; ++i) bias[static_cast<size_t>(i)] = beta * pc[c->numel() == 1 ? 0 : i];
    (use == CUse::Row ? ep.row_bias : ep.column_bias) = bias.data();
  }
  kiln_sgemm(ta, tb, M, N, K, alpha, a.data<float>(), a.dim(1), b.data<float>(), b.dim(1),
             gemm_beta, py, N, &ep, ctx.pool);
}

void fast_MatMul(KernelContext& ctx) {
  if (!input_is_f32(ctx, 0) || !input_is_f32(ctx, 1) || ctx.input(0).rank() < 2 ||
      ctx.input(1).rank() < 2) {
    return run_reference(ctx);
  }
  const Tensor& a = ctx.input(0);
  const Tensor& b = ctx.input(1);
  const int64_t ra = a.rank(), rb = b.rank();
  const int64_t M = a.dim(ra - 2), K = a.dim(ra - 1), N = b.dim(rb - 1);
  if (b.dim(rb - 2) != K) return run_reference(ctx);
  // Output batch axes: numpy broadcast of the two batch shapes (right-aligned).
  const int64_t rbatch = std::max(ra, rb) - 2;
  Dims batch(static_cast<size_t>(rbatch));
  std::vector<int64_t> a_stride(static_cast<size_t>(rbatch), 0), b_stride(a_stride);
  int64_t sa = M * K, sb = K * N;  // elements per matrix, then per batch axis
  for (int64_t i = rbatch - 1; i >= 0; --i) {
    const int64_t ia = i - (rbatch - (ra - 2)), ib = i - (rbatch - (rb - 2));
    const int64_t da = ia >= 0 ? a.dim(ia) : 1, db = ib >= 0 ? b.dim(ib) : 1;
    if (da != db && da != 1 && db != 1) return run_reference(ctx);  // it reports the mismatch
    batch[static_cast<size_t>(i)] = std::max(da, db);
    if (da != 1) a_stride[static_cast<size_t>(i)] = sa;
    if (db != 1) b_stride[static_cast<size_t>(i)] = sb;
    sa *= da;
    sb *= db;
  }
  Dims out_dims = batch;
  out_dims.push_back(M);
  out_dims.push_back(N);
  Tensor& y = uninit_output(ctx, 0, out_dims);
  const int64_t batches = checked_numel(batch);
  if (batches == 0 || M == 0 || N == 0) return;
  const float* pa = a.data<float>();
  const float* pb = b.data<float>();
  float* py = y.data<float>();
  if (rb == 2) {  // B is shared: A's batch axes are just more rows
    kiln_sgemm(0, 0, batches * M, N, K, 1.0f, pa, K, pb, N, 0.0f, py, N, nullptr, ctx.pool);
    return;
  }
  auto one = [&](int64_t bi, ThreadPool* pool) {
    int64_t oa = 0, ob = 0, rest = bi;
    for (int64_t i = rbatch - 1; i >= 0; --i) {
      const int64_t idx = rest % batch[static_cast<size_t>(i)];
      rest /= batch[static_cast<size_t>(i)];
      oa += idx * a_stride[static_cast<size_t>(i)];
      ob += idx * b_stride[static_cast<size_t>(i)];
    }
    kiln_sgemm(0, 0, M, N, K, 1.0f, pa + oa, K, pb + ob, N, 0.0f, py + bi * M * N, N, nullptr, pool);
  };
  // Many small products: one per task across the pool; few large ones: the pool inside each.
  ThreadPool* pool = ctx.pool;
  if (pool && pool->num_threads() > 1 && batches >= pool->num_threads() &&
      M * N * K < (int64_t{1} << 20)) {
    pool->parallel_for(batches, [&](int64_t b0, int64_t b1) {
      for (int64_t i = b0; i < b1; ++i) one(i, nullptr);
    });
  } else {
    for (int64_t i = 0; i < batches; ++i) one(i, pool);
  }
}

}  // namespace kiln::cpu
