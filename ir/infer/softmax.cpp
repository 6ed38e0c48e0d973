// Shape inference for the softmax family: Softmax, LogSoftmax, Hardmax, and the losses built
// on it, SoftmaxCrossEntropyLoss and NegativeLogLikelihoodLoss.
#include "ir/infer_util.h"

namespace kiln {
namespace {

void infer_softmax_like(InferContext& ctx) {
  const DType dt = ctx.dtype(0);
  ctx.check(is_float(dt), "input must be a float tensor, got ", dtype_name(dt));
  const Shape& in = ctx.shape(0);
  if (in.rank_known) {
    const int64_t rank = static_cast<int64_t>(in.rank());
    if (ctx.opset < 13) {
      // Coerced to 2-D [prod(dims[:axis]), prod(dims[axis:])]; axis == rank is a valid split.
      const int64_t axis = ctx.attr().get_int("axis", 1);
      ctx.check(axis >= -rank && axis <= rank, "axis ", axis, " is out of range for rank ", rank);
    } else {
      normalize_axis(ctx, ctx.attr().get_int("axis", -1), rank);
    }
  }
  same_as_input(ctx, 0);
}

// Loss shapes: scores/input [N, C, d1..dk], labels [N, d1..dk], optional weights [C].
// Output 0 is the per-element loss ([N, d1..dk]) with reduction "none", else a scalar.
void infer_loss(InferContext& ctx) {
  const DType dt = ctx.dtype(0);
  ctx.check(is_float(dt), "input 0 must be a float tensor, got ", dtype_name(dt));
  const DType lt = ctx.dtype(1);
  ctx.check(lt == DType::I32 || lt == DType::I64, "labels must be int32 or int64, got ",
            dtype_name(lt));
  const std::string reduction = ctx.attr().get_string("reduction", "mean");
  ctx.check(reduction == "none" || reduction == "sum" || reduction == "mean",
            "reduction must be none, sum or mean, got '", reduction, "'");
  const Shape& x = ctx.shape(0);
  const Shape& t = ctx.shape(1);
  if (x.rank_known) ctx.check(x.rank() >= 2, "input 0 must have rank >= 2, got ", x.to_string());
  Shape per_elem = t;
  if (x.rank_known && t.rank_known) {
    ctx.check(t.rank() + 1 == x.rank(), "labels shape ", t.to_string(),
              " does not match input shape ", x.to_string(), " (expected rank ", x.rank() - 1, ")");
    for (size_t d = 0; d < t.rank(); ++d) {
      const Dim& xd = x.dims[d == 0 ? 0 : d + 1];
      const Dim& td = t.dims[d];
      if (xd.is_static() && td.is_static()) {
        ctx.check(xd.value == td.value, "labels shape ", t.to_string(),
                  " does not match input shape ", x.to_string());
      } else if (!td.is_static() && (xd.is_static() || td.symbol.empty())) {
        per_elem.dims[d] = xd;
      }
    }
  } else if (x.rank_known) {
    per_elem = Shape::of_rank(x.rank() - 1);
    per_elem.dims[0] = x.dims[0];
    for (size_t d = 2; d < x.rank(); ++d) per_elem.dims[d - 1] = x.dims[d];
  }
  if (ctx.has_input(2)) {
    ctx.check(ctx.dtype(2) == dt, "weights must be ", dtype_name(dt), " like the input, got ",
              dtype_name(ctx.dtype(2)));
    const Shape& w = ctx.shape(2);
    if (w.rank_known) {
      ctx.check(w.rank() == 1, "weights must be 1-D, got ", w.to_string());
      if (x.rank_known && w.dims[0].is_static() && x.dims[1].is_static()) {
        ctx.check(w.dims[0].value == x.dims[1].value, "weights have ", w.dims[0].value,
                  " entries but there are ", x.dims[1].value, " classes");
      }
    }
  }
  ctx.output(0).dtype = dt;
  ctx.output(0).shape = reduction == "none" ? per_elem : Shape::of({});
  if (ctx.num_outputs() > 1) {
    ctx.output(1).dtype = dt;
    ctx.output(1).shape = x;
  }
}

}  // namespace

void infer_Softmax(InferContext& ctx) { infer_softmax_like(ctx); }
void infer_LogSoftmax(InferContext& ctx) { infer_softmax_like(ctx); }
void infer_Hardmax(InferContext& ctx) { infer_softmax_like(ctx); }
void infer_SoftmaxCrossEntropyLoss(InferContext& ctx) { infer_loss(ctx); }
void infer_NegativeLogLikelihoodLoss(InferContext& ctx) { infer_loss(ctx); }

}  // namespace kiln
