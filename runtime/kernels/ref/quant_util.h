// Helpers shared by the quantized kernels (QuantizeLinear, QLinearMatMul, QLinearConv,
// MatMulInteger, ConvInteger, DynamicQuantizeLinear): rounding, saturation, and expanding a
// scale / zero-point tensor onto the shape of the operand it describes.
#pragma once

#include <cmath>
#include <cstdint>
#include <limits>
#include <vector>

#include "runtime/kernels/ref/ref_util.h"

namespace kiln::ref {

// Rounds half to even (ONNX's rule), then saturates into Q's range; NaN becomes 0.
template <typename Q>
Q saturate_round(double v) {
  if (std::isnan(v)) return Q{0};
  const double r = std::nearbyint(v);  // default rounding mode: nearest, ties to even
  constexpr double lo = static_cast<double>(std::numeric_limits<Q>::min());
  constexpr double hi = static_cast<double>(std::numeric_limits<Q>::max());
  if (r <= lo) return std::numeric_limits<Q>::min();
  if (r >= hi) return std::numeric_limits<Q>::max();
  return static_cast<Q>(r);
}

// Saturates an already integral value into Q's range.
template <typename Q>
Q saturate(int64_t v) {
  if (v < static_cast<int64_t>(std::numeric_limits<Q>::min())) return std::numeric_limits<Q>::min();
  if (v > static_cast<int64_t>(std::numeric_limits<Q>::max())) return std::numeric_limits<Q>::max();
  return static_cast<Q>(v);
}

// Expands a quantization parameter `p` (scale or zero point) onto `target` dims: one value
// broadcasts everywhere; a 1-D tensor is per row ([len, 1], when `vector_is_rows` and target
// has rank >= 2) or per last-axis entry ([len]); otherwise p must broadcast one way to target.
// Returns one value per target element, read through `get(p, flat_index)`.
template <typename V, typename Get>
std::vector<V> expand_param(const Tensor& p, const Dims& target, bool vector_is_rows,
                            const char* what, Get get) {
  const int64_t n = checked_numel(target);
  if (p.numel() == 1) return std::vector<V>(static_cast<size_t>(n), get(p, 0));
  Dims pd = p.dims();
  if (pd.size() == 1 && vector_is_rows && target.size() >= 2) pd.push_back(1);
  const bool fits = pd.size() <= target.size() && broadcast_dims(pd, target) == target;
  if (!fits) {
    fail(what, " of shape ", dims_to_string(p.dims()), " does not fit its operand of shape ",
         dims_to_string(target));
  }
  std::vector<V> out(static_cast<size_t>(n));
  MultiIndex it(target, {broadcast_strides(pd, target)});
  for (int64_t i = 0; i < n; ++i, it.next()) out[static_cast<size_t>(i)] = get(p, it.offset(0));
  return out;
}

inline std::vector<int64_t> expand_ints(const Tensor* p, const Dims& target, bool rows,
                                        const char* what) {
  if (!p) return std::vector<int64_t>(static_cast<size_t>(checked_numel(target)), 0);
  return expand_param<int64_t>(*p, target, rows, what,
                               [](const Tensor& t, int64_t i) { return t.as_int64(i); });
}

inline std::vector<double> expand_doubles(const Tensor& p, const Dims& target, bool rows,
                                          const char* what) {
  return expand_param<double>(p, target, rows, what,
                              [](const Tensor& t, int64_t i) { return t.as_double(i); });
}

// x - zero_point as int32, with the zero point expanded as above (absent = 0).
inline std::vector<int32_t> subtract_zero_point(const Tensor& x, const Tensor* zp, bool rows,
                                                const char* what) {
  const std::vector<int64_t> z = expand_ints(zp, x.dims(), rows, what);
  std::vector<int32_t> out(static_cast<size_t>(x.numel()));
  for (int64_t i = 0; i < x.numel(); ++i) {
    out[static_cast<size_t>(i)] = static_cast<int32_t>(x.as_int64(i) - z[static_cast<size_t>(i)]);
  }
  return out;
}

// A 1-D per-channel parameter viewed as [len, 1, ..., 1] (rank `rank`), so it expands along
// the leading axis (Conv weights' output channels); anything else is returned unchanged.
inline Tensor leading_axis_view(const Tensor& p, int64_t rank) {
  if (p.rank() != 1 || p.numel() == 1 || rank < 1) return p;
  Dims d(static_cast<size_t>(rank), 1);
  d[0] = p.numel();
  return p.reshaped(d);
}

}  // namespace kiln::ref
