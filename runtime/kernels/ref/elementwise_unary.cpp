// Reference kernels for the unary elementwise ops: one small functor per op, applied by the
// generic map_unary loop. Functors take the compute type C (float for f16/bf16/f32, double for
// f64, the integer type itself for integers) and return the value to store.
#include <cmath>
#include <cstring>
#include <limits>
#include <string>

#include "runtime/kernels/ref/elementwise_loops.h"

namespace kiln {

namespace {

using ref::compute_t;
using ref::is_float_v;

// Same dtype in and out; the functor is instantiated only for the dtypes in Set.
template <unsigned Set, typename F>
void unary_kernel(KernelContext& ctx, const F& f) {
  const Tensor& x = ctx.input(0);
  Tensor& y = ctx.output(0, x.dims());
  ref::dispatch_set<Set>(ctx, x.dtype(), [&]<typename T>() { ref::map_unary<T, T>(x, y, f); });
}

// Float in, bool out (IsNaN, IsInf).
template <typename F>
void predicate_kernel(KernelContext& ctx, const F& f) {
  const Tensor& x = ctx.input(0);
  Tensor& y = ctx.output(0, x.dims());
  ref::dispatch_set<ref::kFloats>(ctx, x.dtype(),
                                  [&]<typename T>() { ref::map_unary<T, bool>(x, y, f); });
}

// NaN-preserving clamp to [0, 1] (std::min/max would turn NaN into a bound).
template <typename C>
C clamp01(C v) {
  return v < C(0) ? C(0) : (v > C(1) ? C(1) : v);
}

template <typename C>
C sigmoid(C x) {
  if (x >= C(0)) return C(1) / (C(1) + std::exp(-x));
  const C e = std::exp(x);
  return e / (C(1) + e);
}

// log(1 + e^x) without overflow for large x.
template <typename C>
C softplus(C x) {
  return x > C(0) ? x + std::log1p(std::exp(-x)) : std::log1p(std::exp(x));
}

// For ops that take integers too but compute in floating point (numpy promotes to double).
template <typename C>
using real_t = std::conditional_t<is_float_v<C>, C, double>;

float attr_f(const KernelContext& ctx, const char* name, float def) {
  return ctx.attr().get_float(name, def);
}

}  // namespace

namespace fn {

#define KILN_FLOAT_FN(Name, expr)            \
  struct Name {                              \
    template <typename C>                    \
    C operator()(C x) const {                \
      return expr;                           \
    }                                        \
  };
KILN_FLOAT_FN(Floor, std::floor(x))
KILN_FLOAT_FN(Ceil, std::ceil(x))
KILN_FLOAT_FN(Round, std::nearbyint(x))  // default rounding mode: half to even
KILN_FLOAT_FN(Sqrt, std::sqrt(x))
KILN_FLOAT_FN(Reciprocal, C(1) / x)
KILN_FLOAT_FN(Exp, std::exp(x))
KILN_FLOAT_FN(Log, std::log(x))
KILN_FLOAT_FN(Sin, std::sin(x))
KILN_FLOAT_FN(Cos, std::cos(x))
KILN_FLOAT_FN(Tan, std::tan(x))
KILN_FLOAT_FN(Asin, std::asin(x))
KILN_FLOAT_FN(Acos, std::acos(x))
KILN_FLOAT_FN(Atan, std::atan(x))
KILN_FLOAT_FN(Sinh, std::sinh(x))
KILN_FLOAT_FN(Cosh, std::cosh(x))
KILN_FLOAT_FN(Asinh, std::asinh(x))
KILN_FLOAT_FN(Acosh, std::acosh(x))
KILN_FLOAT_FN(Atanh, std::atanh(x))
KILN_FLOAT_FN(Tanh, std::tanh(x))
KILN_FLOAT_FN(Sigmoid, sigmoid(x))
KILN_FLOAT_FN(Softsign, x / (C(1) + std::fabs(x)))
KILN_FLOAT_FN(Softplus, softplus(x))
KILN_FLOAT_FN(HardSwish, x * clamp01(x / C(6) + C(0.5)))
KILN_FLOAT_FN(Mish, x * std::tanh(softplus(x)))
#undef KILN_FLOAT_FN

struct Abs {
  template <typename C>
  C operator()(C x) const {
    if constexpr (is_float_v<C>) return std::fabs(x);
    else if constexpr (std::is_signed_v<C>) return x < 0 ? ref::wrap_neg(x) : x;  // |INT_MIN| wraps
    else return x;
  }
};

struct Neg {
  template <typename C>
  C operator()(C x) const {
    if constexpr (is_float_v<C>) return -x;
    else return ref::wrap_neg(x);
  }
};

struct Sign {
  template <typename C>
  C operator()(C x) const {
    if (x > C(0)) return C(1);
    if constexpr (std::is_signed_v<C> || is_float_v<C>) {
      if (x < C(0)) return C(-1);
    }
    return x;  // zero (keeps -0.0) or NaN
  }
};

struct Relu {
  template <typename C>
  C operator()(C x) const { return x < C(0) ? C(0) : x; }
};

struct Erf {  // integer inputs (opset 9) compute in double and truncate
  template <typename C>
  real_t<C> operator()(C x) const { return std::erf(static_cast<real_t<C>>(x)); }
};

struct Not {
  bool operator()(bool x) const { return !x; }
};

struct BitwiseNot {
  template <typename C>
  C operator()(C x) const { return static_cast<C>(~x); }
};

struct IsNaN {
  template <typename C>
  bool operator()(C x) const { return std::isnan(x); }
};

struct IsInf {
  bool neg, pos;
  template <typename C>
  bool operator()(C x) const { return std::isinf(x) && (x < C(0) ? neg : pos); }
};

struct HardSigmoid {
  float alpha, beta;
  template <typename C>
  C operator()(C x) const { return clamp01(C(alpha) * x + C(beta)); }
};

struct Elu {
  float alpha;
  template <typename C>
  C operator()(C x) const { return x < C(0) ? C(alpha) * std::expm1(x) : x; }
};

struct Selu {
  float alpha, gamma;
  template <typename C>
  C operator()(C x) const {
    return x > C(0) ? C(gamma) * x : C(gamma) * (C(alpha) * std::exp(x) - C(alpha));
  }
};

struct Celu {
  float alpha;
  template <typename C>
  C operator()(C x) const { return x > C(0) ? x : C(alpha) * std::expm1(x / C(alpha)); }
};

struct LeakyRelu {
  float alpha;
  template <typename C>
  C operator()(C x) const { return x < C(0) ? C(alpha) * x : x; }
};

struct ThresholdedRelu {
  float alpha;
  template <typename C>
  C operator()(C x) const { return x > C(alpha) ? x : C(0); }
};

// Floats compare and add in their own type; integers in double, then truncate (as numpy does).
struct Shrink {
  float lambd, bias;
  template <typename C>
  real_t<C> operator()(C x) const {
    using R = real_t<C>;
    const R v = static_cast<R>(x), l = static_cast<R>(lambd), b = static_cast<R>(bias);
    return v < -l ? v + b : (v > l ? v - b : R(0));
  }
};

struct Gelu {
  bool tanh_approx;
  template <typename C>
  C operator()(C x) const {
    if (tanh_approx) {
      const C k = static_cast<C>(0.79788456080286535588);  // sqrt(2/pi)
      return C(0.5) * x * (C(1) + std::tanh(k * (x + C(0.044715) * x * x * x)));
    }
    return C(0.5) * x * (C(1) + std::erf(x * static_cast<C>(0.70710678118654752440)));
  }
};

struct Swish {
  float alpha;
  template <typename C>
  C operator()(C x) const { return x * sigmoid(C(alpha) * x); }
};

// NaN stays NaN; min > max gives max everywhere (min(max(x, lo), hi)).
template <typename C>
struct Clip {
  C lo, hi;
  C operator()(C x) const {
    const C v = x < lo ? lo : x;
    return v > hi ? hi : v;
  }
};

}  // namespace fn

#define KILN_UNARY_KERNEL(Name, Set, ...) \
  void ref_##Name(KernelContext& ctx) { unary_kernel<Set>(ctx, fn::Name{__VA_ARGS__}); }
KILN_UNARY_KERNEL(Abs, ref::kNumeric)
KILN_UNARY_KERNEL(Neg, ref::kFloats | ref::kSigned)
KILN_UNARY_KERNEL(Floor, ref::kFloats)
KILN_UNARY_KERNEL(Ceil, ref::kFloats)
KILN_UNARY_KERNEL(Round, ref::kFloats)
KILN_UNARY_KERNEL(Sqrt, ref::kFloats)
KILN_UNARY_KERNEL(Reciprocal, ref::kFloats)
KILN_UNARY_KERNEL(Exp, ref::kFloats)
KILN_UNARY_KERNEL(Log, ref::kFloats)
KILN_UNARY_KERNEL(Sin, ref::kFloats)
KILN_UNARY_KERNEL(Cos, ref::kFloats)
KILN_UNARY_KERNEL(Tan, ref::kFloats)
KILN_UNARY_KERNEL(Asin, ref::kFloats)
KILN_UNARY_KERNEL(Acos, ref::kFloats)
KILN_UNARY_KERNEL(Atan, ref::kFloats)
KILN_UNARY_KERNEL(Sinh, ref::kFloats)
KILN_UNARY_KERNEL(Cosh, ref::kFloats)
KILN_UNARY_KERNEL(Asinh, ref::kFloats)
KILN_UNARY_KERNEL(Acosh, ref::kFloats)
KILN_UNARY_KERNEL(Atanh, ref::kFloats)
KILN_UNARY_KERNEL(Tanh, ref::kFloats)
KILN_UNARY_KERNEL(Sigmoid, ref::kFloats)
KILN_UNARY_KERNEL(Relu, ref::kFloats | ref::kSigned)
KILN_UNARY_KERNEL(Erf, ref::kNumeric)
KILN_UNARY_KERNEL(Sign, ref::kNumeric)
KILN_UNARY_KERNEL(Not, ref::kBools)
KILN_UNARY_KERNEL(BitwiseNot, ref::kInts)
KILN_UNARY_KERNEL(Softsign, ref::kFloats)
KILN_UNARY_KERNEL(Softplus, ref::kFloats)
KILN_UNARY_KERNEL(HardSwish, ref::kFloats)
KILN_UNARY_KERNEL(Mish, ref::kFloats)
KILN_UNARY_KERNEL(HardSigmoid, ref::kFloats, attr_f(ctx, "alpha", 0.2f), attr_f(ctx, "beta", 0.5f))
KILN_UNARY_KERNEL(Elu, ref::kFloats, attr_f(ctx, "alpha", 1.0f))
KILN_UNARY_KERNEL(Selu, ref::kFloats, attr_f(ctx, "alpha", 1.67326319217681884765625f),
                  attr_f(ctx, "gamma", 1.05070102214813232421875f))
KILN_UNARY_KERNEL(Celu, ref::kFloats, attr_f(ctx, "alpha", 1.0f))
KILN_UNARY_KERNEL(LeakyRelu, ref::kFloats, attr_f(ctx, "alpha", 0.01f))
KILN_UNARY_KERNEL(ThresholdedRelu, ref::kFloats, attr_f(ctx, "alpha", 1.0f))
KILN_UNARY_KERNEL(Shrink, ref::kNumeric, attr_f(ctx, "lambd", 0.5f), attr_f(ctx, "bias", 0.0f))
KILN_UNARY_KERNEL(Gelu, ref::kFloats, ctx.attr().get_string("approximate", "none") == "tanh")
KILN_UNARY_KERNEL(Swish, ref::kFloats, attr_f(ctx, "alpha", 1.0f))
#undef KILN_UNARY_KERNEL

void ref_IsNaN(KernelContext& ctx) { predicate_kernel(ctx, fn::IsNaN{}); }

void ref_IsInf(KernelContext& ctx) {
  predicate_kernel(ctx, fn::IsInf{ctx.attr().get_int("detect_negative", 1) != 0,
                                  ctx.attr().get_int("detect_positive", 1) != 0});
}

void ref_Identity(KernelContext& ctx) {
  const Tensor& x = ctx.input(0);
  Tensor& y = ctx.output(0, x.dims());
  ctx.check(y.dtype() == x.dtype(), "output dtype ", dtype_name(y.dtype()), " differs from input ",
            dtype_name(x.dtype()));
  if (x.nbytes() > 0) std::memcpy(y.raw(), x.raw(), x.nbytes());
}

namespace {

// A Clip bound from attribute value `v` for compute type C. Integers round inward (ceil for the
// lower bound, floor for the upper), which is exact for integer x, and saturate to C's range.
template <typename C>
C clip_bound_from_attr(double v, bool lower) {
  if constexpr (is_float_v<C>) {
    return static_cast<C>(v);
  } else {
    constexpr C lo = std::numeric_limits<C>::lowest(), hi = std::numeric_limits<C>::max();
    if (std::isnan(v)) return lower ? lo : hi;
    const double r = lower ? std::ceil(v) : std::floor(v);
    if (r <= static_cast<double>(lo)) return lo;
    if (r >= static_cast<double>(hi)) return hi;
    return static_cast<C>(r);
  }
}

}  // namespace

// Bounds: input (opset 11+) > attribute (opset 6) > default. Opset 6 defaults to +-FLT_MAX.
void ref_Clip(KernelContext& ctx) {
  const Tensor& x = ctx.input(0);
  Tensor& y = ctx.output(0, x.dims());
  ref::dispatch_set<ref::kNumeric>(ctx, x.dtype(), [&]<typename T>() {
    using C = compute_t<T>;
    auto bound = [&](size_t input, const char* name, bool lower) -> C {
      if (ctx.has_input(input)) {
        const Tensor& b = ctx.input(input);
        ctx.check(b.dtype() == x.dtype() && b.numel() == 1, name, " must be a ",
                  dtype_name(x.dtype()), " scalar, got ", b.describe());
        return static_cast<C>(b.data<T>()[0]);
      }
      if (ctx.attr().has(name)) return clip_bound_from_attr<C>(ctx.attr().get_float(name, 0), lower);
      if (ctx.opset < 11 && is_float_v<C>) {
        const double m = std::numeric_limits<float>::max();
        return clip_bound_from_attr<C>(lower ? -m : m, lower);
      }
      return lower ? std::numeric_limits<C>::lowest() : std::numeric_limits<C>::max();
    };
    const fn::Clip<C> f{bound(1, "min", true), bound(2, "max", false)};
    ref::map_unary<T, T>(x, y, f);
  });
}

}  // namespace kiln
