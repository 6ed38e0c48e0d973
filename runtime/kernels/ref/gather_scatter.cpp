// Reference kernels for Gather, GatherElements, GatherND, ScatterElements, Scatter, ScatterND.
#include <cstring>

#include "runtime/kernels/ref/ref_util.h"
#include "runtime/kernels/ref/shape_kernel_util.h"

namespace kiln {

namespace {

int64_t prod(const Dims& dims, size_t from, size_t to) {
  int64_t p = 1;
  for (size_t i = from; i < to; ++i) p *= dims[i];
  return p;
}

void copy_run(Tensor& dst, int64_t dst_i, const Tensor& src, int64_t src_i, int64_t n) {
  const size_t es = dtype_size(src.dtype());
  if (n > 0) {
    std::memcpy(static_cast<char*>(dst.raw()) + static_cast<size_t>(dst_i) * es,
                static_cast<const char*>(src.raw()) + static_cast<size_t>(src_i) * es,
                static_cast<size_t>(n) * es);
  }
}

enum class Reduction { None, Add, Mul, Max, Min };

Reduction reduction_of(const KernelContext& ctx) {
  const std::string r = ctx.attr().get_string("reduction", "none");
  if (r == "add") return Reduction::Add;
  if (r == "mul") return Reduction::Mul;
  if (r == "max") return Reduction::Max;
  if (r == "min") return Reduction::Min;
  ctx.check(r == "none", "unknown reduction '", r, "'");
  return Reduction::None;
}

// dst[d] = reduce(dst[d], src[s]) for n consecutive elements.
void reduce_run(Reduction red, Tensor& dst, int64_t d, const Tensor& src, int64_t s, int64_t n) {
  if (red == Reduction::None) return copy_run(dst, d, src, s, n);
  dispatch_dtype(dst.dtype(), "scatter reduction", [&]<typename T>() {
    using C = ref::compute_t<T>;
    T* o = dst.data<T>() + d;
    const T* u = src.data<T>() + s;
    for (int64_t i = 0; i < n; ++i) {
      const C a = static_cast<C>(o[i]), b = static_cast<C>(u[i]);
      C v;
      if constexpr (std::is_same_v<T, bool>) {  // add = or, mul = and
        v = red == Reduction::Add   ? (a || b)
            : red == Reduction::Mul ? (a && b)
            : red == Reduction::Max ? (a || b)
                                    : (a && b);
      } else {
        v = red == Reduction::Add   ? static_cast<C>(a + b)
            : red == Reduction::Mul ? static_cast<C>(a * b)
            : red == Reduction::Max ? (a < b ? b : a)
                                    : (b < a ? b : a);
      }
      o[i] = static_cast<T>(v);
    }
  });
}

}  // namespace

void ref_Gather(KernelContext& ctx) {
  const Tensor& data = ctx.input(0);
  const Tensor& idx = ctx.input(1);
  Tensor& out = ctx.output(0);
  const size_t axis =
      static_cast<size_t>(norm_axis(ref::op_args(ctx), ctx.attr().get_int("axis", 0), data.rank()));
  const int64_t outer = prod(data.dims(), 0, axis), D = data.dims()[axis];
  const int64_t inner = prod(data.dims(), axis + 1, data.dims().size());
  const int64_t n = idx.numel();
  for (int64_t k = 0; k < n; ++k) ref::checked_index(ctx, idx.as_int64(k), D, axis);
  for (int64_t o = 0; o < outer; ++o) {
    for (int64_t k = 0; k < n; ++k) {
      const int64_t j = ref::checked_index(ctx, idx.as_int64(k), D, axis);
      copy_run(out, (o * n + k) * inner, data, (o * D + j) * inner, inner);
    }
  }
}

// Walks every element of `idx` and calls fn(position in idx, flat offset in data) where the
// data position is idx's position with the `axis` coordinate replaced by the index value.
template <typename Fn>
static void for_each_element_index(const KernelContext& ctx, const Tensor& data, const Tensor& idx,
                                   size_t axis, Fn&& fn) {
  ctx.check(idx.rank() == data.rank(), "indices rank ", idx.rank(), " differs from data rank ",
            data.rank());
  for (size_t a = 0; a < idx.dims().size(); ++a) {
    ctx.check(a == axis || idx.dims()[a] <= data.dims()[a], "indices ", idx.describe(),
              " exceed data ", data.describe(), " on axis ", a);
  }
  const std::vector<int64_t> st = ref::strides_of(data.dims());
  ref::MultiIndex it(idx.dims(), {st});
  for (int64_t i = 0; i < idx.numel(); ++i, it.next()) {
    const int64_t j = ref::checked_index(ctx, idx.as_int64(i), data.dims()[axis], axis);
    const int64_t pos = it.offset(0) + (j - it.index()[axis]) * st[axis];
    fn(i, pos);
  }
}

void ref_GatherElements(KernelContext& ctx) {
  const Tensor& data = ctx.input(0);
  const Tensor& idx = ctx.input(1);
  Tensor& out = ctx.output(0);
  const size_t axis =
      static_cast<size_t>(norm_axis(ref::op_args(ctx), ctx.attr().get_int("axis", 0), data.rank()));
  for_each_element_index(ctx, data, idx, axis,
                         [&](int64_t i, int64_t pos) { ref::copy_bytes(out, i, data, pos); });
}

void ref_ScatterElements(KernelContext& ctx) {
  const Tensor& data = ctx.input(0);
  const Tensor& idx = ctx.input(1);
  const Tensor& upd = ctx.input(2);
  Tensor& out = ctx.output(0);
  ctx.check(idx.dims() == upd.dims(), "indices ", idx.describe(), " and updates ", upd.describe(),
            " must have the same shape");
  const Reduction red = ctx.op == OpKind::Scatter ? Reduction::None : reduction_of(ctx);
  const size_t axis =
      static_cast<size_t>(norm_axis(ref::op_args(ctx), ctx.attr().get_int("axis", 0), data.rank()));
  if (data.nbytes()) std::memcpy(out.raw(), data.raw(), data.nbytes());
  for_each_element_index(ctx, data, idx, axis,
                         [&](int64_t i, int64_t pos) { reduce_run(red, out, pos, upd, i, 1); });
}

void ref_Scatter(KernelContext& ctx) { ref_ScatterElements(ctx); }

// Shared walk of GatherND / ScatterND index tuples: for tuple g (of idx.numel()/m), calls
// fn(g, flat offset of the addressed slice in data, slice length).
template <typename Fn>
static void for_each_nd_tuple(const KernelContext& ctx, const Tensor& data, const Tensor& idx,
                              int64_t b, Fn&& fn) {
  const size_t q = static_cast<size_t>(idx.rank()), r = static_cast<size_t>(data.rank());
  const int64_t m = idx.dims()[q - 1];
  const size_t bu = static_cast<size_t>(b);
  ctx.check(m >= 1 && b + m <= data.rank(), "index tuples of length ", m, " do not fit data ",
            data.describe());
  for (size_t i = 0; i < bu; ++i) {
    ctx.check(idx.dims()[i] == data.dims()[i], "batch dimension ", i, " differs: ", idx.dims()[i],
              " vs ", data.dims()[i]);
  }
  const int64_t batches = prod(data.dims(), 0, bu);
  const int64_t per_batch = prod(idx.dims(), bu, q - 1);  // tuples per batch
  const int64_t batch_size = prod(data.dims(), bu, r);
  const int64_t slice = prod(data.dims(), bu + static_cast<size_t>(m), r);
  const std::vector<int64_t> st = ref::strides_of(data.dims());
  for (int64_t bi = 0; bi < batches; ++bi) {
    for (int64_t g = 0; g < per_batch; ++g) {
      const int64_t tuple = bi * per_batch + g;
      int64_t off = bi * batch_size;
      for (int64_t j = 0; j < m; ++j) {
        const size_t ax = bu + static_cast<size_t>(j);
        off += ref::checked_index(ctx, idx.as_int64(tuple * m + j), data.dims()[ax], ax) * st[ax];
      }
      fn(tuple, off, slice);
    }
  }
}

void ref_GatherND(KernelContext& ctx) {
  const Tensor& data = ctx.input(0);
  const Tensor& idx = ctx.input(1);
  Tensor& out = ctx.output(0);
  const int64_t b = ctx.opset >= 12 ? ctx.attr().get_int("batch_dims", 0) : 0;
  for_each_nd_tuple(ctx, data, idx, b,
                    [&](int64_t t, int64_t off, int64_t n) { copy_run(out, t * n, data, off, n); });
}

void ref_ScatterND(KernelContext& ctx) {
  const Tensor& data = ctx.input(0);
  const Tensor& idx = ctx.input(1);
  const Tensor& upd = ctx.input(2);
  Tensor& out = ctx.output(0);
  const Reduction red = reduction_of(ctx);
  const size_t q = static_cast<size_t>(idx.rank());
  ctx.check(q >= 1, "indices must have rank >= 1");
  const int64_t m = idx.dims()[q - 1];
  Dims want(idx.dims().begin(), idx.dims().end() - 1);
  for (size_t i = static_cast<size_t>(std::max<int64_t>(m, 0)); i < data.dims().size(); ++i) {
    want.push_back(data.dims()[i]);
  }
  ctx.check(upd.dims() == want, "updates ", upd.describe(), " should have shape ",
            dims_to_string(want));
  if (data.nbytes()) std::memcpy(out.raw(), data.raw(), data.nbytes());
  for_each_nd_tuple(ctx, data, idx, 0, [&](int64_t t, int64_t off, int64_t n) {
    reduce_run(red, out, off, upd, t * n, n);
  });
}

}  // namespace kiln
