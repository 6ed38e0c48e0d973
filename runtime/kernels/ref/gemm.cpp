// Gemm: Y = alpha * op(A) @ op(B) + beta * C, op = optional transpose, C broadcast one way.
#include <cmath>
#include <limits>

#include "runtime/kernels/ref/kernel.h"
#include "runtime/kernels/ref/matmul_util.h"

namespace kiln {

namespace {

// Truncates toward zero like numpy's astype, saturating instead of invoking UB.
template <typename T>
T truncate_to(double v) {
  if (std::isnan(v)) return T{0};
  constexpr double lo = static_cast<double>(std::numeric_limits<T>::min());
  constexpr double hi = static_cast<double>(std::numeric_limits<T>::max());
  if (v <= lo) return std::numeric_limits<T>::min();
  if (v >= hi) return std::numeric_limits<T>::max();
  return static_cast<T>(v);
}

}  // namespace

void ref_Gemm(KernelContext& ctx) {
  const Tensor& a = ctx.input(0);
  const Tensor& b = ctx.input(1);
  const Tensor* c = ctx.has_input(2) ? &ctx.input(2) : nullptr;
  const bool ta = ctx.attr().get_int("transA", 0) != 0;
  const bool tb = ctx.attr().get_int("transB", 0) != 0;
  const float alpha = ctx.attr().get_float("alpha", 1.0f);
  const float beta = ctx.attr().get_float("beta", 1.0f);
  ctx.check(a.rank() == 2 && b.rank() == 2, "A and B must be 2-D, got ", a.describe(), " and ",
            b.describe());
  const int64_t M = ta ? a.dim(1) : a.dim(0);
  const int64_t K = ta ? a.dim(0) : a.dim(1);
  const int64_t N = tb ? b.dim(0) : b.dim(1);
  ctx.check((tb ? b.dim(1) : b.dim(0)) == K, "inner dimensions differ: ", a.describe(), " and ",
            b.describe());
  // Strides that read op(A)[m, k] and op(B)[k, n] from the stored layouts.
  const int64_t am = ta ? 1 : a.dim(1), ak = ta ? a.dim(1) : 1;
  const int64_t bk = tb ? 1 : b.dim(1), bn = tb ? b.dim(1) : 1;
  const Dims mn = {M, N};
  std::vector<int64_t> cs;
  if (c) {
    ctx.check(c->rank() <= 2 && ref::broadcast_dims(c->dims(), mn) == mn, "C ", c->describe(),
              " does not broadcast to ", dims_to_string(mn));
    cs = ref::broadcast_strides(c->dims(), mn);
  }
  Tensor& y = ctx.output(0);
  dispatch_dtype(a.dtype(), "Gemm", [&]<typename T>() {
    if constexpr (std::is_same_v<T, bool>) {
      ctx.fail("dtype bool is not supported");
    } else {
      using Acc = ref::matmul_acc_t<T>;
      const T* pa = a.data<T>();
      const T* pb = b.data<T>();
      const T* pc = c ? c->data<T>() : nullptr;
      T* py = y.data<T>();
      for (int64_t m = 0; m < M; ++m) {
        for (int64_t n = 0; n < N; ++n) {
          Acc acc{};
          for (int64_t k = 0; k < K; ++k) {
            acc += static_cast<Acc>(pa[m * am + k * ak]) * static_cast<Acc>(pb[k * bk + n * bn]);
          }
          const bool use_c = pc && beta != 0.0f;
          const T cv = use_c ? pc[m * cs[0] + n * cs[1]] : T{};
          if constexpr (std::is_integral_v<T>) {
            if (alpha == 1.0f && (beta == 1.0f || !use_c)) {
              py[m * N + n] = static_cast<T>(acc + (use_c ? static_cast<Acc>(cv) : Acc{0}));
            } else {
              const double v = static_cast<double>(static_cast<T>(acc)) * alpha +
                               (use_c ? static_cast<double>(cv) * beta : 0.0);
              py[m * N + n] = truncate_to<T>(v);
            }
          } else {
            Acc v = acc * static_cast<Acc>(alpha);
            if (use_c) v += static_cast<Acc>(cv) * static_cast<Acc>(beta);
            py[m * N + n] = static_cast<T>(v);
          }
        }
      }
    }
  });
}

}  // namespace kiln
