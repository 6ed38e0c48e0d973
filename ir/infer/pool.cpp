// Shape and dtype inference for the pooling ops: MaxPool, AveragePool, LpPool (window geometry
// from ir/infer/window.h), their Global forms, and MaxUnpool.
#include <cmath>

#include "ir/infer/window.h"
#include "ir/infer_util.h"

namespace kiln {

namespace {

void require_float(const InferContext& ctx, size_t i, const char* name) {
  ctx.check(is_float(ctx.dtype(i)), "input ", i, " (", name, ") must be a float tensor, got ",
            dtype_name(ctx.dtype(i)));
}

// kernel_shape (required) checked against X's rank, then the rest of the window attributes.
Window pool_window(const InferContext& ctx) {
  ctx.check(ctx.attr().has("kernel_shape"), "attribute kernel_shape is required");
  const std::vector<int64_t> kernel = ctx.attr().get_ints("kernel_shape");
  ctx.check(!kernel.empty(), "kernel_shape must not be empty");
  const Shape& x = ctx.shape(0);
  if (x.rank_known) {
    ctx.check(x.rank() >= 3, "input must have rank >= 3 (N x C x D1 ... Dn), got shape ",
              x.to_string());
    ctx.check(kernel.size() == x.rank() - 2, "kernel_shape has ", kernel.size(),
              " values but the input has ", x.rank() - 2, " spatial axes");
  }
  return read_window(ctx.attr(), kernel, ctx.where());
}

// [N, C, out...]: the rank follows from kernel_shape even when X's rank is unknown.
Shape pool_output_shape(const InferContext& ctx, const Window& w) {
  const Shape& x = ctx.shape(0);
  Shape out = Shape::of_rank(w.rank() + 2);
  if (!x.rank_known) return out;
  out.dims[0] = x.dims[0];
  out.dims[1] = x.dims[1];
  for (size_t i = 0; i < w.rank(); ++i) {
    out.dims[i + 2] = window_out_dim(w, i, x.dims[i + 2], ctx.where());
  }
  return out;
}

// [N, C, 1, ..., 1].
void global_pool(InferContext& ctx) {
  require_float(ctx, 0, "X");
  const Shape& x = ctx.shape(0);
  ctx.output(0).dtype = ctx.dtype(0);
  if (!x.rank_known) {
    ctx.output(0).shape = Shape::unknown_rank();
    return;
  }
  ctx.check(x.rank() >= 2, "input must have rank >= 2 (N x C x D1 ... Dn), got shape ",
            x.to_string());
  Shape out = x;
  for (size_t d = 2; d < out.rank(); ++d) out.dims[d] = Dim::of(1);
  ctx.output(0).shape = out;
}

// LpPool/GlobalLpPool's p: a float attribute at opset 1, an int since opset 2.
void check_p(const InferContext& ctx) {
  const Attribute* a = ctx.attr().find("p");
  if (!a) return;
  const double p = a->kind == Attribute::Kind::Float ? a->f : static_cast<double>(ctx.attr().get_int("p"));
  ctx.check(p > 0 && std::isfinite(p), "p must be positive, got ", p);
}

}  // namespace

void infer_MaxPool(InferContext& ctx) {
  const DType t = ctx.dtype(0);
  ctx.check(is_float(t) || t == DType::I8 || t == DType::U8,
            "input 0 (X) must be a float, int8 or uint8 tensor, got ", dtype_name(t));
  const int64_t order = ctx.attr().get_int("storage_order", 0);
  ctx.check(order == 0 || order == 1, "storage_order must be 0 or 1, got ", order);
  const Window w = pool_window(ctx);
  const Shape out = pool_output_shape(ctx, w);
  ctx.output(0) = ValueType{t, out, {}};
  if (ctx.num_outputs() > 1) ctx.output(1) = ValueType{DType::I64, out, {}};
}

void infer_AveragePool(InferContext& ctx) {
  require_float(ctx, 0, "X");
  const int64_t cip = ctx.attr().get_int("count_include_pad", 0);
  ctx.check(cip == 0 || cip == 1, "count_include_pad must be 0 or 1, got ", cip);
  const Window w = pool_window(ctx);
  ctx.output(0) = ValueType{ctx.dtype(0), pool_output_shape(ctx, w), {}};
}

void infer_LpPool(InferContext& ctx) {
  require_float(ctx, 0, "X");
  check_p(ctx);
  const Window w = pool_window(ctx);
  ctx.output(0) = ValueType{ctx.dtype(0), pool_output_shape(ctx, w), {}};
}

void infer_GlobalAveragePool(InferContext& ctx) { global_pool(ctx); }
void infer_GlobalMaxPool(InferContext& ctx) { global_pool(ctx); }

void infer_GlobalLpPool(InferContext& ctx) {
  check_p(ctx);
  global_pool(ctx);
}

// Output spatial size (in - 1) * stride - pad_begin - pad_end + kernel, or the output_shape
// input (which must be at least that large: the unpooled block is placed at its origin).
void infer_MaxUnpool(InferContext& ctx) {
  require_float(ctx, 0, "X");
  ctx.check(ctx.dtype(1) == DType::I64, "input 1 (I) must be int64, got ",
            dtype_name(ctx.dtype(1)));
  const Window w = pool_window(ctx);
  ctx.check(w.auto_pad == AutoPad::NotSet, "MaxUnpool has no auto_pad attribute");
  const size_t rank = w.rank() + 2;
  const Shape& x = ctx.shape(0);
  const Shape& idx = ctx.shape(1);
  if (x.rank_known && idx.rank_known) {
    ctx.check(idx.rank() == x.rank(), "indices shape ", idx.to_string(),
              " does not match X's shape ", x.to_string());
    for (size_t d = 0; d < x.rank(); ++d) {
      const Dim& a = x.dims[d];
      const Dim& b = idx.dims[d];
      ctx.check(!a.is_static() || !b.is_static() || a.value == b.value, "indices shape ",
                idx.to_string(), " does not match X's shape ", x.to_string());
    }
  }
  Shape inferred = Shape::of_rank(rank);
  if (x.rank_known) {
    inferred.dims[0] = x.dims[0];
    inferred.dims[1] = x.dims[1];
    for (size_t i = 0; i < w.rank(); ++i) {
      const Dim& in = x.dims[i + 2];
      if (!in.is_static()) continue;
      // Window attributes are bounded by read_window; only the input size can overflow.
      int64_t size;
      ctx.check(!__builtin_mul_overflow(in.value - 1, w.strides[i], &size) &&
                    !__builtin_add_overflow(size, w.kernel[i] - w.pads[i] - w.pads[i + w.rank()],
                                            &size),
                "spatial axis ", i, ": unpooled size overflows int64");
      ctx.check(size >= 0, "spatial axis ", i, ": pads ", w.pads[i], "+", w.pads[i + w.rank()],
                " exceed the unpooled size");
      inferred.dims[i + 2] = Dim::of(size);
    }
  }
  Shape out = inferred;
  if (ctx.has_input(2)) {
    ctx.check(is_int(ctx.dtype(2)), "input 2 (output_shape) must be int64, got ",
              dtype_name(ctx.dtype(2)));
    const Shape& os = ctx.shape(2);
    if (os.rank_known) {
      ctx.check(os.rank() == 1, "output_shape must be 1-D, got shape ", os.to_string());
      ctx.check(!os.dims[0].is_static() || os.dims[0].value == static_cast<int64_t>(rank),
                "output_shape has ", os.dims[0].value, " values, expected ", rank);
    }
    out = Shape::of_rank(rank);
    if (const std::optional<std::vector<int64_t>> v = const_ints(ctx, 2)) {
      ctx.check(v->size() == rank, "output_shape has ", v->size(), " values, expected ", rank);
      for (size_t d = 0; d < rank; ++d) {
        const int64_t want = (*v)[d];
        const Dim& least = inferred.dims[d];
        ctx.check(want >= 0, "output_shape has a negative size ", want);
        ctx.check(!least.is_static() || want >= least.value, "output_shape[", d, "] = ", want,
                  " is smaller than the unpooled size ", least.value);
        out.dims[d] = Dim::of(want);
      }
    }
  }
  ctx.output(0) = ValueType{ctx.dtype(0), out, {}};
}

}  // namespace kiln
