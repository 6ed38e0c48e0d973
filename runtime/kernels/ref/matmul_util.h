// The one batched matrix-product loop (numpy matmul semantics) behind MatMul, MatMulInteger
// and QLinearMatMul; Gemm and Einsum have their own index maps but the same accumulate rule.
#pragma once

#include <cstdint>
#include <vector>

#include "runtime/kernels/ref/ref_util.h"

namespace kiln::ref {

struct MatMulGeom {
  Dims batch;  // broadcast batch dims
  int64_t M = 1, K = 1, N = 1;
  std::vector<int64_t> a_stride;  // batch strides into A (0 where broadcast)
  std::vector<int64_t> b_stride;  // batch strides into B
};

// Geometry of A @ B with 1-D promotion; fails on mismatched inner or batch dims.
inline MatMulGeom matmul_geom(const Dims& a_in, const Dims& b_in) {
  KILN_CHECK(!a_in.empty() && !b_in.empty(), "matmul operands must have rank >= 1");
  Dims a = a_in, b = b_in;
  if (a.size() == 1) a.insert(a.begin(), 1);
  if (b.size() == 1) b.push_back(1);
  MatMulGeom g;
  g.M = a[a.size() - 2];
  g.K = a[a.size() - 1];
  g.N = b[b.size() - 1];
  KILN_CHECK(b[b.size() - 2] == g.K, "inner dimensions differ: ", dims_to_string(a_in), " and ",
             dims_to_string(b_in));
  const Dims ab(a.begin(), a.end() - 2), bb(b.begin(), b.end() - 2);
  g.batch = broadcast_dims(ab, bb);
  g.a_stride = broadcast_strides(ab, g.batch);
  g.b_stride = broadcast_strides(bb, g.batch);
  for (int64_t& s : g.a_stride) s *= g.M * g.K;
  for (int64_t& s : g.b_stride) s *= g.K * g.N;
  return g;
}

// For every output element: acc = sum_k load_a(ia) * load_b(ib), where ia/ib are flat indices
// into A and B; then store(out_index, a_row_index, b_col_index, acc). a_row_index is the flat
// A index of (batch, m, 0) and b_col_index that of B's (batch, 0, n): per-row / per-column
// parameters (zero points, scales) expanded to A's / B's shape are read there.
template <typename Acc, typename LoadA, typename LoadB, typename Store>
void matmul_loop(const MatMulGeom& g, LoadA load_a, LoadB load_b, Store store) {
  MultiIndex it(g.batch, {g.a_stride, g.b_stride});
  const int64_t batches = checked_numel(g.batch);
  int64_t out = 0;
  for (int64_t bi = 0; bi < batches; ++bi, it.next()) {
    const int64_t a0 = it.offset(0), b0 = it.offset(1);
    for (int64_t m = 0; m < g.M; ++m) {
      for (int64_t n = 0; n < g.N; ++n, ++out) {
        Acc acc{};
        for (int64_t k = 0; k < g.K; ++k) {
          acc += load_a(a0 + m * g.K + k) * load_b(b0 + k * g.N + n);
        }
        store(out, a0 + m * g.K, b0 + n, acc);
      }
    }
  }
}

// Accumulator of a matrix product over T: float for f16/bf16/f32, double for f64, and for
// integers uint64_t, which wraps (two's complement) instead of overflowing into UB; casting the
// sum back to T gives numpy's wrapped result.
template <typename T>
using matmul_acc_t = std::conditional_t<std::is_integral_v<T>, uint64_t, compute_t<T>>;

}  // namespace kiln::ref
