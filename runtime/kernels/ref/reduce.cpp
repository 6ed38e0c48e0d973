// Reference kernels for the Reduce* family. Every input element is mapped to the output element
// it reduces into; each op is then one accumulate rule and one finishing rule.
// Floats accumulate in double. Integer Sum/Prod/SumSquare/L1/Mean wrap like numpy; integer
// L2/LogSum/LogSumExp go through double and truncate. An empty reduction gives the identity:
// Sum/L1/L2/SumSquare 0, Prod 1, Max -inf (lowest int, false), Min +inf (highest int, true),
// LogSum/LogSumExp -inf, Mean NaN (0 for integers).
#include <cmath>
#include <limits>

#include "ir/infer/reduce_axes.h"
#include "runtime/kernels/ref/kernel.h"
#include "runtime/kernels/ref/reduce_math.h"

namespace kiln {
namespace {

using ref::from_f64;
using ref::from_wrap;
using ref::to_f64;
using ref::to_wrap;

// For each input element (row-major), the flat index of the output element it reduces into.
struct ReduceMap {
  std::vector<int64_t> out_of_in;
  int64_t group = 1;  // input elements per output element
};

ReduceMap map_reduction(const Dims& in, const std::vector<bool>& mask) {
  Dims kept(in.size()), reduced;
  for (size_t d = 0; d < in.size(); ++d) {
    kept[d] = mask[d] ? 1 : in[d];
    if (mask[d]) reduced.push_back(in[d]);
  }
  // With a 0 dim in the input, the kept and reduced products can exceed int64 although the
  // input is empty; an empty input means the group is empty (or there is no output at all).
  const int64_t n = checked_numel(in);
  checked_numel(kept);
  ReduceMap m;
  m.group = n == 0 ? 0 : checked_numel(reduced);
  const std::vector<int64_t> kept_strides = ref::strides_of(kept);
  std::vector<int64_t> strides(in.size());
  for (size_t d = 0; d < in.size(); ++d) strides[d] = mask[d] ? 0 : kept_strides[d];
  m.out_of_in.resize(static_cast<size_t>(n));
  ref::MultiIndex it(in, {strides});
  for (int64_t i = 0; i < n; ++i, it.next()) m.out_of_in[static_cast<size_t>(i)] = it.offset(0);
  return m;
}

// Float inputs, and the integer ops whose result is not an integer formula.
template <typename T>
void reduce_in_double(OpKind op, const T* x, const ReduceMap& m, T* y, int64_t n_out) {
  const double inf = std::numeric_limits<double>::infinity();
  double init = 0;
  if (op == OpKind::ReduceProd) init = 1;
  if (op == OpKind::ReduceMax || op == OpKind::ReduceLogSumExp) init = -inf;
  if (op == OpKind::ReduceMin) init = inf;
  std::vector<double> acc(static_cast<size_t>(n_out), init);
  const size_t n_in = m.out_of_in.size();
  for (size_t i = 0; i < n_in; ++i) {
    double& a = acc[static_cast<size_t>(m.out_of_in[i])];
    const double v = to_f64(x[i]);
    switch (op) {
      case OpKind::ReduceSum:
      case OpKind::ReduceMean:
      case OpKind::ReduceLogSum: a += v; break;
      case OpKind::ReduceProd: a *= v; break;
      case OpKind::ReduceL1: a += std::fabs(v); break;
      case OpKind::ReduceL2:
      case OpKind::ReduceSumSquare: a += v * v; break;
      case OpKind::ReduceMax:
      case OpKind::ReduceLogSumExp:  // first pass: the max, NaN-propagating
        if (std::isnan(v) || v > a) a = v;
        break;
      case OpKind::ReduceMin:
        if (std::isnan(v) || v < a) a = v;
        break;
      default: fail("internal: ", op_name(op), " is not a Reduce op");
    }
  }
  if (op == OpKind::ReduceLogSumExp) {
    // Second pass: sum of exp(v - max). A max of -inf (empty, all -inf) or +inf or NaN is the answer.
    std::vector<double> sum(static_cast<size_t>(n_out), 0.0);
    for (size_t i = 0; i < n_in; ++i) {
      const size_t o = static_cast<size_t>(m.out_of_in[i]);
      if (std::isfinite(acc[o])) sum[o] += std::exp(to_f64(x[i]) - acc[o]);
    }
    for (size_t o = 0; o < acc.size(); ++o) {
      if (std::isfinite(acc[o])) acc[o] = std::log(sum[o]) + acc[o];
    }
  }
  for (size_t o = 0; o < acc.size(); ++o) {
    double r = acc[o];
    if (op == OpKind::ReduceMean) r = r / static_cast<double>(m.group);  // 0/0 = NaN when empty
    if (op == OpKind::ReduceL2) r = std::sqrt(r);
    if (op == OpKind::ReduceLogSum) r = std::log(r);
    y[o] = from_f64<T>(r);
  }
}

template <typename T>
void reduce_int_minmax(bool is_max, const T* x, const ReduceMap& m, T* y, int64_t n_out) {
  std::vector<T> acc(static_cast<size_t>(n_out),
                     is_max ? std::numeric_limits<T>::lowest() : std::numeric_limits<T>::max());
  for (size_t i = 0; i < m.out_of_in.size(); ++i) {
    T& a = acc[static_cast<size_t>(m.out_of_in[i])];
    if (is_max ? x[i] > a : x[i] < a) a = x[i];
  }
  for (size_t o = 0; o < acc.size(); ++o) y[o] = acc[o];
}

// Sum, Mean, Prod, L1, SumSquare on integers, wrapping modulo 2^64 then truncated to T.
template <typename T>
void reduce_int_wrapping(OpKind op, const T* x, const ReduceMap& m, T* y, int64_t n_out) {
  std::vector<uint64_t> acc(static_cast<size_t>(n_out), op == OpKind::ReduceProd ? 1 : 0);
  for (size_t i = 0; i < m.out_of_in.size(); ++i) {
    uint64_t& a = acc[static_cast<size_t>(m.out_of_in[i])];
    const uint64_t v = to_wrap(x[i]);
    switch (op) {
      case OpKind::ReduceSum:
      case OpKind::ReduceMean: a += v; break;
      case OpKind::ReduceProd: a *= v; break;
      case OpKind::ReduceSumSquare: a += v * v; break;
      case OpKind::ReduceL1: {
        uint64_t magnitude = v;
        if constexpr (std::is_signed_v<T>) {
          if (x[i] < T(0)) magnitude = uint64_t(0) - v;
        }
        a += magnitude;
        break;
      }
      default: fail("internal: ", op_name(op), " has no integer wrapping rule");
    }
  }
  for (size_t o = 0; o < acc.size(); ++o) {
    if (op != OpKind::ReduceMean) {
      y[o] = from_wrap<T>(acc[o]);
    } else if (m.group == 0) {
      y[o] = T(0);  // numpy gives NaN, which has no integer value
    } else if constexpr (std::is_signed_v<T>) {
      y[o] = static_cast<T>(static_cast<int64_t>(acc[o]) / m.group);
    } else {
      y[o] = static_cast<T>(acc[o] / static_cast<uint64_t>(m.group));
    }
  }
}

void reduce_bool(bool is_max, const bool* x, const ReduceMap& m, bool* y, int64_t n_out) {
  // Max = any, Min = all; the empty reduction gives false / true.
  std::vector<char> acc(static_cast<size_t>(n_out), is_max ? 0 : 1);
  for (size_t i = 0; i < m.out_of_in.size(); ++i) {
    char& a = acc[static_cast<size_t>(m.out_of_in[i])];
    a = is_max ? (a || x[i]) : (a && x[i]);
  }
  for (size_t o = 0; o < acc.size(); ++o) y[o] = acc[o] != 0;
}

void ref_reduce(KernelContext& ctx) {
  const Tensor& x = ctx.input(0);
  const ReduceAxes ra = read_reduce_axes(ctx.op, ctx.opset, ctx.attr(), ctx.has_input(1),
                                         ctx.has_input(1) ? &ctx.input(1) : nullptr, ctx.where());
  const std::vector<bool> mask = reduce_mask(ra, x.rank(), ctx.where());
  const ReduceMap m = map_reduction(x.dims(), mask);
  Tensor& out = ctx.output(0);
  ctx.check(out.dtype() == x.dtype(), "internal: output dtype differs from input");
  const OpKind op = ctx.op;
  const bool minmax = op == OpKind::ReduceMax || op == OpKind::ReduceMin;
  dispatch_dtype(x.dtype(), "Reduce", [&]<typename T>() {
    const T* xp = x.data<T>();
    T* yp = out.data<T>();
    if constexpr (std::is_same_v<T, bool>) {
      if (!minmax) ctx.fail("bool input is only allowed for ReduceMax and ReduceMin");
      reduce_bool(op == OpKind::ReduceMax, xp, m, yp, out.numel());
    } else if constexpr (ref::is_float_v<T>) {
      reduce_in_double(op, xp, m, yp, out.numel());
    } else {
      if (minmax) {
        reduce_int_minmax(op == OpKind::ReduceMax, xp, m, yp, out.numel());
      } else if (op == OpKind::ReduceL2 || op == OpKind::ReduceLogSum ||
                 op == OpKind::ReduceLogSumExp) {
        reduce_in_double(op, xp, m, yp, out.numel());
      } else {
        reduce_int_wrapping(op, xp, m, yp, out.numel());
      }
    }
  });
}

}  // namespace

void ref_ReduceSum(KernelContext& ctx) { ref_reduce(ctx); }
void ref_ReduceMean(KernelContext& ctx) { ref_reduce(ctx); }
void ref_ReduceMax(KernelContext& ctx) { ref_reduce(ctx); }
void ref_ReduceMin(KernelContext& ctx) { ref_reduce(ctx); }
void ref_ReduceProd(KernelContext& ctx) { ref_reduce(ctx); }
void ref_ReduceL1(KernelContext& ctx) { ref_reduce(ctx); }
void ref_ReduceL2(KernelContext& ctx) { ref_reduce(ctx); }
void ref_ReduceLogSum(KernelContext& ctx) { ref_reduce(ctx); }
void ref_ReduceLogSumExp(KernelContext& ctx) { ref_reduce(ctx); }
void ref_ReduceSumSquare(KernelContext& ctx) { ref_reduce(ctx); }

}  // namespace kiln
