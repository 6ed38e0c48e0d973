// The generic loops behind every elementwise reference kernel: dtype dispatch restricted to a
// set of type classes, one unary map, and one broadcasting walk. Each op supplies only a functor.
#pragma once

#include <array>
#include <vector>

#include "runtime/kernels/ref/elementwise_convert.h"
#include "runtime/kernels/ref/kernel.h"
#include "runtime/kernels/ref/ref_util.h"

namespace kiln::ref {

// Type classes a kernel is instantiated for.
enum TypeSet : unsigned {
  kFloats = 1,
  kSigned = 2,
  kUnsigned = 4,
  kBools = 8,
  kInts = kSigned | kUnsigned,
  kNumeric = kFloats | kInts,
  kAnyType = kNumeric | kBools,
};

template <typename T>
constexpr bool in_type_set(unsigned set) {
  if constexpr (is_float_v<T>) return (set & kFloats) != 0;
  else if constexpr (std::is_same_v<T, bool>) return (set & kBools) != 0;
  else if constexpr (std::is_signed_v<T>) return (set & kSigned) != 0;
  else return (set & kUnsigned) != 0;
}

// Calls fn.template operator()<T>() for the C++ type of `dt` if it is in `Set`, else fails.
template <unsigned Set, typename Fn>
void dispatch_set(const KernelContext& ctx, DType dt, Fn&& fn) {
  const std::string what = ctx.where() + "input";
  dispatch_dtype(dt, what.c_str(), [&]<typename T>() {
    if constexpr (in_type_set<T>(Set)) {
      fn.template operator()<T>();
    } else {
      ctx.fail("dtype ", dtype_name(dt), " is not supported");
    }
  });
}

// y[i] = convert<Out>(f(compute_t<In>(x[i]))).
template <typename In, typename Out, typename F>
void map_unary(const Tensor& x, Tensor& y, const F& f) {
  const In* xs = x.data<In>();
  Out* ys = y.data<Out>();
  for (int64_t i = 0; i < x.numel(); ++i) {
    ys[i] = convert<Out>(f(static_cast<compute_t<In>>(xs[i])));
  }
}

// Broadcast shape of several concrete inputs (numpy rules); fails on a mismatch.
inline Dims broadcast_all(const std::vector<const Tensor*>& ins) {
  Dims out = ins.at(0)->dims();
  for (size_t i = 1; i < ins.size(); ++i) out = broadcast_dims(out, ins[i]->dims());
  return out;
}

// Walks every element of `out` in row-major order: f(i, it) with it.offset(k) the element of
// operand k (laid out with dims in_dims[k], broadcast to `out`).
template <typename F>
void for_each_broadcast(const Dims& out, const std::vector<Dims>& in_dims, const F& f) {
  std::vector<std::vector<int64_t>> strides;
  for (const Dims& d : in_dims) strides.push_back(broadcast_strides(d, out));
  MultiIndex it(out, std::move(strides));
  const int64_t n = checked_numel(out);
  for (int64_t i = 0; i < n; ++i, it.next()) f(i, it);
}

// out[i] = convert<O>(f(compute_t<A>(a[..]), compute_t<B>(b[..]))) with numpy broadcasting.
template <typename A, typename B, typename O, typename F>
void map_binary(const Tensor& a, const Tensor& b, Tensor& out, const F& f) {
  const A* pa = a.data<A>();
  const B* pb = b.data<B>();
  O* po = out.data<O>();
  for_each_broadcast(out.dims(), {a.dims(), b.dims()}, [&](int64_t i, const MultiIndex& it) {
    po[i] = convert<O>(f(static_cast<compute_t<A>>(pa[it.offset(0)]),
                         static_cast<compute_t<B>>(pb[it.offset(1)])));
  });
}

}  // namespace kiln::ref
