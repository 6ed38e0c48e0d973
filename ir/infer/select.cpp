// Shape inference for selection and scans: ArgMax, ArgMin, TopK, CumSum, CumProd.
#include "ir/infer_util.h"

namespace kiln {
namespace {

bool is_numeric(DType t) { return is_float(t) || is_int(t); }

void infer_arg_extreme(InferContext& ctx) {
  const DType dt = ctx.dtype(0);
  if (!is_numeric(dt)) ctx.fail("input dtype ", dtype_name(dt), " is not supported");
  const int64_t keepdims = ctx.attr().get_int("keepdims", 1);
  const int64_t last = ctx.attr().get_int("select_last_index", 0);
  ctx.check(keepdims == 0 || keepdims == 1, "keepdims must be 0 or 1, got ", keepdims);
  ctx.check(last == 0 || last == 1, "select_last_index must be 0 or 1, got ", last);
  ctx.output(0).dtype = DType::I64;
  const Shape& in = ctx.shape(0);
  if (!in.rank_known) {
    ctx.output(0).shape = Shape::unknown_rank();
    return;
  }
  const int64_t rank = static_cast<int64_t>(in.rank());
  ctx.check(rank >= 1, "input must have rank >= 1, got a scalar");
  const size_t axis =
      static_cast<size_t>(normalize_axis(ctx, ctx.attr().get_int("axis", 0), rank));
  const Dim& n = in.dims[axis];
  ctx.check(!(n.is_static() && n.value == 0), "cannot select along axis ", axis,
            " of size 0 (input shape ", in.to_string(), ")");
  Shape out = in;
  if (keepdims) {
    out.dims[axis] = Dim::of(1);
  } else {
    out.dims.erase(out.dims.begin() + static_cast<std::ptrdiff_t>(axis));
  }
  ctx.output(0).shape = out;
}

// K of TopK: attribute `k` before opset 10, a 1-element int64 input from opset 10.
// Returns -1 when it is an input whose value is unknown.
int64_t topk_k(InferContext& ctx) {
  if (ctx.has_input(1)) {
    ctx.check(ctx.opset >= 10, "K is an attribute before opset 10, but a K input was given");
    const Shape& ks = ctx.shape(1);
    ctx.check(is_int(ctx.dtype(1)), "K must be int64, got ", dtype_name(ctx.dtype(1)));
    if (ks.is_static()) {
      ctx.check(checked_numel(ks.static_dims()) == 1 && ks.rank() <= 1,
                "K must be a 1-D tensor of one element, got shape ", ks.to_string());
    }
    const auto k = const_ints(ctx, 1);
    if (!k) return -1;
    ctx.check(k->size() == 1, "K must hold one value, got ", k->size());
    ctx.check((*k)[0] >= 0, "K must be >= 0, got ", (*k)[0]);
    return (*k)[0];
  }
  ctx.check(ctx.attr().has("k"),
            ctx.opset >= 10 ? "input K is missing" : "attribute k is missing");
  const int64_t k = ctx.attr().get_int("k");
  ctx.check(k >= 0, "k must be >= 0, got ", k);
  return k;
}

void check_scan_axis(InferContext& ctx, const Shape& x) {
  const DType at = ctx.dtype(1);
  ctx.check(at == DType::I32 || at == DType::I64, "axis must be int32 or int64, got ",
            dtype_name(at));
  const Shape& as = ctx.shape(1);
  if (as.is_static()) {
    ctx.check(as.rank() <= 1 && checked_numel(as.static_dims()) == 1,
              "axis must be a scalar, got shape ", as.to_string());
  }
  if (!x.rank_known) return;
  ctx.check(x.rank() >= 1, "input must have rank >= 1, got a scalar");
  if (const auto a = const_ints(ctx, 1)) {
    ctx.check(a->size() == 1, "axis must hold one value, got ", a->size());
    normalize_axis(ctx, (*a)[0], static_cast<int64_t>(x.rank()));
  }
}

void infer_scan(InferContext& ctx) {
  const DType dt = ctx.dtype(0);
  if (!is_numeric(dt)) ctx.fail("input dtype ", dtype_name(dt), " is not supported");
  for (const char* name : {"exclusive", "reverse"}) {
    const int64_t v = ctx.attr().get_int(name, 0);
    ctx.check(v == 0 || v == 1, name, " must be 0 or 1, got ", v);
  }
  check_scan_axis(ctx, ctx.shape(0));
  same_as_input(ctx, 0);
}

}  // namespace

void infer_ArgMax(InferContext& ctx) { infer_arg_extreme(ctx); }
void infer_ArgMin(InferContext& ctx) { infer_arg_extreme(ctx); }

void infer_TopK(InferContext& ctx) {
  const DType dt = ctx.dtype(0);
  if (!is_numeric(dt)) ctx.fail("input dtype ", dtype_name(dt), " is not supported");
  for (const char* name : {"largest", "sorted"}) {
    const int64_t v = ctx.attr().get_int(name, 1);
    ctx.check(v == 0 || v == 1, name, " must be 0 or 1, got ", v);
  }
  const int64_t k = topk_k(ctx);
  ctx.output(0).dtype = dt;
  if (ctx.num_outputs() > 1) ctx.output(1).dtype = DType::I64;
  const Shape& in = ctx.shape(0);
  Shape out = in;
  if (in.rank_known) {
    const int64_t rank = static_cast<int64_t>(in.rank());
    ctx.check(rank >= 1, "input must have rank >= 1, got a scalar");
    const size_t axis =
        static_cast<size_t>(normalize_axis(ctx, ctx.attr().get_int("axis", -1), rank));
    const Dim& n = in.dims[axis];
    if (k >= 0 && n.is_static()) {
      ctx.check(k <= n.value, "k = ", k, " exceeds the size ", n.value, " of axis ", axis);
    }
    out.dims[axis] = k >= 0 ? Dim::of(k) : Dim::unknown();
  }
  ctx.output(0).shape = out;
  if (ctx.num_outputs() > 1) ctx.output(1).shape = out;
}

void infer_CumSum(InferContext& ctx) { infer_scan(ctx); }
void infer_CumProd(InferContext& ctx) { infer_scan(ctx); }

}  // namespace kiln
