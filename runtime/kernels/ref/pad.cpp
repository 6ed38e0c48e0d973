// Reference kernel for Pad: constant / reflect / edge / wrap modes, negative pads crop.
#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>

#include "runtime/kernels/ref/ref_util.h"
#include "runtime/kernels/ref/shape_kernel_util.h"

namespace kiln {

namespace {

int64_t floor_mod(int64_t a, int64_t m) {
  const int64_t r = a % m;
  return r < 0 ? r + m : r;
}

// Maps output position p (in input coordinates, i.e. already minus the begin pad) onto the
// kept input range [lo, hi); returns -1 for "use the constant".
int64_t source_index(PadMode mode, int64_t p, int64_t lo, int64_t hi) {
  if (p >= lo && p < hi) return p;
  const int64_t m = hi - lo;
  switch (mode) {
    case PadMode::Constant:
      return -1;
    case PadMode::Edge:
      return p < lo ? lo : hi - 1;
    case PadMode::Wrap:
      return lo + floor_mod(p - lo, m);
    case PadMode::Reflect: {
      if (m == 1) return lo;
      const int64_t period = 2 * (m - 1);
      const int64_t q = floor_mod(p - lo, period);
      return lo + (q < m ? q : period - q);
    }
  }
  return -1;
}

// The pre-opset-11 float `value` attribute as a T; saturating for integers (no UB).
template <typename T>
T from_float(float v) {
  if constexpr (std::is_same_v<T, bool>) {
    return v != 0.0f;
  } else if constexpr (std::is_integral_v<T>) {
    if (std::isnan(v)) return T(0);
    const double d = std::clamp<double>(v, static_cast<double>(std::numeric_limits<T>::min()),
                                        static_cast<double>(std::numeric_limits<T>::max()));
    // max() of 64-bit types rounds up to 2^63 / 2^64 in double: stay strictly below.
    if (d >= static_cast<double>(std::numeric_limits<T>::max())) {
      return std::numeric_limits<T>::max();
    }
    return static_cast<T>(d);
  } else {
    return static_cast<T>(v);
  }
}

}  // namespace

void ref_Pad(KernelContext& ctx) {
  const OpArgs args = ref::op_args(ctx);
  const Tensor& in = ctx.input(0);
  Tensor& out = ctx.output(0);
  const PadMode mode = pad_mode(args);
  const std::vector<int64_t> pads = *pad_amounts(args, in.rank());
  const size_t r = static_cast<size_t>(in.rank());

  // The fill value, as one element of the output dtype.
  Tensor fill(out.dtype(), {});
  if (ctx.opset >= 11) {
    if (ctx.has_input(2) && ctx.input(2).numel() > 0) ref::copy_bytes(fill, 0, ctx.input(2), 0);
  } else {
    const float v = ctx.attr().get_float("value", 0.0f);
    dispatch_dtype(out.dtype(), "Pad", [&]<typename T>() { fill.data<T>()[0] = from_float<T>(v); });
  }

  std::vector<int64_t> lo(r), hi(r);
  for (size_t a = 0; a < r; ++a) {
    lo[a] = std::max<int64_t>(0, -pads[a]);
    hi[a] = in.dims()[a] - std::max<int64_t>(0, -pads[a + r]);
    ctx.check(mode == PadMode::Constant || hi[a] > lo[a] || out.dims()[a] == 0 ||
                  (pads[a] <= 0 && pads[a + r] <= 0),
              "cannot pad axis ", a, ": no data left to copy from");
  }
  const std::vector<int64_t> st = ref::strides_of(in.dims());
  ref::MultiIndex it(out.dims(), {});
  for (int64_t i = 0; i < out.numel(); ++i, it.next()) {
    int64_t src = 0;
    for (size_t a = 0; a < r && src >= 0; ++a) {
      const int64_t s = source_index(mode, it.index()[a] - pads[a], lo[a], hi[a]);
      src = s < 0 ? -1 : src + s * st[a];
    }
    if (src < 0) {
      ref::copy_bytes(out, i, fill, 0);
    } else {
      ref::copy_bytes(out, i, in, src);
    }
  }
}

}  // namespace kiln
