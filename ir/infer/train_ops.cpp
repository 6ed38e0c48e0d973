// Shape and dtype inference for the Kiln-internal training ops (the backward kernels that the
// gradient rules in train/ emit). Each gradient has the shape of the forward tensor it is taken
// with respect to; the checks catch a backward graph wired to the wrong values.
#include "ir/infer/conv_shape.h"
#include "ir/infer_util.h"

namespace kiln {

namespace {

void require_float(const InferContext& ctx, size_t i) {
  ctx.check(is_float(ctx.dtype(i)), "input ", i, " must be a float tensor, got ",
            dtype_name(ctx.dtype(i)));
}

void require_same_dtype(const InferContext& ctx, size_t a, size_t b) {
  ctx.check(ctx.dtype(a) == ctx.dtype(b), "inputs ", a, " and ", b,
            " must have the same dtype, got ", dtype_name(ctx.dtype(a)), " and ",
            dtype_name(ctx.dtype(b)));
}

void require_index(const InferContext& ctx, size_t i) {
  ctx.check(ctx.dtype(i) == DType::I64 || ctx.dtype(i) == DType::I32, "input ", i,
            " must be int32 or int64, got ", dtype_name(ctx.dtype(i)));
}

// Output 0 takes input `like`'s shape and input `dtype_from`'s dtype.
void gradient_like(InferContext& ctx, size_t like, size_t dtype_from) {
  ctx.output(0).dtype = ctx.dtype(dtype_from);
  ctx.output(0).shape = ctx.shape(like);
}

}  // namespace

// KilnConvGradWeight(X, dY) -> dW [M, C/group, k1..kn], with Conv's attributes
// (kernel_shape required). M is dY's channel count.
void infer_KilnConvGradWeight(InferContext& ctx) {
  require_float(ctx, 0);
  require_same_dtype(ctx, 0, 1);
  ctx.check(ctx.attr().has("kernel_shape"), "attribute kernel_shape is required");
  const std::vector<int64_t> k = ctx.attr().get_ints("kernel_shape");
  const int64_t group = ctx.attr().get_int("group", 1);
  ctx.check(group >= 1, "group must be >= 1, got ", group);
  const Shape& x = ctx.shape(0);
  const Shape& dy = ctx.shape(1);
  Shape w = Shape::of_rank(k.size() + 2);
  if (dy.rank_known) {
    ctx.check(dy.rank() == k.size() + 2, "dY has shape ", dy.to_string(), " but kernel_shape has ",
              k.size(), " axes");
    w.dims[0] = dy.dims[1];
  }
  if (x.rank_known) {
    ctx.check(x.rank() == k.size() + 2, "X has shape ", x.to_string(), " but kernel_shape has ",
              k.size(), " axes");
    if (x.dims[1].is_static()) {
      ctx.check(x.dims[1].value % group == 0, "X has ", x.dims[1].value,
                " channels, not divisible by group ", group);
      w.dims[1] = Dim::of(x.dims[1].value / group);
    }
  }
  for (size_t i = 0; i < k.size(); ++i) {
    ctx.check(k[i] >= 1, "kernel_shape values must be >= 1");
    w.dims[i + 2] = Dim::of(k[i]);
  }
  // The forward geometry must map X onto dY's spatial size.
  if (x.rank_known && dy.rank_known && w.is_static() && x.is_static() && dy.is_static()) {
    const ConvShape cs = conv_shape(ctx.attr(), x, w, ctx.where());
    ctx.check(cs.out.rank_known && cs.out.is_static() && cs.out.static_dims() == dy.static_dims(),
              "dY has shape ", dy.to_string(), " but the convolution gives ", cs.out.to_string());
  }
  ctx.output(0).dtype = ctx.dtype(0);
  ctx.output(0).shape = w;
}

// KilnMaxPoolGrad(dY, Indices, X) -> dX like X: dX[Indices[i]] += dY[i].
void infer_KilnMaxPoolGrad(InferContext& ctx) {
  require_float(ctx, 0);
  require_index(ctx, 1);
  require_same_dtype(ctx, 0, 2);
  const Shape& dy = ctx.shape(0);
  const Shape& ind = ctx.shape(1);
  if (dy.rank_known && ind.rank_known && dy.is_static() && ind.is_static()) {
    ctx.check(dy.static_dims() == ind.static_dims(), "dY ", dy.to_string(),
              " and Indices ", ind.to_string(), " must have the same shape");
  }
  gradient_like(ctx, 2, 0);
}

// KilnAveragePoolGrad(dY, X) -> dX like X, with AveragePool's attributes.
void infer_KilnAveragePoolGrad(InferContext& ctx) {
  require_float(ctx, 0);
  require_same_dtype(ctx, 0, 1);
  ctx.check(ctx.attr().has("kernel_shape"), "attribute kernel_shape is required");
  gradient_like(ctx, 1, 0);
}

// KilnSoftmaxCrossEntropyGrad(dLoss, Scores, Labels[, Weights]) -> dScores like Scores, with
// SoftmaxCrossEntropyLoss's reduction and ignore_index.
void infer_KilnSoftmaxCrossEntropyGrad(InferContext& ctx) {
  require_float(ctx, 1);
  require_same_dtype(ctx, 0, 1);
  require_index(ctx, 2);
  const std::string reduction = ctx.attr().get_string("reduction", "mean");
  ctx.check(reduction == "mean" || reduction == "sum" || reduction == "none",
            "reduction must be mean, sum or none, got '", reduction, "'");
  const Shape& dl = ctx.shape(0);
  if (reduction != "none" && dl.rank_known) {
    ctx.check(dl.rank() == 0, "dLoss must be a scalar for reduction '", reduction, "', got ",
              dl.to_string());
  }
  if (ctx.has_input(3)) require_same_dtype(ctx, 1, 3);
  gradient_like(ctx, 1, 1);
}

// KilnReluGrad(dY, Y) -> dX like dY: dY where Y > 0, else 0 (Y is Relu's output or input).
void infer_KilnReluGrad(InferContext& ctx) {
  require_float(ctx, 0);
  require_same_dtype(ctx, 0, 1);
  const Shape& dy = ctx.shape(0);
  const Shape& y = ctx.shape(1);
  if (dy.rank_known && y.rank_known && dy.is_static() && y.is_static()) {
    ctx.check(dy.static_dims() == y.static_dims(), "dY has shape ", dy.to_string(),
              " but Y has shape ", y.to_string());
  }
  gradient_like(ctx, dy.rank_known ? 0 : 1, 0);
}

// KilnGatherGrad(dY, X, Indices) -> dX like X: the scatter-add adjoint of Gather(X, Indices).
void infer_KilnGatherGrad(InferContext& ctx) {
  require_float(ctx, 0);
  require_same_dtype(ctx, 0, 1);
  require_index(ctx, 2);
  const Shape& x = ctx.shape(1);
  if (x.rank_known) normalize_axis(ctx, ctx.attr().get_int("axis", 0), static_cast<int64_t>(x.rank()));
  gradient_like(ctx, 1, 0);
}

}  // namespace kiln
