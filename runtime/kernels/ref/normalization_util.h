// Helpers shared by the normalization and pooling reference kernels: float-only dtype
// dispatch, loading a float tensor of any precision into an accumulator vector, storing back
// with one rounding per element, and the per-row mean/variance.
#pragma once

#include <algorithm>
#include <cmath>
#include <limits>
#include <vector>

#include "ir/tensor.h"
#include "runtime/kernels/ref/ref_util.h"

namespace kiln::ref {

// Calls fn.template operator()<T>() for the four float types only (so integer paths of
// float-only kernels are never instantiated).
template <typename Fn>
decltype(auto) dispatch_float(DType dtype, const char* what, Fn&& fn) {
  switch (dtype) {
    case DType::F32: return fn.template operator()<float>();
    case DType::F64: return fn.template operator()<double>();
    case DType::F16: return fn.template operator()<half>();
    case DType::BF16: return fn.template operator()<bfloat16>();
    default: fail_unsupported(what, ": dtype ", dtype_name(dtype), " is not a float type");
  }
}

// The elements of a float tensor (any precision) converted to Acc.
template <typename Acc>
std::vector<Acc> load_as(const Tensor& t) {
  std::vector<Acc> out(static_cast<size_t>(t.numel()));
  dispatch_float(t.dtype(), "load", [&]<typename T>() {
    const T* p = t.data<T>();
    for (size_t i = 0; i < out.size(); ++i) {
      out[i] = static_cast<Acc>(static_cast<compute_t<T>>(p[i]));
    }
  });
  return out;
}

// Writes `v` into float tensor `t` (same element count), rounding each value to t's dtype.
template <typename Acc>
void store_from(Tensor& t, const std::vector<Acc>& v) {
  KILN_CHECK(static_cast<size_t>(t.numel()) == v.size(), "store_from: ", v.size(),
             " values for ", t.describe());
  dispatch_float(t.dtype(), "store", [&]<typename T>() {
    T* p = t.data<T>();
    for (size_t i = 0; i < v.size(); ++i) p[i] = T(static_cast<compute_t<T>>(v[i]));
  });
}

// `v` rounded to a 16-bit stash_type (f16/bf16); wider stash types keep the accumulator's
// precision (f64 data is never narrowed to float).
template <typename Acc>
Acc round_to(DType dt, Acc v) {
  switch (dt) {
    case DType::F16: return static_cast<Acc>(static_cast<float>(half(static_cast<float>(v))));
    case DType::BF16:
      return static_cast<Acc>(static_cast<float>(bfloat16(static_cast<float>(v))));
    default: return v;
  }
}

// Accumulate in double when any of the given dtypes is f64, else in float.
inline bool wants_double(std::initializer_list<DType> types) {
  for (DType t : types)
    if (t == DType::F64) return true;
  return false;
}

template <typename Acc>
struct Moments {
  Acc mean = 0;
  Acc var = 0;  // population variance
};

// Mean and population variance of x[0..n) (two passes; NaN for an empty row).
template <typename Acc>
Moments<Acc> moments(const Acc* x, int64_t n) {
  if (n <= 0) return {std::numeric_limits<Acc>::quiet_NaN(), std::numeric_limits<Acc>::quiet_NaN()};
  Acc sum = 0;
  for (int64_t i = 0; i < n; ++i) sum += x[i];
  Moments<Acc> m;
  m.mean = sum / static_cast<Acc>(n);
  Acc sq = 0;
  for (int64_t i = 0; i < n; ++i) sq += (x[i] - m.mean) * (x[i] - m.mean);
  m.var = sq / static_cast<Acc>(n);
  return m;
}

// Product of dims[begin, end), failing on overflow (a zero elsewhere in the shape does not
// stop a sub-product from overflowing).
inline int64_t dims_product(const Dims& dims, size_t begin, size_t end) {
  end = std::min(end, dims.size());
  if (begin >= end) return 1;
  return checked_numel(Dims(dims.begin() + static_cast<std::ptrdiff_t>(begin),
                            dims.begin() + static_cast<std::ptrdiff_t>(end)));
}

}  // namespace kiln::ref
