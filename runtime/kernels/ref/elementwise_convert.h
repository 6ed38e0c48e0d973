// Element conversions with defined results for every pair of Kiln dtypes (no undefined
// behaviour on overflow or NaN), and wrap-around integer arithmetic. Used by Cast and by every
// elementwise kernel to store its computed value.
#pragma once

#include <cmath>
#include <cstdint>
#include <cstring>
#include <limits>
#include <type_traits>

#include "ir/dtype.h"

namespace kiln::ref {

template <typename T>
inline constexpr bool is_half_v = std::is_same_v<T, half> || std::is_same_v<T, bfloat16>;
template <typename T>
inline constexpr bool is_float_v = std::is_floating_point_v<T> || is_half_v<T>;
template <typename T>
inline constexpr bool is_int_v = std::is_integral_v<T> && !std::is_same_v<T, bool>;

// Rounds `d` to float with round-to-odd. A following round-to-nearest to half or bfloat16 then
// equals a direct double->half rounding (float keeps more than 2p+2 bits), avoiding the double
// rounding that double->float->half would suffer.
inline float round_to_odd_float(double d) {
  float f = static_cast<float>(d);
  if (static_cast<double>(f) != d && !std::isnan(d)) {
    uint32_t bits;
    std::memcpy(&bits, &f, 4);
    if ((bits & 1u) == 0) {
      f = std::nextafter(f, d > static_cast<double>(f) ? std::numeric_limits<float>::infinity()
                                                         : -std::numeric_limits<float>::infinity());
    }
  }
  return f;
}

// Float -> integer: truncates toward zero. NaN gives 0; values within int64 range wrap modulo
// 2^bits like numpy's astype on x86; values beyond int64 (and uint64) range saturate.
template <typename I, typename F>
I float_to_int(F v) {
  const double d = static_cast<double>(v);
  if (std::isnan(d)) return I(0);
  const double t = std::trunc(d);
  constexpr double kTwo63 = 9223372036854775808.0;
  if (t >= -kTwo63 && t < kTwo63) return static_cast<I>(static_cast<int64_t>(t));
  if constexpr (std::is_same_v<I, uint64_t>) {
    if (t >= 0 && t < 2 * kTwo63) return static_cast<uint64_t>(t);
  }
  return t < 0 ? std::numeric_limits<I>::min() : std::numeric_limits<I>::max();
}

// Converts one value of any Kiln element type (or compute type) to `To`.
template <typename To, typename From>
To convert(From v) {
  if constexpr (std::is_same_v<To, From>) {
    return v;
  } else if constexpr (is_half_v<From>) {
    return convert<To>(static_cast<float>(v));
  } else if constexpr (std::is_same_v<To, bool>) {
    return v != From(0);  // NaN is true, as in numpy
  } else if constexpr (std::is_same_v<From, bool>) {
    return convert<To>(static_cast<uint8_t>(v ? 1 : 0));
  } else if constexpr (is_half_v<To>) {
    if constexpr (std::is_same_v<From, float> || (is_int_v<From> && sizeof(From) <= 2)) {
      return To(static_cast<float>(v));  // exact or single rounding
    } else {
      return To(round_to_odd_float(static_cast<double>(v)));
    }
  } else if constexpr (std::is_floating_point_v<To>) {
    return static_cast<To>(v);  // IEEE: correctly rounded
  } else if constexpr (std::is_floating_point_v<From>) {
    return float_to_int<To>(v);
  } else {
    return static_cast<To>(v);  // integer -> integer: modulo 2^bits (C++20)
  }
}

// Integer arithmetic modulo 2^bits, computed in uint64 so no signed overflow can happen.
template <typename T>
T wrap_add(T a, T b) {
  return static_cast<T>(static_cast<uint64_t>(a) + static_cast<uint64_t>(b));
}
template <typename T>
T wrap_sub(T a, T b) {
  return static_cast<T>(static_cast<uint64_t>(a) - static_cast<uint64_t>(b));
}
template <typename T>
T wrap_mul(T a, T b) {
  return static_cast<T>(static_cast<uint64_t>(a) * static_cast<uint64_t>(b));
}
template <typename T>
T wrap_neg(T a) {
  return static_cast<T>(uint64_t{0} - static_cast<uint64_t>(a));
}

}  // namespace kiln::ref
