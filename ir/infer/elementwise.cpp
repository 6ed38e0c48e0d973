// Shape and dtype inference for the elementwise ops: unary maps, Cast, the broadcasting
// binaries, Where and the variadic Max/Min/Sum/Mean. Each op checks its input dtypes against
// the union of what its ONNX versions 7..25 allow (plus opset-specific rules where they matter).
#include <string>

#include "ir/infer_util.h"

namespace kiln {

namespace {

// Dtype classes an op accepts. kString marks ops whose spec allows strings, which Kiln cannot
// hold in a tensor: those get fail_unsupported rather than a type error.
enum DTypeSet : unsigned {
  kFloat = 1,
  kSigned = 2,
  kUnsigned = 4,
  kBool = 8,
  kString = 16,
  kInt = kSigned | kUnsigned,
  kNumeric = kFloat | kInt,
  kAll = kNumeric | kBool | kString,
};

bool in_set(DType t, unsigned set) {
  return ((set & kFloat) && is_float(t)) || ((set & kSigned) && is_signed_int(t)) ||
         ((set & kUnsigned) && is_unsigned_int(t)) || ((set & kBool) && t == DType::Bool);
}

std::string set_name(unsigned set) {
  std::string s;
  auto add = [&](unsigned bit, const char* name) {
    if (!(set & bit)) return;
    if (!s.empty()) s += ", ";
    s += name;
  };
  add(kFloat, "f16/bf16/f32/f64");
  add(kSigned, "i8/i16/i32/i64");
  add(kUnsigned, "u8/u16/u32/u64");
  add(kBool, "bool");
  return s;
}

DType require_dtype(const InferContext& ctx, size_t i, unsigned set) {
  const DType t = ctx.dtype(i);
  if (in_set(t, set)) return t;
  if (t == DType::String && (set & kString)) {
    fail_unsupported(ctx.where(), "string tensors are not supported (input ", i, ")");
  }
  ctx.fail("input ", i, " has dtype ", dtype_name(t), "; expected ", set_name(set));
}

void require_same_dtype(const InferContext& ctx, size_t i, size_t j) {
  if (ctx.dtype(i) != ctx.dtype(j)) {
    ctx.fail("input ", j, " has dtype ", dtype_name(ctx.dtype(j)), " but input ", i, " has ",
             dtype_name(ctx.dtype(i)), "; they must match");
  }
}

// y = f(x) with y's dtype either x's or `out` (e.g. bool for IsNaN).
void unary(InferContext& ctx, unsigned set, DType out = DType::Undefined) {
  require_dtype(ctx, 0, set);
  same_as_input(ctx, 0);
  if (out != DType::Undefined) ctx.output(0).dtype = out;
}

// Two inputs of the same dtype, broadcast together; output dtype is the input's or `out`.
void binary(InferContext& ctx, unsigned set, DType out = DType::Undefined) {
  const DType t = require_dtype(ctx, 0, set);
  require_same_dtype(ctx, 0, 1);
  ctx.output(0).dtype = out == DType::Undefined ? t : out;
  ctx.output(0).shape = broadcast_shapes(ctx, ctx.shape(0), ctx.shape(1));
}

// Max/Min/Sum/Mean: 1..N inputs, same dtype; broadcasting from opset 8, equal shapes before.
void variadic(InferContext& ctx, unsigned set) {
  const DType t = require_dtype(ctx, 0, set);
  Shape s = ctx.shape(0);
  for (size_t i = 1; i < ctx.num_inputs(); ++i) {
    if (!ctx.has_input(i)) ctx.fail("input ", i, " is missing (inputs are not optional)");
    require_same_dtype(ctx, 0, i);
    const Shape& si = ctx.shape(i);
    if (ctx.opset < 8 && s.is_static() && si.is_static() && s.static_dims() != si.static_dims()) {
      ctx.fail("before opset 8 all inputs must have the same shape; input ", i, " is ",
               si.to_string(), ", input 0 is ", s.to_string());
    }
    s = broadcast_shapes(ctx, s, si);
  }
  ctx.output(0).dtype = t;
  ctx.output(0).shape = s;
}

void require_nonzero_attr(const InferContext& ctx, const char* name, float def) {
  const float v = ctx.attr().get_float(name, def);
  if (!(v != 0.0f)) ctx.fail("attribute ", name, " must be non-zero, got ", v);
}

}  // namespace

// ---- unary, same dtype out

#define KILN_UNARY(Name, Set) \
  void infer_##Name(InferContext& ctx) { unary(ctx, Set); }
KILN_UNARY(Abs, kNumeric)
KILN_UNARY(Neg, kFloat | kSigned)
KILN_UNARY(Floor, kFloat)
KILN_UNARY(Ceil, kFloat)
KILN_UNARY(Round, kFloat)
KILN_UNARY(Sqrt, kFloat)
KILN_UNARY(Reciprocal, kFloat)
KILN_UNARY(Exp, kFloat)
KILN_UNARY(Log, kFloat)
KILN_UNARY(Sin, kFloat)
KILN_UNARY(Cos, kFloat)
KILN_UNARY(Tan, kFloat)
KILN_UNARY(Asin, kFloat)
KILN_UNARY(Acos, kFloat)
KILN_UNARY(Atan, kFloat)
KILN_UNARY(Sinh, kFloat)
KILN_UNARY(Cosh, kFloat)
KILN_UNARY(Asinh, kFloat)
KILN_UNARY(Acosh, kFloat)
KILN_UNARY(Atanh, kFloat)
KILN_UNARY(Tanh, kFloat)
KILN_UNARY(Sigmoid, kFloat)
KILN_UNARY(Relu, kFloat | kSigned)  // signed ints from opset 14
KILN_UNARY(Sign, kNumeric)
KILN_UNARY(Not, kBool)
KILN_UNARY(Softsign, kFloat)
KILN_UNARY(Softplus, kFloat)
KILN_UNARY(HardSigmoid, kFloat)
KILN_UNARY(HardSwish, kFloat)
KILN_UNARY(Mish, kFloat)
KILN_UNARY(Elu, kFloat)
KILN_UNARY(Selu, kFloat)
KILN_UNARY(LeakyRelu, kFloat)
KILN_UNARY(ThresholdedRelu, kFloat)
KILN_UNARY(Shrink, kNumeric)
KILN_UNARY(Swish, kFloat)
KILN_UNARY(Identity, kAll)
KILN_UNARY(BitwiseNot, kInt)
#undef KILN_UNARY

// Erf accepted integer inputs in opset 9 only.
void infer_Erf(InferContext& ctx) { unary(ctx, ctx.opset < 13 ? kNumeric : kFloat); }

void infer_IsNaN(InferContext& ctx) { unary(ctx, kFloat, DType::Bool); }
void infer_IsInf(InferContext& ctx) { unary(ctx, kFloat, DType::Bool); }

// The spec lists only f32 for Celu; every float type computes the same formula.
void infer_Celu(InferContext& ctx) {
  unary(ctx, kFloat);
  require_nonzero_attr(ctx, "alpha", 1.0f);
}

void infer_Gelu(InferContext& ctx) {
  unary(ctx, kFloat);
  const std::string a = ctx.attr().get_string("approximate", "none");
  if (a != "none" && a != "tanh") ctx.fail("attribute approximate must be none or tanh, got '", a, "'");
}

// Clip: attributes min/max before opset 11, optional scalar inputs after. An input, when
// present, wins over an attribute of the same name.
void infer_Clip(InferContext& ctx) {
  unary(ctx, kNumeric);
  if (ctx.opset < 11 && (ctx.has_input(1) || ctx.has_input(2))) {
    ctx.fail("min/max are attributes before opset 11, not inputs (opset ", ctx.opset, ")");
  }
  for (size_t i = 1; i <= 2; ++i) {
    if (!ctx.has_input(i)) continue;
    require_same_dtype(ctx, 0, i);
    const Shape& s = ctx.shape(i);
    if (s.is_static() && checked_numel(s.static_dims()) != 1) {
      ctx.fail(i == 1 ? "min" : "max", " must be a scalar, got shape ", s.to_string());
    }
  }
}

// ---- Cast / CastLike

namespace {
// Maps an ONNX TensorProto.DataType code to a Kiln dtype; valid-but-unsupported codes
// (string, complex, float8, int4, float4, int2) fail_unsupported.
DType cast_target(const InferContext& ctx, int64_t code) {
  if (code >= 0 && code <= 0x7fffffff && dtype_is_valid(static_cast<int32_t>(code))) {
    return static_cast<DType>(code);
  }
  switch (code) {
    case 8: fail_unsupported(ctx.where(), "cast to string is not supported");
    case 14: case 15: fail_unsupported(ctx.where(), "cast to complex (", code, ") is not supported");
    case 17: case 18: case 19: case 20: case 24:
      fail_unsupported(ctx.where(), "cast to float8 (type ", code, ") is not supported");
    case 21: case 22: fail_unsupported(ctx.where(), "cast to int4/uint4 (type ", code, ") is not supported");
    case 23: fail_unsupported(ctx.where(), "cast to float4e2m1 is not supported");
    case 25: case 26: fail_unsupported(ctx.where(), "cast to int2/uint2 (type ", code, ") is not supported");
    default: ctx.fail("attribute 'to' = ", code, " is not an ONNX data type");
  }
}

constexpr unsigned kCastable = kNumeric | kBool | kString;
}  // namespace

void infer_Cast(InferContext& ctx) {
  require_dtype(ctx, 0, kCastable);
  if (!ctx.attr().has("to")) ctx.fail("attribute 'to' is required");
  const DType to = cast_target(ctx, ctx.attr().get_int("to"));
  same_as_input(ctx, 0);
  ctx.output(0).dtype = to;
}

void infer_CastLike(InferContext& ctx) {
  require_dtype(ctx, 0, kCastable);
  const DType to = require_dtype(ctx, 1, kCastable);
  same_as_input(ctx, 0);
  ctx.output(0).dtype = to;
}

// ---- broadcasting binaries

#define KILN_BINARY(Name, Set, Out) \
  void infer_##Name(InferContext& ctx) { binary(ctx, Set, Out); }
KILN_BINARY(Add, kNumeric, DType::Undefined)
KILN_BINARY(Sub, kNumeric, DType::Undefined)
KILN_BINARY(Mul, kNumeric, DType::Undefined)
KILN_BINARY(Div, kNumeric, DType::Undefined)
KILN_BINARY(And, kBool, DType::Undefined)
KILN_BINARY(Or, kBool, DType::Undefined)
KILN_BINARY(Xor, kBool, DType::Undefined)
KILN_BINARY(BitwiseAnd, kInt, DType::Undefined)
KILN_BINARY(BitwiseOr, kInt, DType::Undefined)
KILN_BINARY(BitwiseXor, kInt, DType::Undefined)
KILN_BINARY(Equal, kNumeric | kBool | kString, DType::Bool)
KILN_BINARY(Less, kNumeric, DType::Bool)
KILN_BINARY(Greater, kNumeric, DType::Bool)
KILN_BINARY(LessOrEqual, kNumeric, DType::Bool)
KILN_BINARY(GreaterOrEqual, kNumeric, DType::Bool)
#undef KILN_BINARY

// Pow: base and exponent may differ in dtype (opset 12+); the result has the base's dtype.
void infer_Pow(InferContext& ctx) {
  const DType base = require_dtype(ctx, 0, kFloat | kSigned | kUnsigned);
  require_dtype(ctx, 1, kNumeric);
  if (ctx.opset < 12) require_same_dtype(ctx, 0, 1);
  ctx.output(0).dtype = base;
  ctx.output(0).shape = broadcast_shapes(ctx, ctx.shape(0), ctx.shape(1));
}

// Mod: fmod=0 is Python's % (integers only); fmod=1 is C's fmod (any numeric type).
void infer_Mod(InferContext& ctx) {
  binary(ctx, kNumeric);
  const int64_t fmod = ctx.attr().get_int("fmod", 0);
  if (fmod != 0 && fmod != 1) ctx.fail("attribute fmod must be 0 or 1, got ", fmod);
  if (fmod == 0 && is_float(ctx.dtype(0))) {
    ctx.fail("floating-point inputs (", dtype_name(ctx.dtype(0)), ") require fmod=1");
  }
}

void infer_BitShift(InferContext& ctx) {
  binary(ctx, kUnsigned);
  const std::string dir = ctx.attr().get_string("direction", "");
  if (dir != "LEFT" && dir != "RIGHT") {
    ctx.fail("attribute direction must be LEFT or RIGHT, got '", dir, "'");
  }
}

// PRelu: slope broadcasts unidirectionally to X, so Y has X's shape. As in ONNX Runtime and the
// ONNX reference, a 1-D slope that does not broadcast but matches exactly one dim of X applies
// along that dim (the pre-opset-7 per-channel form).
void infer_PRelu(InferContext& ctx) {
  require_dtype(ctx, 0, kNumeric);
  require_same_dtype(ctx, 0, 1);
  same_as_input(ctx, 0);
  const Shape& x = ctx.shape(0);
  const Shape& s = ctx.shape(1);
  if (!x.rank_known || !s.rank_known) return;
  bool ok = s.rank() <= x.rank();
  for (size_t i = 0; ok && i < s.rank(); ++i) {
    const Dim& ds = s.dims[s.rank() - 1 - i];
    const Dim& dx = x.dims[x.rank() - 1 - i];
    if (ds.is_static() && ds.value != 1 && dx.is_static() && ds.value != dx.value) ok = false;
  }
  if (ok) return;
  if (s.rank() == 1 && s.dims[0].is_static()) {
    int matches = 0;
    bool unknown = false;
    for (const Dim& d : x.dims) {
      matches += d.is_static() && d.value == s.dims[0].value;
      unknown = unknown || !d.is_static();
    }
    if (matches == 1 || (unknown && matches == 0)) return;  // per-channel form (or undecidable)
  }
  ctx.fail("slope shape ", s.to_string(), " does not broadcast to X shape ", x.to_string());
}

void infer_Where(InferContext& ctx) {
  if (ctx.dtype(0) != DType::Bool) {
    ctx.fail("condition (input 0) must be bool, got ", dtype_name(ctx.dtype(0)));
  }
  const DType t = require_dtype(ctx, 1, kAll);
  require_same_dtype(ctx, 1, 2);
  ctx.output(0).dtype = t;
  ctx.output(0).shape = broadcast_shapes(
      ctx, broadcast_shapes(ctx, ctx.shape(0), ctx.shape(1)), ctx.shape(2));
}

// ---- variadic

void infer_Max(InferContext& ctx) { variadic(ctx, kNumeric); }
void infer_Min(InferContext& ctx) { variadic(ctx, kNumeric); }
void infer_Sum(InferContext& ctx) { variadic(ctx, kFloat); }
void infer_Mean(InferContext& ctx) { variadic(ctx, kFloat); }

}  // namespace kiln
