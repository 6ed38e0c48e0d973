// Reference kernels for OneHot, NonZero, Compress, Unique (data-dependent selection).
#include <algorithm>
#include <cmath>
#include <cstring>
#include <numeric>

#include "runtime/kernels/ref/ref_util.h"
#include "runtime/kernels/ref/shape_kernel_util.h"

namespace kiln {

namespace {

int64_t prod(const Dims& dims, size_t from, size_t to) {
  int64_t p = 1;
  for (size_t i = from; i < to; ++i) p *= dims[i];
  return p;
}

}  // namespace

void ref_OneHot(KernelContext& ctx) {
  const Tensor& idx = ctx.input(0);
  const Tensor& values = ctx.input(2);
  Tensor& out = ctx.output(0);
  ctx.check(values.numel() == 2, "values must hold [off, on], got ", values.describe());
  const int64_t r = out.rank();
  const size_t axis =
      static_cast<size_t>(norm_axis(ref::op_args(ctx), ctx.attr().get_int("axis", -1), r));
  const int64_t depth = out.dims()[axis];
  const int64_t outer = prod(idx.dims(), 0, axis);
  const int64_t inner = prod(idx.dims(), axis, idx.dims().size());
  for (int64_t o = 0; o < outer; ++o) {
    for (int64_t d = 0; d < depth; ++d) {
      for (int64_t i = 0; i < inner; ++i) {
        // Indices may be float; non-finite or out-of-range ones select nothing (all off).
        const double v = idx.as_double(o * inner + i);
        bool hot = false;
        if (std::isfinite(v) && std::fabs(v) <= static_cast<double>(depth)) {
          int64_t k = static_cast<int64_t>(v);
          if (k < 0) k += depth;
          hot = k == d;
        }
        ref::copy_bytes(out, (o * depth + d) * inner + i, values, hot ? 1 : 0);
      }
    }
  }
}

void ref_NonZero(KernelContext& ctx) {
  const Tensor& in = ctx.input(0);
  std::vector<int64_t> hits;
  for (int64_t i = 0; i < in.numel(); ++i) {
    if (in.as_double(i) != 0.0) hits.push_back(i);
  }
  const int64_t r = in.rank(), n = static_cast<int64_t>(hits.size());
  Tensor& out = ctx.output(0, {r, n});
  const std::vector<int64_t> st = ref::strides_of(in.dims());
  int64_t* o = out.data<int64_t>();
  for (int64_t k = 0; k < n; ++k) {
    int64_t rem = hits[static_cast<size_t>(k)];
    for (int64_t a = 0; a < r; ++a) {
      o[a * n + k] = rem / st[static_cast<size_t>(a)];
      rem %= st[static_cast<size_t>(a)];
    }
  }
}

void ref_Compress(KernelContext& ctx) {
  const Tensor& in = ctx.input(0);
  const Tensor& cond = ctx.input(1);
  const bool has_axis = ctx.attr().has("axis");
  const size_t axis =
      has_axis
          ? static_cast<size_t>(norm_axis(ref::op_args(ctx), ctx.attr().get_int("axis"), in.rank()))
          : 0;
  const int64_t D = has_axis ? in.dims()[axis] : in.numel();
  ctx.check(cond.numel() <= D, "condition has ", cond.numel(), " entries for ", D,
            has_axis ? " slices" : " elements");
  std::vector<int64_t> keep;
  for (int64_t i = 0; i < cond.numel(); ++i) {
    if (cond.as_int64(i) != 0) keep.push_back(i);
  }
  const int64_t n = static_cast<int64_t>(keep.size());
  if (!has_axis) {
    Tensor& out = ctx.output(0, {n});
    for (int64_t k = 0; k < n; ++k) ref::copy_bytes(out, k, in, keep[static_cast<size_t>(k)]);
    return;
  }
  Dims od = in.dims();
  od[axis] = n;
  Tensor& out = ctx.output(0, od);
  const int64_t outer = prod(in.dims(), 0, axis);
  const int64_t inner = prod(in.dims(), axis + 1, in.dims().size());
  for (int64_t o = 0; o < outer; ++o)
    for (int64_t k = 0; k < n; ++k)
      for (int64_t i = 0; i < inner; ++i) {
        ref::copy_bytes(out, (o * n + k) * inner + i, in,
                        (o * D + keep[static_cast<size_t>(k)]) * inner + i);
      }
}

// Unique over "units": single elements (no axis) or slices along `axis`.
void ref_Unique(KernelContext& ctx) {
  const Tensor& in = ctx.input(0);
  const bool has_axis = ctx.attr().has("axis");
  const bool sorted = ctx.attr().get_int("sorted", 1) != 0;
  const size_t axis =
      has_axis
          ? static_cast<size_t>(norm_axis(ref::op_args(ctx), ctx.attr().get_int("axis"), in.rank()))
          : 0;
  const int64_t D = has_axis ? in.dims()[axis] : in.numel();  // number of units
  const int64_t outer = has_axis ? prod(in.dims(), 0, axis) : 1;
  const int64_t inner = has_axis ? prod(in.dims(), axis + 1, in.dims().size()) : 1;
  // Flat input offset of element e (= o * inner + i) of unit k.
  auto at = [&](int64_t k, int64_t e) { return ((e / inner) * D + k) * inner + e % inner; };
  const int64_t unit_len = outer * inner;

  // Lexicographic three-way compare of two units; NaN sorts last and equals NaN.
  auto compare = [&](int64_t a, int64_t b) -> int {
    return dispatch_dtype(in.dtype(), "Unique", [&]<typename T>() -> int {
      using C = ref::compute_t<T>;
      const T* x = in.data<T>();
      for (int64_t e = 0; e < unit_len; ++e) {
        const C u = static_cast<C>(x[at(a, e)]), v = static_cast<C>(x[at(b, e)]);
        if constexpr (std::is_floating_point_v<C>) {
          const bool nu = std::isnan(u), nv = std::isnan(v);
          if (nu || nv) {
            if (nu != nv) return nu ? 1 : -1;
            continue;
          }
        }
        if (u < v) return -1;
        if (v < u) return 1;
      }
      return 0;
    });
  };
  std::vector<int64_t> order(static_cast<size_t>(D));
  std::iota(order.begin(), order.end(), 0);
  std::stable_sort(order.begin(), order.end(),
                   [&](int64_t a, int64_t b) { return compare(a, b) < 0; });

  // Groups of equal units, in sorted order; first = smallest original index (stable sort).
  std::vector<int64_t> first, counts;
  std::vector<int64_t> group_of(static_cast<size_t>(D));
  for (size_t p = 0; p < order.size(); ++p) {
    if (p == 0 || compare(order[p - 1], order[p]) != 0) {
      first.push_back(order[p]);
      counts.push_back(0);
    }
    ++counts.back();
    group_of[static_cast<size_t>(order[p])] = static_cast<int64_t>(first.size()) - 1;
  }
  const int64_t G = static_cast<int64_t>(first.size());
  // rank[g] = output position of group g.
  std::vector<int64_t> rank(static_cast<size_t>(G));
  std::iota(rank.begin(), rank.end(), 0);
  if (!sorted) {
    std::vector<int64_t> by_first(static_cast<size_t>(G));
    std::iota(by_first.begin(), by_first.end(), 0);
    std::sort(by_first.begin(), by_first.end(), [&](int64_t a, int64_t b) {
      return first[static_cast<size_t>(a)] < first[static_cast<size_t>(b)];
    });
    for (int64_t p = 0; p < G; ++p) rank[static_cast<size_t>(by_first[static_cast<size_t>(p)])] = p;
  }

  Dims yd = has_axis ? in.dims() : Dims{G};
  if (has_axis) yd[axis] = G;
  Tensor& y = ctx.output(0, yd);
  for (int64_t g = 0; g < G; ++g) {
    const int64_t pos = rank[static_cast<size_t>(g)];
    for (int64_t e = 0; e < unit_len; ++e) {
      ref::copy_bytes(y, ((e / inner) * G + pos) * inner + e % inner, in,
                      at(first[static_cast<size_t>(g)], e));
    }
  }
  if (ctx.wants_output(1)) {
    int64_t* o = ctx.output(1, {G}).data<int64_t>();
    for (int64_t g = 0; g < G; ++g) o[rank[static_cast<size_t>(g)]] = first[static_cast<size_t>(g)];
  }
  if (ctx.wants_output(2)) {
    int64_t* o = ctx.output(2, {D}).data<int64_t>();
    for (int64_t k = 0; k < D; ++k) {
      o[k] = rank[static_cast<size_t>(group_of[static_cast<size_t>(k)])];
    }
  }
  if (ctx.wants_output(3)) {
    int64_t* o = ctx.output(3, {G}).data<int64_t>();
    for (int64_t g = 0; g < G; ++g)
      o[rank[static_cast<size_t>(g)]] = counts[static_cast<size_t>(g)];
  }
}

}  // namespace kiln
