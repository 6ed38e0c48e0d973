// Shared pieces of the selection and scan reference kernels (ArgMax/ArgMin, TopK, Hardmax,
// CumSum/CumProd): the outer x axis x inner view of a tensor along one axis, and an element
// order in which NaN is the largest value, as numpy's argmax/sort treat it.
#pragma once

#include <algorithm>
#include <cstdint>

#include "ir/tensor.h"
#include "runtime/kernels/ref/reduce_math.h"

namespace kiln::ref {

// A tensor seen as [outer, n, inner] around `axis`: element (o, j, i) is at (o*n + j)*inner + i.
struct AxisView {
  int64_t outer = 1, n = 1, inner = 1;
  // Splits before `axis`; axis == rank gives n = 1. The parts are overflow-checked separately:
  // a tensor with a 0 dim can have parts whose product does not fit in int64.
  static AxisView of(const Dims& dims, int64_t axis) {
    const auto split = dims.begin() + std::min<int64_t>(axis, static_cast<int64_t>(dims.size()));
    AxisView v;
    v.outer = checked_numel(Dims(dims.begin(), split));
    if (split != dims.end()) {
      v.n = *split;
      v.inner = checked_numel(Dims(split + 1, dims.end()));
    }
    return v;
  }
  // The 2-D view [prod(dims[:axis]), prod(dims[axis:])] (Softmax before opset 13).
  static AxisView flattened_at(const Dims& dims, int64_t axis) {
    const auto split = dims.begin() + std::min<int64_t>(axis, static_cast<int64_t>(dims.size()));
    AxisView v;
    v.outer = checked_numel(Dims(dims.begin(), split));
    v.n = checked_numel(Dims(split, dims.end()));
    return v;
  }
  int64_t at(int64_t o, int64_t j, int64_t i) const { return (o * n + j) * inner + i; }
};

// a > b in the order where NaN is above +inf and all NaNs are equal (a strict weak order).
template <typename T>
bool greater_nan_top(T a, T b) {
  const bool na = is_nan_value(a), nb = is_nan_value(b);
  if (na || nb) return na && !nb;
  return static_cast<compute_t<T>>(a) > static_cast<compute_t<T>>(b);
}
template <typename T>
bool less_nan_top(T a, T b) {
  return greater_nan_top(b, a);
}

// Index of the max (or min) of the n elements p[0], p[stride], ...; ties go to the first one,
// or the last one with `last`. NaN wins either way (numpy's argmax and argmin both pick it).
template <typename T>
int64_t arg_extreme(const T* p, int64_t n, int64_t stride, bool is_max, bool last) {
  int64_t best = 0;
  for (int64_t j = 1; j < n; ++j) {
    const T v = p[j * stride], b = p[best * stride];
    bool take;
    if (is_nan_value(b)) {
      take = last && is_nan_value(v);
    } else if (is_nan_value(v)) {
      take = true;
    } else {
      const bool strictly = is_max ? greater_nan_top(v, b) : less_nan_top(v, b);
      const bool tie = !greater_nan_top(v, b) && !less_nan_top(v, b);
      take = strictly || (last && tie);
    }
    if (take) best = j;
  }
  return best;
}

}  // namespace kiln::ref
