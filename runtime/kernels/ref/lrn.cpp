// Reference kernels that normalize along one axis by a norm of neighbouring values:
// LRN (sum of squares over a window of channels) and LpNormalization (L1/L2 norm of a line).
#include <algorithm>

#include "runtime/kernels/ref/kernel.h"
#include "runtime/kernels/ref/normalization_util.h"

namespace kiln {

namespace {

// Y[n,c,...] = X[n,c,...] / (bias + alpha/size * sum_{i in window(c)} X[n,i,...]^2)^beta,
// window(c) = [c - floor((size-1)/2), c + ceil((size-1)/2)] clipped to [0, C).
template <typename Acc>
void lrn(KernelContext& ctx) {
  const Tensor& xt = ctx.input(0);
  const Dims& dims = xt.dims();
  const int64_t n = dims[0], c = dims[1];
  const int64_t s = ref::dims_product(dims, 2, dims.size());
  const int64_t size = ctx.attr().get_int("size");
  const Acc alpha = static_cast<Acc>(ctx.attr().get_float("alpha", 1e-4f));
  const Acc beta = static_cast<Acc>(ctx.attr().get_float("beta", 0.75f));
  const Acc bias = static_cast<Acc>(ctx.attr().get_float("bias", 1.0f));
  const int64_t before = (size - 1) / 2;
  const int64_t after = size - 1 - before;  // ceil((size-1)/2)
  const std::vector<Acc> x = ref::load_as<Acc>(xt);
  std::vector<Acc> y(x.size());
  for (int64_t b = 0; b < (x.empty() ? 0 : n); ++b) {
    for (int64_t ch = 0; ch < c; ++ch) {
      const int64_t lo = std::max<int64_t>(0, ch - before);
      const int64_t hi = std::min<int64_t>(c - 1, ch + after);
      for (int64_t k = 0; k < s; ++k) {
        Acc sq = 0;
        for (int64_t i = lo; i <= hi; ++i) {
          const Acc v = x[static_cast<size_t>((b * c + i) * s + k)];
          sq += v * v;
        }
        const size_t at = static_cast<size_t>((b * c + ch) * s + k);
        y[at] = x[at] / std::pow(bias + alpha / static_cast<Acc>(size) * sq, beta);
      }
    }
  }
  ref::store_from(ctx.output(0), y);
}

// X viewed as [outer, len, inner]; each line along `axis` is divided by its Lp norm
// (a zero norm gives zeros, not NaN).
template <typename Acc>
void lp_normalization(KernelContext& ctx) {
  const Tensor& xt = ctx.input(0);
  const Dims& dims = xt.dims();
  const int64_t rank = xt.rank();
  int64_t axis = ctx.attr().get_int("axis", -1);
  if (axis < 0) axis += rank;
  ctx.check(axis >= 0 && axis < rank, "axis ", ctx.attr().get_int("axis", -1),
            " is out of range for rank ", rank);
  const int64_t p = ctx.attr().get_int("p", 2);
  ctx.check(p == 1 || p == 2, "p must be 1 or 2, got ", p);
  const size_t ax = static_cast<size_t>(axis);
  const int64_t outer = ref::dims_product(dims, 0, ax);
  const int64_t len = dims[ax];
  const int64_t inner = ref::dims_product(dims, ax + 1, dims.size());
  const std::vector<Acc> x = ref::load_as<Acc>(xt);
  std::vector<Acc> y(x.size());
  for (int64_t o = 0; o < (x.empty() ? 0 : outer); ++o) {
    for (int64_t in = 0; in < inner; ++in) {
      auto at = [&](int64_t i) { return static_cast<size_t>((o * len + i) * inner + in); };
      Acc norm = 0;
      for (int64_t i = 0; i < len; ++i) norm += p == 1 ? std::fabs(x[at(i)]) : x[at(i)] * x[at(i)];
      if (p == 2) norm = std::sqrt(norm);
      for (int64_t i = 0; i < len; ++i) y[at(i)] = norm == Acc(0) ? Acc(0) : x[at(i)] / norm;
    }
  }
  ref::store_from(ctx.output(0), y);
}

}  // namespace

void ref_LRN(KernelContext& ctx) {
  if (ref::wants_double({ctx.input(0).dtype()})) {
    lrn<double>(ctx);
  } else {
    lrn<float>(ctx);
  }
}

void ref_LpNormalization(KernelContext& ctx) {
  if (ref::wants_double({ctx.input(0).dtype()})) {
    lp_normalization<double>(ctx);
  } else {
    lp_normalization<float>(ctx);
  }
}

}  // namespace kiln
