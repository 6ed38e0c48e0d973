// Inference for Kiln's fused ops. Each is its unfused pattern's inference run on the same
// inputs (Conv / MatMul with B optionally transposed), plus checks of the epilogue operands:
//   KilnFusedConv(X, W, B?, Z?)        Y = act(Conv(X, W, B) + Z), Z shaped like Y
//   KilnFusedMatMul(A, B, bias?, Z?)   Y = act(alpha * A @ op(B) + bias + Z), bias [N],
//                                      Z broadcastable to Y, op(B) = B^T when trans_b = 1
#include <array>
#include <limits>
#include <utility>

#include "ir/infer/fused_activation.h"
#include "ir/infer_util.h"

namespace kiln {

namespace {

constexpr std::array<std::pair<const char*, OpKind>, 8> kActivations = {{
    {"Relu", OpKind::Relu},
    {"LeakyRelu", OpKind::LeakyRelu},
    {"Sigmoid", OpKind::Sigmoid},
    {"Tanh", OpKind::Tanh},
    {"Clip", OpKind::Clip},
    {"HardSigmoid", OpKind::HardSigmoid},
    {"HardSwish", OpKind::HardSwish},
    {"Gelu", OpKind::Gelu},
}};

void require_float_input(const InferContext& ctx, size_t i) {
  if (!is_float(ctx.dtype(i))) {
    ctx.fail("input ", i, " has dtype ", dtype_name(ctx.dtype(i)),
             ", expected f32, f64, f16 or bf16");
  }
}

void require_same_dtype(const InferContext& ctx, size_t a, size_t b) {
  if (ctx.dtype(a) != ctx.dtype(b)) {
    ctx.fail("inputs ", a, " and ", b, " must have the same dtype, got ", dtype_name(ctx.dtype(a)),
             " and ", dtype_name(ctx.dtype(b)));
  }
}

// Output 0 of `fn` run on the first `n` inputs of `ctx` (input 1's type replaced by `b`
// when given), errors still naming the fused node.
ValueType infer_inner(const InferContext& ctx, InferFn fn, size_t n, const ValueType* b = nullptr) {
  InferContext inner = ctx;
  inner.input_types.resize(std::min(n, inner.input_types.size()));
  inner.input_values.resize(inner.input_types.size());
  if (b) {
    inner.input_types[1] = b;
    inner.input_values[1] = nullptr;
  }
  inner.outputs.assign(1, ValueType{});
  fn(inner);
  return std::move(inner.outputs[0]);
}

void check_activation(const InferContext& ctx) {
  const std::string act = ctx.attr().get_string("activation", "");
  fused_activation_op(act, ctx.where());
  const int64_t trans_b = ctx.attr().get_int("trans_b", 0);
  if (trans_b != 0 && trans_b != 1) ctx.fail("attribute trans_b must be 0 or 1, got ", trans_b);
}

// True when static dims of `a` and `b` agree wherever both are known (ranks must match).
bool shapes_compatible(const Shape& a, const Shape& b) {
  if (!a.rank_known || !b.rank_known) return true;
  if (a.rank() != b.rank()) return false;
  for (size_t i = 0; i < a.rank(); ++i) {
    if (a.dims[i].is_static() && b.dims[i].is_static() && a.dims[i].value != b.dims[i].value)
      return false;
  }
  return true;
}

}  // namespace

std::optional<OpKind> fused_activation_op(const std::string& name, const std::string& where) {
  if (name.empty()) return std::nullopt;
  for (const auto& [n, op] : kActivations)
    if (name == n) return op;
  // `where` may be a node label ("Conv 'c1'") or an error prefix that already ends in ": ".
  const bool has_colon = where.size() >= 2 && where.compare(where.size() - 2, 2, ": ") == 0;
  fail(where, has_colon || where.empty() ? "" : ": ", "activation '", name,
       "' is not one of Relu, LeakyRelu, Sigmoid, Tanh, Clip, HardSigmoid, HardSwish, Gelu");
}

ActivationCall fused_activation_call(OpKind op, const Attributes& fused) {
  ActivationCall call;
  const Attribute* alpha = fused.find("activation_alpha");
  const Attribute* beta = fused.find("activation_beta");
  switch (op) {
    case OpKind::LeakyRelu:
      call.attrs.set("alpha", Attribute::of_float(alpha ? alpha->f : 0.01f));
      break;
    case OpKind::HardSigmoid:
      call.attrs.set("alpha", Attribute::of_float(alpha ? alpha->f : 0.2f));
      call.attrs.set("beta", Attribute::of_float(beta ? beta->f : 0.5f));
      break;
    case OpKind::Clip:
      call.opset = 6;
      call.attrs.set("min",
                     Attribute::of_float(alpha ? alpha->f : std::numeric_limits<float>::lowest()));
      call.attrs.set("max",
                     Attribute::of_float(beta ? beta->f : std::numeric_limits<float>::max()));
      break;
    case OpKind::Gelu:
      call.attrs.set("approximate", Attribute::of_string("none"));
      break;
    default:
      break;
  }
  return call;
}

void infer_KilnFusedConv(InferContext& ctx) {
  check_activation(ctx);
  require_float_input(ctx, 0);
  const ValueType y = infer_inner(ctx, infer_Conv, 3);
  if (ctx.has_input(3)) {
    require_same_dtype(ctx, 0, 3);
    if (!shapes_compatible(ctx.shape(3), y.shape)) {
      ctx.fail("residual Z ", ctx.shape(3).to_string(), " must have the output's shape ",
               y.shape.to_string());
    }
  }
  ctx.output(0) = y;
}

void infer_KilnFusedMatMul(InferContext& ctx) {
  check_activation(ctx);
  require_float_input(ctx, 0);
  require_same_dtype(ctx, 0, 1);
  // With trans_b, B is a 2-D [N, K]; MatMul's rule then sees it as [K, N].
  std::optional<ValueType> bt;
  if (ctx.attr().get_int("trans_b", 0) == 1) {
    const Shape& b = ctx.shape(1);
    if (b.rank_known && b.rank() != 2)
      ctx.fail("with trans_b = 1, B must be 2-D, got ", b.to_string());
    bt = ctx.input(1);
    if (b.rank_known) std::swap(bt->shape.dims[0], bt->shape.dims[1]);
  }
  ValueType y = infer_inner(ctx, infer_MatMul, 2, bt ? &*bt : nullptr);
  if (y.shape.rank_known && y.shape.rank() == 0) ctx.fail("A and B must not both be 1-D");
  if (ctx.has_input(2)) {
    require_same_dtype(ctx, 0, 2);
    const Shape& s = ctx.shape(2);
    const Dim n = y.shape.rank_known ? y.shape.dims.back() : Dim::unknown();
    if (s.rank_known &&
        (s.rank() != 1 || (s.dims[0].is_static() && n.is_static() && s.dims[0].value != n.value))) {
      ctx.fail("bias ", s.to_string(), " must be 1-D with one value per output column (",
               n.to_string(), ")");
    }
  }
  if (ctx.has_input(3)) {
    require_same_dtype(ctx, 0, 3);
    const Shape b = broadcast_shapes(ctx, y.shape, ctx.shape(3));
    if (!shapes_compatible(b, y.shape)) {
      ctx.fail("residual Z ", ctx.shape(3).to_string(),
               " does not broadcast to the output's shape ", y.shape.to_string());
    }
  }
  ctx.output(0) = std::move(y);
}

}  // namespace kiln
