// Shape inference for indexing ops: Gather, GatherElements, GatherND, ScatterElements,
// Scatter, ScatterND, OneHot, NonZero, Compress, Unique.
#include <algorithm>

#include "ir/infer/shape_args.h"
#include "ir/infer_util.h"

namespace kiln {

namespace {

void require_index_dtype(const InferContext& ctx, size_t i, const char* name) {
  const DType t = ctx.dtype(i);
  ctx.check(t == DType::I32 || t == DType::I64, name, " must be i32 or i64, got ", dtype_name(t));
}

// Copies dims [from, to) of `s` onto `out`.
void append_dims(Shape& out, const Shape& s, size_t from, size_t to) {
  for (size_t i = from; i < to; ++i) out.dims.push_back(s.dims[i]);
}

}  // namespace

void infer_Gather(InferContext& ctx) {
  require_index_dtype(ctx, 1, "indices");
  ctx.output(0).dtype = ctx.dtype(0);
  const Shape& data = ctx.shape(0);
  const Shape& idx = ctx.shape(1);
  if (!data.rank_known || !idx.rank_known) {
    ctx.output(0).shape = Shape::unknown_rank();
    return;
  }
  const int64_t r = static_cast<int64_t>(data.rank());
  ctx.check(r >= 1, "data must have rank >= 1");
  const size_t axis = static_cast<size_t>(normalize_axis(ctx, ctx.attr().get_int("axis", 0), r));
  const Dim& ad = data.dims[axis];
  if (const Tensor* iv = ctx.value(1); iv && ad.is_static()) {
    for (int64_t i = 0; i < iv->numel(); ++i) {
      const int64_t v = iv->as_int64(i);
      ctx.check(v >= -ad.value && v < ad.value, "index ", v, " is out of range for axis ", axis,
                " of size ", ad.value);
    }
  }
  Shape out = Shape::of_rank(0);
  append_dims(out, data, 0, axis);
  append_dims(out, idx, 0, idx.rank());
  append_dims(out, data, axis + 1, data.rank());
  ctx.output(0).shape = out;
}

void infer_GatherElements(InferContext& ctx) {
  require_index_dtype(ctx, 1, "indices");
  ctx.output(0).dtype = ctx.dtype(0);
  const Shape& data = ctx.shape(0);
  const Shape& idx = ctx.shape(1);
  if (data.rank_known) {
    const int64_t r = static_cast<int64_t>(data.rank());
    ctx.check(r >= 1, "data must have rank >= 1");
    normalize_axis(ctx, ctx.attr().get_int("axis", 0), r);
    ctx.check(!idx.rank_known || idx.rank() == data.rank(), "indices rank ", idx.rank(),
              " differs from data rank ", data.rank());
  }
  ctx.output(0).shape = idx;
}

void infer_GatherND(InferContext& ctx) {
  ctx.check(ctx.dtype(1) == DType::I64, "indices must be i64, got ", dtype_name(ctx.dtype(1)));
  ctx.output(0).dtype = ctx.dtype(0);
  const int64_t b = ctx.opset >= 12 ? ctx.attr().get_int("batch_dims", 0) : 0;
  const Shape& data = ctx.shape(0);
  const Shape& idx = ctx.shape(1);
  ctx.check(b >= 0, "batch_dims ", b, " is negative");
  if (!data.rank_known || !idx.rank_known) {
    ctx.output(0).shape = Shape::unknown_rank();
    return;
  }
  const int64_t r = static_cast<int64_t>(data.rank()), q = static_cast<int64_t>(idx.rank());
  ctx.check(r >= 1 && q >= 1, "data and indices must have rank >= 1");
  ctx.check(b < std::min(r, q), "batch_dims ", b, " must be less than both ranks (", r, ", ", q,
            ")");
  for (int64_t i = 0; i < b; ++i) {
    const Dim &x = data.dims[static_cast<size_t>(i)], &y = idx.dims[static_cast<size_t>(i)];
    ctx.check(!x.is_static() || !y.is_static() || x.value == y.value, "batch dimension ", i,
              " differs: ", x.value, " vs ", y.value);
  }
  const Dim& last = idx.dims.back();
  if (!last.is_static()) {
    ctx.output(0).shape = Shape::unknown_rank();
    return;
  }
  const int64_t m = last.value;
  ctx.check(m >= 1 && m <= r - b, "indices last dimension ", m, " must be in [1, ", r - b, "]");
  Shape out = Shape::of_rank(0);
  append_dims(out, idx, 0, static_cast<size_t>(q - 1));
  append_dims(out, data, static_cast<size_t>(b + m), static_cast<size_t>(r));
  ctx.output(0).shape = out;
}

static void check_reduction(const InferContext& ctx) {
  const std::string red = ctx.attr().get_string("reduction", "none");
  const bool ok = red == "none" || (ctx.opset >= 16 && (red == "add" || red == "mul")) ||
                  (ctx.opset >= 18 && (red == "max" || red == "min"));
  ctx.check(ok, "reduction '", red, "' is not valid at opset ", ctx.opset);
}

void infer_ScatterElements(InferContext& ctx) {
  require_index_dtype(ctx, 1, "indices");
  ctx.check(ctx.dtype(2) == ctx.dtype(0), "updates are ", dtype_name(ctx.dtype(2)), " but data is ",
            dtype_name(ctx.dtype(0)));
  if (ctx.op == OpKind::ScatterElements) check_reduction(ctx);
  const Shape &data = ctx.shape(0), &idx = ctx.shape(1), &upd = ctx.shape(2);
  ctx.check(!idx.rank_known || !upd.rank_known || idx.rank() == upd.rank(), "indices ",
            idx.to_string(), " and updates ", upd.to_string(), " differ in rank");
  if (idx.is_static() && upd.is_static()) {
    ctx.check(idx == upd, "indices ", idx.to_string(), " and updates ", upd.to_string(),
              " must have the same shape");
  }
  if (data.rank_known) {
    const int64_t r = static_cast<int64_t>(data.rank());
    ctx.check(r >= 1, "data must have rank >= 1");
    normalize_axis(ctx, ctx.attr().get_int("axis", 0), r);
    ctx.check(!idx.rank_known || idx.rank() == data.rank(), "indices rank ", idx.rank(),
              " differs from data rank ", data.rank());
  }
  same_as_input(ctx);
}

void infer_Scatter(InferContext& ctx) { infer_ScatterElements(ctx); }

void infer_ScatterND(InferContext& ctx) {
  ctx.check(ctx.dtype(1) == DType::I64, "indices must be i64, got ", dtype_name(ctx.dtype(1)));
  ctx.check(ctx.dtype(2) == ctx.dtype(0), "updates are ", dtype_name(ctx.dtype(2)), " but data is ",
            dtype_name(ctx.dtype(0)));
  check_reduction(ctx);
  const Shape &data = ctx.shape(0), &idx = ctx.shape(1), &upd = ctx.shape(2);
  if (data.rank_known && idx.rank_known && upd.rank_known) {
    const int64_t r = static_cast<int64_t>(data.rank()), q = static_cast<int64_t>(idx.rank());
    ctx.check(r >= 1 && q >= 1, "data and indices must have rank >= 1");
    const Dim& last = idx.dims.back();
    if (last.is_static()) {
      const int64_t k = last.value;
      ctx.check(k >= 1 && k <= r, "indices last dimension ", k, " must be in [1, ", r, "]");
      const int64_t want = q - 1 + r - k;
      ctx.check(static_cast<int64_t>(upd.rank()) == want, "updates rank ", upd.rank(),
                ", expected ", want);
      for (int64_t i = 0; i < want; ++i) {
        const Dim& u = upd.dims[static_cast<size_t>(i)];
        const Dim& e = i < q - 1 ? idx.dims[static_cast<size_t>(i)]
                                 : data.dims[static_cast<size_t>(k + i - (q - 1))];
        ctx.check(!u.is_static() || !e.is_static() || u.value == e.value, "updates dimension ", i,
                  " is ", u.value, ", expected ", e.value);
      }
    }
  }
  same_as_input(ctx);
}

void infer_OneHot(InferContext& ctx) {
  const OpArgs a = op_args(ctx);
  for (size_t i = 0; i < 2; ++i) {
    const DType t = ctx.dtype(i);
    ctx.check(is_int(t) || is_float(t), "input ", i, " must be numeric, got ", dtype_name(t));
  }
  const Shape& vals = ctx.shape(2);
  ctx.check(!vals.rank_known ||
                (vals.rank() == 1 && (!vals.dims[0].is_static() || vals.dims[0].value == 2)),
            "values must be [off, on] (2 elements), got ", vals.to_string());
  ctx.output(0).dtype = ctx.dtype(2);
  Dim depth = Dim::unknown();
  if (const Tensor* d = ctx.value(1)) {
    ctx.check(d->numel() == 1, "depth must be a scalar, got ", d->describe());
    const double v = d->as_double(0);
    ctx.check(v >= 1 && v <= static_cast<double>(int64_t{1} << 40), "depth ", v,
              " must be positive");
    depth = Dim::of(static_cast<int64_t>(v));
  }
  const Shape& idx = ctx.shape(0);
  if (!idx.rank_known) {
    ctx.output(0).shape = Shape::unknown_rank();
    return;
  }
  const int64_t r = static_cast<int64_t>(idx.rank()) + 1;
  const int64_t axis = norm_axis(a, ctx.attr().get_int("axis", -1), r);
  Shape out = idx;
  out.dims.insert(out.dims.begin() + axis, depth);
  ctx.output(0).shape = out;
}

void infer_NonZero(InferContext& ctx) {
  ctx.output(0).dtype = DType::I64;
  const Shape& in = ctx.shape(0);
  Shape out = Shape::of_rank(2);
  if (in.rank_known) out.dims[0] = Dim::of(static_cast<int64_t>(in.rank()));
  ctx.output(0).shape = out;
}

void infer_Compress(InferContext& ctx) {
  ctx.check(ctx.dtype(1) == DType::Bool, "condition must be bool, got ", dtype_name(ctx.dtype(1)));
  const Shape& cond = ctx.shape(1);
  ctx.check(!cond.rank_known || cond.rank() == 1, "condition must be 1-D, got ", cond.to_string());
  ctx.output(0).dtype = ctx.dtype(0);
  Dim kept = Dim::unknown();
  if (const Tensor* c = ctx.value(1)) {
    int64_t n = 0;
    for (int64_t i = 0; i < c->numel(); ++i) n += c->as_int64(i) != 0;
    kept = Dim::of(n);
  }
  const Shape& in = ctx.shape(0);
  if (!ctx.attr().has("axis")) {
    Shape out = Shape::of_rank(1);
    out.dims[0] = kept;
    ctx.output(0).shape = out;
    return;
  }
  if (!in.rank_known) {
    ctx.output(0).shape = Shape::unknown_rank();
    return;
  }
  const int64_t r = static_cast<int64_t>(in.rank());
  ctx.check(r >= 1, "input must have rank >= 1 when axis is given");
  const size_t axis = static_cast<size_t>(normalize_axis(ctx, ctx.attr().get_int("axis"), r));
  const Dim& ad = in.dims[axis];
  if (cond.rank_known && cond.dims[0].is_static() && ad.is_static()) {
    ctx.check(cond.dims[0].value <= ad.value, "condition has ", cond.dims[0].value,
              " entries for an axis of size ", ad.value);
  }
  Shape out = in;
  out.dims[axis] = kept;
  ctx.output(0).shape = out;
}

void infer_Unique(InferContext& ctx) {
  const Shape& in = ctx.shape(0);
  ctx.output(0).dtype = ctx.dtype(0);
  Shape y = Shape::of_rank(1);
  Shape inverse = Shape::of_rank(1);
  if (ctx.attr().has("axis")) {
    if (in.rank_known) {
      const int64_t r = static_cast<int64_t>(in.rank());
      ctx.check(r >= 1, "input must have rank >= 1 when axis is given");
      const size_t axis = static_cast<size_t>(normalize_axis(ctx, ctx.attr().get_int("axis"), r));
      y = in;
      y.dims[axis] = Dim::unknown();
      inverse.dims[0] = in.dims[axis];
    } else {
      y = Shape::unknown_rank();
    }
  } else if (in.rank_known) {
    Dim n = Dim::of(1);
    for (const Dim& d : in.dims) n = dim_mul_checked(ctx, n, d);
    inverse.dims[0] = n;
  }
  ctx.output(0).shape = y;
  for (size_t i = 1; i < ctx.num_outputs(); ++i) {
    ctx.output(i).dtype = DType::I64;
    ctx.output(i).shape = i == 2 ? inverse : Shape::of_rank(1);
  }
}

}  // namespace kiln
