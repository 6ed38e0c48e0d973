// Reference kernel of KilnAttention: the unfused chain MatMul -> scale -> Add mask -> Softmax ->
// MatMul computed row by row, rounding to T where the unfused graph stores a tensor (after
// each product, the scale and the mask), so it matches the unfused reference kernels up to
// the order of the final products' sums. Products accumulate as ref MatMul does (compute_t),
// softmax in double as ref Softmax does.
#include <cmath>

#include "runtime/kernels/ref/attention_geom.h"
#include "runtime/kernels/ref/matmul_util.h"
#include "runtime/kernels/ref/reduce_math.h"

namespace kiln {

void ref_KilnAttention(KernelContext& ctx) {
  const ref::AttentionGeom g = ref::attention_geom(ctx);
  const Tensor &q = ctx.input(0), &kt = ctx.input(1), &v = ctx.input(2);
  Tensor& y = ctx.output(0);
  dispatch_dtype(q.dtype(), "KilnAttention", [&]<typename T>() {
    if constexpr (!ref::is_float_v<T>) {
      ctx.fail("input must be a float tensor, got ", q.describe());
    } else {
      using Acc = ref::matmul_acc_t<T>;
      const T *pq = q.data<T>(), *pk = kt.data<T>(), *pv = v.data<T>();
      const T* pm = g.has_mask ? ctx.input(3).data<T>() : nullptr;
      T* py = y.data<T>();
      std::vector<T> s(static_cast<size_t>(g.N));
      std::vector<double> e(static_cast<size_t>(g.N));
      for (int64_t b = 0; b < g.batch; ++b) {
        const T* qb = pq + b * g.M * g.D;
        const T* kb = pk + b * g.D * g.N;
        const T* vb = pv + b * g.N * g.Dv;
        for (int64_t i = 0; i < g.M; ++i) {
          for (int64_t j = 0; j < g.N; ++j) {
            Acc acc = 0;
            for (int64_t d = 0; d < g.D; ++d)
              acc += static_cast<Acc>(qb[i * g.D + d]) * static_cast<Acc>(kb[d * g.N + j]);
            const Acc raw = static_cast<Acc>(static_cast<T>(acc));
            const Acc sc = static_cast<Acc>(g.scale);
            T x = static_cast<T>(g.divide ? raw / sc : raw * sc);
            if (pm) {
              const T mv = pm[g.mask_batch_offset[static_cast<size_t>(b)] + i * g.mask_row_stride +
                              j * g.mask_col_stride];
              x = static_cast<T>(static_cast<Acc>(x) + static_cast<Acc>(mv));
            }
            s[static_cast<size_t>(j)] = x;
          }
          double mx = -INFINITY;
          for (int64_t j = 0; j < g.N; ++j) mx = std::max(mx, ref::to_f64(s[static_cast<size_t>(j)]));
          double sum = 0;
          for (int64_t j = 0; j < g.N; ++j) {
            e[static_cast<size_t>(j)] = std::exp(ref::to_f64(s[static_cast<size_t>(j)]) - mx);
            sum += e[static_cast<size_t>(j)];
          }
          for (int64_t j = 0; j < g.N; ++j)
            s[static_cast<size_t>(j)] = ref::from_f64<T>(e[static_cast<size_t>(j)] / sum);
          for (int64_t c = 0; c < g.Dv; ++c) {
            Acc acc = 0;
            for (int64_t j = 0; j < g.N; ++j)
              acc += static_cast<Acc>(s[static_cast<size_t>(j)]) * static_cast<Acc>(vb[j * g.Dv + c]);
            py[(b * g.M + i) * g.Dv + c] = static_cast<T>(acc);
          }
        }
      }
    }
  });
}

}  // namespace kiln
