// Shape inference for ops that produce shapes or fresh tensors:
// Shape, Size, ConstantOfShape, Range, Constant, EyeLike.
#include <cmath>

#include "ir/infer/shape_args.h"
#include "ir/infer_util.h"

namespace kiln {

void infer_Shape(InferContext& ctx) {
  ctx.output(0).dtype = DType::I64;
  const Shape& in = ctx.shape(0);
  if (!in.rank_known) {
    ctx.output(0).shape = Shape::of_rank(1);
    return;
  }
  const int64_t r = static_cast<int64_t>(in.rank());
  int64_t start = 0, end = r;
  if (ctx.opset >= 15) {
    start = ctx.attr().get_int("start", 0);
    end = ctx.attr().get_int("end", r);
  }
  auto clamp = [r](int64_t v) { return std::clamp<int64_t>(v < 0 ? v + r : v, 0, r); };
  ctx.output(0).shape = Shape::of({std::max<int64_t>(clamp(end) - clamp(start), 0)});
}

void infer_Size(InferContext& ctx) {
  ctx.output(0).dtype = DType::I64;
  ctx.output(0).shape = Shape::of({});
}

void infer_ConstantOfShape(InferContext& ctx) {
  const OpArgs a = op_args(ctx);
  DType dt = DType::F32;
  if (const Attribute* v = ctx.attr().find("value")) {
    ctx.check(v->kind == Attribute::Kind::Tensor, "attribute 'value' must be a tensor");
    ctx.check(v->t.numel() == 1, "attribute 'value' must hold one element, got ", v->t.describe());
    dt = v->t.dtype();
  }
  ctx.output(0).dtype = dt;
  ctx.check(ctx.dtype(0) == DType::I64, "input must be i64, got ", dtype_name(ctx.dtype(0)));
  auto dims = a.ints(0, "input");
  if (dims) {
    for (int64_t d : *dims) ctx.check(d >= 0, "shape value ", d, " is negative");
    checked_numel(*dims);
    ctx.output(0).shape = Shape::of(*dims);
    return;
  }
  const Shape& s = ctx.shape(0);
  ctx.output(0).shape = s.rank_known && s.rank() == 1 && s.dims[0].is_static()
                            ? Shape::of_rank(static_cast<size_t>(s.dims[0].value))
                            : Shape::unknown_rank();
}

// Number of elements of Range(start, limit, delta); shared rule: max(ceil((l - s) / d), 0).
static int64_t range_count(const InferContext& ctx, const Tensor& s, const Tensor& l,
                           const Tensor& d) {
  if (is_int(s.dtype())) {
    const __int128 start = s.as_int64(0), limit = l.as_int64(0), delta = d.as_int64(0);
    ctx.check(delta != 0, "delta is 0");
    const __int128 diff = limit - start;
    __int128 n = diff / delta;
    if (n * delta != diff) ++n;  // ceil for same-sign; negative values clamp to 0 below
    if (n < 0) n = 0;
    ctx.check(n <= (static_cast<__int128>(1) << 40), "range of ", static_cast<int64_t>(n),
              " elements is too large");
    return static_cast<int64_t>(n);
  }
  const double start = s.as_double(0), limit = l.as_double(0), delta = d.as_double(0);
  ctx.check(delta != 0 && std::isfinite(delta) && std::isfinite(start) && std::isfinite(limit),
            "start/limit/delta must be finite with delta != 0, got ", start, ", ", limit, ", ",
            delta);
  const double n = std::ceil((limit - start) / delta);
  ctx.check(n <= static_cast<double>(int64_t{1} << 40), "range of ", n, " elements is too large");
  return n > 0 ? static_cast<int64_t>(n) : 0;
}

void infer_Range(InferContext& ctx) {
  const DType dt = ctx.dtype(0);
  // f16 and bf16 arrived in opset 27; accepting them earlier is harmless.
  ctx.check(is_float(dt) || dt == DType::I16 || dt == DType::I32 || dt == DType::I64, "dtype ",
            dtype_name(dt), " is not allowed (f16, bf16, f32, f64, i16, i32, i64)");
  for (size_t i = 0; i < 3; ++i) {
    ctx.check(ctx.dtype(i) == dt, "inputs must share one dtype; input ", i, " is ",
              dtype_name(ctx.dtype(i)));
    const Shape& s = ctx.shape(i);
    ctx.check(!s.rank_known || s.rank() == 0 || (s.rank() == 1 && s.dims[0].value == 1), "input ",
              i, " must be a scalar, got ", s.to_string());
  }
  ctx.output(0).dtype = dt;
  if (ctx.value(0) && ctx.value(1) && ctx.value(2)) {
    ctx.output(0).shape =
        Shape::of({range_count(ctx, *ctx.value(0), *ctx.value(1), *ctx.value(2))});
  } else {
    ctx.output(0).shape = Shape::of_rank(1);
  }
}

void infer_Constant(InferContext& ctx) {
  const auto& all = ctx.attr().all();
  ctx.check(all.size() == 1, "needs exactly one value attribute, got ", all.size());
  const auto& [name, at] = *all.begin();
  ValueType& out = ctx.output(0);
  if (name == "value") {
    ctx.check(at.kind == Attribute::Kind::Tensor, "attribute 'value' must be a tensor");
    ctx.check(at.t.defined(), "attribute 'value' holds no tensor");
    out = ValueType::of(at.t.dtype(), at.t.dims());
  } else if (name == "value_float") {
    out = ValueType::of(DType::F32, {});
  } else if (name == "value_floats") {
    out = ValueType::of(DType::F32, {static_cast<int64_t>(ctx.attr().get_floats(name).size())});
  } else if (name == "value_int") {
    out = ValueType::of(DType::I64, {});
  } else if (name == "value_ints") {
    out = ValueType::of(DType::I64, {static_cast<int64_t>(ctx.attr().get_ints(name).size())});
  } else if (name == "value_string" || name == "value_strings") {
    fail_unsupported(ctx.where(), "string constants ('", name, "') are not supported");
  } else if (name == "sparse_value") {
    fail_unsupported(ctx.where(), "sparse constants ('sparse_value') are not supported");
  } else {
    ctx.fail("unknown attribute '", name, "'");
  }
  if (name != "value") ctx.check(ctx.opset >= 12, "attribute '", name, "' needs opset 12");
}

void infer_EyeLike(InferContext& ctx) {
  DType dt = ctx.dtype(0);
  if (ctx.attr().has("dtype")) {
    const int64_t code = ctx.attr().get_int("dtype");
    ctx.check(code >= 0 && code <= 64 && dtype_is_valid(static_cast<int32_t>(code)), "dtype ", code,
              " is not a supported data type");
    dt = static_cast<DType>(code);
  }
  ctx.check(dt != DType::String && ctx.dtype(0) != DType::String, "strings are not allowed");
  const Shape& in = ctx.shape(0);
  ctx.check(!in.rank_known || in.rank() == 2, "input must be 2-D, got ", in.to_string());
  ctx.output(0).dtype = dt;
  ctx.output(0).shape = in.rank_known ? in : Shape::of_rank(2);
}

}  // namespace kiln
