// Reference kernels for the broadcasting elementwise ops: binary arithmetic, comparisons and
// logic, Pow, Mod, BitShift, PRelu, Where and the variadic Max/Min/Sum/Mean. One functor per op
// over compute-type operands, applied by the broadcast walk in elementwise_loops.h.
#include <cmath>
#include <limits>
#include <string>

#include "runtime/kernels/ref/elementwise_loops.h"

namespace kiln {

namespace {

using ref::compute_t;
using ref::is_float_v;
using ref::is_int_v;

// Same dtype in, output dtype from inference (same, or bool for comparisons).
template <unsigned Set, bool BoolOut = false, typename F>
void binary_kernel(KernelContext& ctx, const F& f) {
  const Tensor& a = ctx.input(0);
  const Tensor& b = ctx.input(1);
  ctx.check(a.dtype() == b.dtype(), "inputs have different dtypes: ", a.describe(), " and ",
            b.describe());
  Tensor& y = ctx.output(0, ref::broadcast_dims(a.dims(), b.dims()));
  ref::dispatch_set<Set>(ctx, a.dtype(), [&]<typename T>() {
    using Out = std::conditional_t<BoolOut, bool, T>;
    ref::map_binary<T, T, Out>(a, b, y, f);
  });
}

}  // namespace

namespace fn {

struct Add {
  template <typename C>
  C operator()(C a, C b) const {
    if constexpr (is_int_v<C>) return ref::wrap_add(a, b);
    else return a + b;
  }
};

struct Sub {
  template <typename C>
  C operator()(C a, C b) const {
    if constexpr (is_int_v<C>) return ref::wrap_sub(a, b);
    else return a - b;
  }
};

struct Mul {
  template <typename C>
  C operator()(C a, C b) const {
    if constexpr (is_int_v<C>) return ref::wrap_mul(a, b);
    else return a * b;
  }
};

// Integer division truncates toward zero (as the ONNX reference does); INT_MIN / -1 wraps.
struct Div {
  const KernelContext* ctx;
  template <typename C>
  C operator()(C a, C b) const {
    if constexpr (is_float_v<C>) {
      return a / b;
    } else {
      if (b == 0) ctx->fail("integer division by zero");
      if constexpr (std::is_signed_v<C>) {
        if (b == -1) return ref::wrap_neg(a);
      }
      return static_cast<C>(a / b);
    }
  }
};

// fmod=1: C fmod (sign of the dividend); fmod=0: Python % (sign of the divisor).
struct Mod {
  const KernelContext* ctx;
  bool c_fmod;
  template <typename C>
  C operator()(C a, C b) const {
    if constexpr (is_float_v<C>) {
      return std::fmod(a, b);
    } else {
      if (b == 0) ctx->fail("integer modulo by zero");
      if constexpr (std::is_signed_v<C>) {
        if (b == -1) return C(0);  // avoids INT_MIN % -1
        C r = static_cast<C>(a % b);
        if (!c_fmod && r != 0 && ((r < 0) != (b < 0))) r = static_cast<C>(r + b);
        return r;
      } else {
        return static_cast<C>(a % b);
      }
    }
  }
};

struct BitShift {
  bool left;
  template <typename C>
  C operator()(C a, C b) const {
    if (b >= static_cast<C>(sizeof(C) * 8)) return C(0);  // numpy: shifting out every bit gives 0
    const uint64_t v = static_cast<uint64_t>(a);
    return static_cast<C>(left ? v << b : v >> b);
  }
};

#define KILN_BINARY_FN(Name, expr)      \
  struct Name {                         \
    template <typename C>               \
    auto operator()(C a, C b) const {   \
      return expr;                      \
    }                                   \
  };
KILN_BINARY_FN(And, a && b)
KILN_BINARY_FN(Or, a || b)
KILN_BINARY_FN(Xor, a != b)
KILN_BINARY_FN(BitwiseAnd, static_cast<C>(a & b))
KILN_BINARY_FN(BitwiseOr, static_cast<C>(a | b))
KILN_BINARY_FN(BitwiseXor, static_cast<C>(a ^ b))
KILN_BINARY_FN(Equal, a == b)
KILN_BINARY_FN(Less, a < b)
KILN_BINARY_FN(Greater, a > b)
KILN_BINARY_FN(LessOrEqual, a <= b)
KILN_BINARY_FN(GreaterOrEqual, a >= b)
#undef KILN_BINARY_FN

// NaN-propagating, like numpy.maximum / numpy.minimum.
struct Max {
  template <typename C>
  C operator()(C a, C b) const {
    if constexpr (is_float_v<C>) {
      if (std::isnan(a)) return a;
      if (std::isnan(b)) return b;
    }
    return a < b ? b : a;
  }
};

struct Min {
  template <typename C>
  C operator()(C a, C b) const {
    if constexpr (is_float_v<C>) {
      if (std::isnan(a)) return a;
      if (std::isnan(b)) return b;
    }
    return b < a ? b : a;
  }
};

// Integer base and exponent: exact power modulo 2^bits by squaring. A negative exponent gives
// the truncated real result (0 unless |base| == 1); zero to a negative power fails. Any float
// operand: computed in double, then stored in the base's dtype (as numpy's power + astype).
struct Pow {
  const KernelContext* ctx;
  template <typename A, typename B>
  auto operator()(A base, B e) const {
    if constexpr (is_int_v<A> && is_int_v<B>) {
      if constexpr (std::is_signed_v<B>) {
        if (e < 0) {
          if (base == 0) ctx->fail("integer 0 raised to the negative power ", e);
          if (base == 1) return A(1);
          if constexpr (std::is_signed_v<A>) {
            if (base == -1) return (static_cast<uint64_t>(e) & 1u) ? A(-1) : A(1);
          }
          return A(0);
        }
      }
      uint64_t result = 1, sq = static_cast<uint64_t>(base), n = static_cast<uint64_t>(e);
      for (; n != 0; n >>= 1) {
        if (n & 1u) result *= sq;
        sq *= sq;
      }
      return static_cast<A>(result);
    } else {
      return std::pow(static_cast<double>(base), static_cast<double>(e));
    }
  }
};

}  // namespace fn

#define KILN_BINARY_KERNEL(Name, Set, BoolOut, ...) \
  void ref_##Name(KernelContext& ctx) { binary_kernel<Set, BoolOut>(ctx, fn::Name{__VA_ARGS__}); }
KILN_BINARY_KERNEL(Add, ref::kNumeric, false)
KILN_BINARY_KERNEL(Sub, ref::kNumeric, false)
KILN_BINARY_KERNEL(Mul, ref::kNumeric, false)
KILN_BINARY_KERNEL(Div, ref::kNumeric, false, &ctx)
KILN_BINARY_KERNEL(Mod, ref::kNumeric, false, &ctx, ctx.attr().get_int("fmod", 0) != 0)
KILN_BINARY_KERNEL(BitShift, ref::kUnsigned, false,
                   ctx.attr().get_string("direction", "") == "LEFT")
KILN_BINARY_KERNEL(And, ref::kBools, false)
KILN_BINARY_KERNEL(Or, ref::kBools, false)
KILN_BINARY_KERNEL(Xor, ref::kBools, false)
KILN_BINARY_KERNEL(BitwiseAnd, ref::kInts, false)
KILN_BINARY_KERNEL(BitwiseOr, ref::kInts, false)
KILN_BINARY_KERNEL(BitwiseXor, ref::kInts, false)
KILN_BINARY_KERNEL(Equal, ref::kNumeric | ref::kBools, true)
KILN_BINARY_KERNEL(Less, ref::kNumeric, true)
KILN_BINARY_KERNEL(Greater, ref::kNumeric, true)
KILN_BINARY_KERNEL(LessOrEqual, ref::kNumeric, true)
KILN_BINARY_KERNEL(GreaterOrEqual, ref::kNumeric, true)
#undef KILN_BINARY_KERNEL

void ref_Pow(KernelContext& ctx) {
  const Tensor& x = ctx.input(0);
  const Tensor& e = ctx.input(1);
  Tensor& y = ctx.output(0, ref::broadcast_dims(x.dims(), e.dims()));
  const fn::Pow f{&ctx};
  ref::dispatch_set<ref::kNumeric>(ctx, x.dtype(), [&]<typename A>() {
    ref::dispatch_set<ref::kNumeric>(ctx, e.dtype(),
                                     [&]<typename B>() { ref::map_binary<A, B, A>(x, e, y, f); });
  });
}

// PRelu: y = x < 0 ? slope * x : x, slope broadcast to X (unidirectionally), or a 1-D slope
// applied along the single dim of X of the same length.
void ref_PRelu(KernelContext& ctx) {
  const Tensor& x = ctx.input(0);
  const Tensor& slope = ctx.input(1);
  ctx.check(x.dtype() == slope.dtype(), "slope dtype ", dtype_name(slope.dtype()),
            " differs from X's ", dtype_name(x.dtype()));
  const Dims& xd = x.dims();
  Dims sd = slope.dims();
  bool broadcasts = sd.size() <= xd.size();
  for (size_t i = 0; broadcasts && i < sd.size(); ++i) {
    const int64_t s = sd[sd.size() - 1 - i], d = xd[xd.size() - 1 - i];
    broadcasts = s == 1 || s == d;
  }
  if (!broadcasts) {
    size_t matches = 0, axis = 0;
    for (size_t i = 0; sd.size() == 1 && i < xd.size(); ++i) {
      if (xd[i] == sd[0]) ++matches, axis = i;
    }
    ctx.check(matches == 1, "slope ", dims_to_string(sd), " does not broadcast to X ",
              dims_to_string(xd));
    sd.assign(xd.size(), 1);  // the same contiguous values, viewed along `axis`
    sd[axis] = xd[axis];
  }
  Tensor& y = ctx.output(0, xd);
  ref::dispatch_set<ref::kFloats | ref::kInts>(ctx, x.dtype(), [&]<typename T>() {
    using C = compute_t<T>;
    const T* px = x.data<T>();
    const T* ps = slope.data<T>();
    T* py = y.data<T>();
    ref::for_each_broadcast(xd, {xd, sd}, [&](int64_t i, const ref::MultiIndex& it) {
      const C v = static_cast<C>(px[it.offset(0)]);
      py[i] = v < C(0) ? ref::convert<T>(fn::Mul{}(static_cast<C>(ps[it.offset(1)]), v))
                       : px[it.offset(0)];
    });
  });
}

void ref_Where(KernelContext& ctx) {
  const Tensor& c = ctx.input(0);
  const Tensor& a = ctx.input(1);
  const Tensor& b = ctx.input(2);
  ctx.check(c.dtype() == DType::Bool, "condition must be bool, got ", c.describe());
  ctx.check(a.dtype() == b.dtype(), "X and Y dtypes differ: ", a.describe(), " vs ", b.describe());
  Tensor& y = ctx.output(0, ref::broadcast_all({&c, &a, &b}));
  ref::dispatch_set<ref::kAnyType>(ctx, a.dtype(), [&]<typename T>() {
    const bool* pc = c.data<bool>();
    const T* pa = a.data<T>();
    const T* pb = b.data<T>();
    T* py = y.data<T>();
    ref::for_each_broadcast(y.dims(), {c.dims(), a.dims(), b.dims()},
                            [&](int64_t i, const ref::MultiIndex& it) {
                              py[i] = pc[it.offset(0)] ? pa[it.offset(1)] : pb[it.offset(2)];
                            });
  });
}

namespace {

// Folds every input into a compute-type accumulator over the broadcast shape; Mean divides
// by the input count at the end.
template <unsigned Set, typename F>
void variadic_kernel(KernelContext& ctx, const F& f, bool mean) {
  std::vector<const Tensor*> ins;
  for (size_t i = 0; i < ctx.num_inputs(); ++i) ins.push_back(&ctx.input(i));
  for (const Tensor* t : ins) {
    ctx.check(t->dtype() == ins[0]->dtype(), "inputs have different dtypes: ",
              ins[0]->describe(), " and ", t->describe());
  }
  Tensor& y = ctx.output(0, ref::broadcast_all(ins));
  ref::dispatch_set<Set>(ctx, y.dtype(), [&]<typename T>() {
    using C = compute_t<T>;
    std::vector<C> acc(static_cast<size_t>(y.numel()));
    for (size_t k = 0; k < ins.size(); ++k) {
      const T* p = ins[k]->data<T>();
      ref::for_each_broadcast(y.dims(), {ins[k]->dims()}, [&](int64_t i, const ref::MultiIndex& it) {
        const C v = static_cast<C>(p[it.offset(0)]);
        C& a = acc[static_cast<size_t>(i)];
        a = k == 0 ? v : f(a, v);
      });
    }
    T* py = y.data<T>();
    for (size_t i = 0; i < acc.size(); ++i) {
      C v = acc[i];
      if constexpr (is_float_v<C>) {
        if (mean) v /= static_cast<C>(ins.size());
      }
      py[i] = ref::convert<T>(v);
    }
  });
}

}  // namespace

void ref_Max(KernelContext& ctx) { variadic_kernel<ref::kNumeric>(ctx, fn::Max{}, false); }
void ref_Min(KernelContext& ctx) { variadic_kernel<ref::kNumeric>(ctx, fn::Min{}, false); }
void ref_Sum(KernelContext& ctx) { variadic_kernel<ref::kFloats>(ctx, fn::Add{}, false); }
void ref_Mean(KernelContext& ctx) { variadic_kernel<ref::kFloats>(ctx, fn::Add{}, true); }

}  // namespace kiln
