// Scalar helpers for the reduction, scan and selection reference kernels: exact conversions
// to and from double, NaN tests on any element type, and integer arithmetic that wraps
// (modulo 2^bits, like numpy) instead of overflowing into undefined behaviour.
#pragma once

#include <cmath>
#include <cstdint>
#include <limits>
#include <type_traits>

#include "runtime/kernels/ref/ref_util.h"

namespace kiln::ref {

template <typename T>
inline constexpr bool is_float_v = std::is_floating_point_v<compute_t<T>>;

template <typename T>
double to_f64(T v) {
  return static_cast<double>(static_cast<compute_t<T>>(v));
}

// Floats round to T; integers truncate toward zero and saturate, NaN gives 0 (a plain cast of
// an out-of-range double to an integer is undefined behaviour).
template <typename T>
T from_f64(double v) {
  if constexpr (std::is_same_v<T, bool>) {
    return v != 0;
  } else if constexpr (is_float_v<T>) {
    return static_cast<T>(static_cast<compute_t<T>>(v));
  } else {
    if (std::isnan(v)) return T(0);
    if (v <= static_cast<double>(std::numeric_limits<T>::lowest())) {
      return std::numeric_limits<T>::lowest();
    }
    if (v >= static_cast<double>(std::numeric_limits<T>::max())) {
      return std::numeric_limits<T>::max();
    }
    return static_cast<T>(v);
  }
}

template <typename T>
bool is_nan_value(T v) {
  if constexpr (is_float_v<T>) {
    return std::isnan(static_cast<compute_t<T>>(v));
  } else {
    (void)v;
    return false;
  }
}

// Integers as uint64 (sign-extended); + and * on these, truncated back, match T's wrapping math.
template <typename T>
uint64_t to_wrap(T v) {
  if constexpr (std::is_signed_v<T>) {
    return static_cast<uint64_t>(static_cast<int64_t>(v));
  } else {
    return static_cast<uint64_t>(v);
  }
}
template <typename T>
T from_wrap(uint64_t v) {
  return static_cast<T>(v);  // modular conversion (well defined since C++20)
}

}  // namespace kiln::ref
