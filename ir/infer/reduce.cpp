// Shape inference for the Reduce* family (ReduceSum, ReduceMean, ..., ReduceSumSquare).
#include "ir/infer/reduce_axes.h"
#include "ir/infer_util.h"

namespace kiln {

int reduce_axes_input_opset(OpKind op) { return op == OpKind::ReduceSum ? 13 : 18; }

ReduceAxes read_reduce_axes(OpKind op, int opset, const Attributes& attrs, bool has_axes_input,
                            const Tensor* axes_value, const std::string& where) {
  ReduceAxes ra;
  const int64_t keepdims = attrs.get_int("keepdims", 1);
  const int64_t noop = attrs.get_int("noop_with_empty_axes", 0);
  if (keepdims != 0 && keepdims != 1) fail(where, "keepdims must be 0 or 1, got ", keepdims);
  if (noop != 0 && noop != 1) fail(where, "noop_with_empty_axes must be 0 or 1, got ", noop);
  ra.keepdims = keepdims == 1;
  ra.noop_with_empty_axes = noop == 1;
  if (has_axes_input) {
    if (opset < reduce_axes_input_opset(op)) {
      fail(where, "axes is an attribute before opset ", reduce_axes_input_opset(op),
           ", but an axes input was given at opset ", opset);
    }
    if (attrs.has("axes")) fail(where, "axes given both as an attribute and as input 1");
    if (!axes_value) {
      ra.known = false;
      return ra;
    }
    if (!is_int(axes_value->dtype())) {
      fail(where, "axes input must be int64, got ", axes_value->describe());
    }
    if (axes_value->rank() > 1) fail(where, "axes input must be 1-D, got ", axes_value->describe());
    ra.axes = axes_value->to_int64_vector();
  } else {
    ra.axes = attrs.get_ints("axes");
  }
  return ra;
}

std::vector<bool> reduce_mask(const ReduceAxes& ra, int64_t rank, const std::string& where) {
  std::vector<bool> mask(static_cast<size_t>(rank), ra.reduces_all());
  for (int64_t a : ra.axes) {
    if (a < -rank || a >= rank) fail(where, "axis ", a, " is out of range for rank ", rank);
    const size_t d = static_cast<size_t>(a < 0 ? a + rank : a);
    if (mask[d]) fail(where, "axis ", a, " is repeated in axes");
    mask[d] = true;
  }
  return mask;
}

namespace {

void infer_reduce(InferContext& ctx) {
  const DType dt = ctx.dtype(0);
  const bool minmax = ctx.op == OpKind::ReduceMax || ctx.op == OpKind::ReduceMin;
  if (!(is_float(dt) || is_int(dt) || (minmax && dt == DType::Bool))) {
    ctx.fail("input dtype ", dtype_name(dt), " is not supported");
  }
  ctx.output(0).dtype = dt;
  const bool has_axes = ctx.has_input(1);
  if (has_axes && !is_int(ctx.dtype(1))) {
    ctx.fail("axes input must be int64, got ", dtype_name(ctx.dtype(1)));
  }
  if (has_axes && ctx.input(1).shape.rank_known && ctx.input(1).shape.rank() > 1) {
    ctx.fail("axes input must be 1-D, got shape ", ctx.input(1).shape.to_string());
  }
  const ReduceAxes ra =
      read_reduce_axes(ctx.op, ctx.opset, ctx.attr(), has_axes, ctx.value(1), ctx.where());
  const Shape& in = ctx.shape(0);
  Shape& out = ctx.output(0).shape;

  if (ra.reduces_nothing()) {
    out = in;
    return;
  }
  if (ra.reduces_all() && !ra.keepdims) {
    out = Shape::of({});
    return;
  }
  if (!in.rank_known) {
    out = Shape::unknown_rank();
    return;
  }
  const int64_t rank = static_cast<int64_t>(in.rank());
  if (!ra.known) {
    // Which dims go is unknown; with keepdims every dim is itself or 1, so a 1 stays a 1.
    if (ra.keepdims) {
      out = Shape::of_rank(in.rank());
      for (size_t d = 0; d < in.rank(); ++d) {
        if (in.dims[d].is_static() && in.dims[d].value == 1) out.dims[d] = Dim::of(1);
      }
      return;
    }
    const Shape& axes_shape = ctx.input(1).shape;
    if (axes_shape.rank_known && axes_shape.rank() == 1 && axes_shape.dims[0].is_static()) {
      const int64_t k = axes_shape.dims[0].value;
      if (k == 0) {
        out = ra.noop_with_empty_axes ? in : Shape::of({});
      } else {
        if (k > rank) ctx.fail(k, " axes given for an input of rank ", rank);
        out = Shape::of_rank(static_cast<size_t>(rank - k));
      }
      return;
    }
    out = Shape::unknown_rank();
    return;
  }
  const std::vector<bool> mask = reduce_mask(ra, rank, ctx.where());
  out = Shape::of({});
  for (size_t d = 0; d < in.rank(); ++d) {
    if (!mask[d]) {
      out.dims.push_back(in.dims[d]);
    } else if (ra.keepdims) {
      out.dims.push_back(Dim::of(1));
    }
  }
}

}  // namespace

void infer_ReduceSum(InferContext& ctx) { infer_reduce(ctx); }
void infer_ReduceMean(InferContext& ctx) { infer_reduce(ctx); }
void infer_ReduceMax(InferContext& ctx) { infer_reduce(ctx); }
void infer_ReduceMin(InferContext& ctx) { infer_reduce(ctx); }
void infer_ReduceProd(InferContext& ctx) { infer_reduce(ctx); }
void infer_ReduceL1(InferContext& ctx) { infer_reduce(ctx); }
void infer_ReduceL2(InferContext& ctx) { infer_reduce(ctx); }
void infer_ReduceLogSum(InferContext& ctx) { infer_reduce(ctx); }
void infer_ReduceLogSumExp(InferContext& ctx) { infer_reduce(ctx); }
void infer_ReduceSumSquare(InferContext& ctx) { infer_reduce(ctx); }

}  // namespace kiln
