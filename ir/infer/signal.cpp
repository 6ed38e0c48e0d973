// Shape inference for the signal ops: HannWindow, HammingWindow, BlackmanWindow and DFT.
#include "ir/infer_util.h"

namespace kiln {

namespace {

// Windows: size is an int32/int64 scalar; the output is 1-D of output_datatype (default f32).
void infer_window(InferContext& ctx) {
  const DType st = ctx.dtype(0);
  ctx.check(st == DType::I32 || st == DType::I64, "size must be int32 or int64, got ", dtype_name(st));
  const Shape& s = ctx.shape(0);
  ctx.check(!s.rank_known || s.rank() == 0 || (s.rank() == 1 && (!s.dims[0].is_static() || s.dims[0].value == 1)),
            "size must be a scalar, got ", s.to_string());
  const int64_t code = ctx.attr().get_int("output_datatype", 1);
  const DType out = static_cast<DType>(code);
  ctx.check(code >= 0 && code <= 16 && dtype_is_valid(static_cast<int32_t>(code)) &&
                (is_float(out) || is_int(out)),
            "output_datatype ", code, " is not a numeric dtype");
  const int64_t periodic = ctx.attr().get_int("periodic", 1);
  ctx.check(periodic == 0 || periodic == 1, "periodic must be 0 or 1, got ", periodic);
  ctx.output(0).dtype = out;
  ctx.output(0).shape = Shape::of_rank(1);
  if (const auto v = const_ints(ctx, 0)) {
    ctx.check(v->size() == 1, "size must hold one value");
    const int64_t n = (*v)[0];
    ctx.check(n >= 0 && n <= (int64_t{1} << 32), "window size ", n, " is out of range");
    ctx.output(0).shape.dims[0] = Dim::of(n);
  }
}

}  // namespace

void infer_HannWindow(InferContext& ctx) { infer_window(ctx); }
void infer_HammingWindow(InferContext& ctx) { infer_window(ctx); }
void infer_BlackmanWindow(InferContext& ctx) { infer_window(ctx); }

// DFT: input [..., 1 | 2] (real | complex); the transform runs along `axis` (an attribute until
// opset 20, then input 2), with length dft_length (input 1, default: the axis size).
void infer_DFT(InferContext& ctx) {
  const DType t = ctx.dtype(0);
  ctx.check(is_float(t), "input must be f16, bf16, f32 or f64, got ", dtype_name(t));
  const Attributes& a = ctx.attr();
  const int64_t inverse = a.get_int("inverse", 0), onesided = a.get_int("onesided", 0);
  ctx.check(inverse == 0 || inverse == 1, "inverse must be 0 or 1, got ", inverse);
  ctx.check(onesided == 0 || onesided == 1, "onesided must be 0 or 1, got ", onesided);
  if (ctx.has_input(1)) {
    ctx.check(ctx.dtype(1) == DType::I32 || ctx.dtype(1) == DType::I64, "dft_length must be int32 or int64");
  }
  std::optional<int64_t> axis;
  if (ctx.opset >= 20) {
    if (ctx.has_input(2)) {
      ctx.check(ctx.dtype(2) == DType::I64, "axis must be int64");
      if (const auto v = const_ints(ctx, 2)) {
        ctx.check(v->size() == 1, "axis must be a scalar");
        axis = (*v)[0];
      }
    } else {
      axis = -2;
    }
  } else {
    axis = a.get_int("axis", 1);
  }
  ctx.output(0).dtype = t;
  const Shape& x = ctx.shape(0);
  if (!x.rank_known) {
    ctx.output(0).shape = Shape::unknown_rank();
    return;
  }
  const int64_t r = static_cast<int64_t>(x.rank());
  ctx.check(r >= 2, "input must have rank >= 2 (signal dims plus the complex dim), got ", x.to_string());
  const Dim& last = x.dims.back();
  ctx.check(!last.is_static() || last.value == 1 || last.value == 2,
            "last dim must be 1 (real) or 2 (complex), got ", last.value);
  Shape out = x;
  out.dims.back() = Dim::of(inverse && onesided ? 1 : 2);
  if (!axis) {
    for (int64_t i = 0; i + 1 < r; ++i) out.dims[static_cast<size_t>(i)] = Dim::unknown();
    ctx.output(0).shape = out;
    return;
  }
  ctx.check(*axis >= -r && *axis <= r - 2 && *axis != -1, "axis ", *axis,
            " is out of range [-", r, ", -2] U [0, ", r - 2, "]");
  const size_t ax = static_cast<size_t>(*axis < 0 ? *axis + r : *axis);
  std::optional<int64_t> n;
  if (ctx.has_input(1)) {
    if (const auto v = const_ints(ctx, 1)) {
      ctx.check(v->size() == 1, "dft_length must be a scalar");
      ctx.check((*v)[0] > 0, "dft_length must be positive, got ", (*v)[0]);
      n = (*v)[0];
    }
  } else if (x.dims[ax].is_static()) {
    n = inverse && onesided ? 2 * (x.dims[ax].value - 1) : x.dims[ax].value;
  }
  if (!n) out.dims[ax] = Dim::unknown();
  else out.dims[ax] = Dim::of(!inverse && onesided ? *n / 2 + 1 : *n);
  ctx.output(0).shape = std::move(out);
}

}  // namespace kiln
