#include "passes/epilogue_match.h"

#include <limits>

#include "passes/pattern_util.h"

namespace kiln {

bool is_float_dtype(DType d) {
  return d == DType::F32 || d == DType::F64 || d == DType::F16 || d == DType::BF16;
}

namespace {

// A Clip bound as a float attribute: from the opset-11 input (a constant scalar), the
// opset-6 attribute, or the float range when absent. nullopt when it cannot be expressed.
std::optional<float> clip_bound(const Graph& g, const Node& n, size_t input, const char* attr,
                                bool lower) {
  const float none =
      lower ? std::numeric_limits<float>::lowest() : std::numeric_limits<float>::max();
  const bool is_f64 = n.input(0)->type.dtype == DType::F64;
  if (n.opset >= 11) {
    const Value* v = n.input(input);
    if (!v) {
      // f64's own range is wider than the float default of the fused attribute.
      if (is_f64) return std::nullopt;
      return none;
    }
    const std::optional<double> s = scalar_constant(g, v);
    if (!s || static_cast<double>(static_cast<float>(*s)) != *s) return std::nullopt;
    return static_cast<float>(*s);
  }
  return n.attrs.get_float(attr, none);
}

}  // namespace

bool match_activation(const Graph& g, const Node& n, Attributes& attrs) {
  const Value* x = n.input(0);
  if (!x || !is_float_dtype(x->type.dtype)) return false;
  auto set = [&](const char* name) { attrs.set("activation", Attribute::of_string(name)); };
  switch (n.op) {
    case OpKind::Relu:
      set("Relu");
      return true;
    case OpKind::Sigmoid:
      set("Sigmoid");
      return true;
    case OpKind::Tanh:
      set("Tanh");
      return true;
    case OpKind::HardSwish:
      set("HardSwish");
      return true;
    case OpKind::LeakyRelu:
      set("LeakyRelu");
      attrs.set("activation_alpha", Attribute::of_float(n.attrs.get_float("alpha", 0.01f)));
      return true;
    case OpKind::HardSigmoid:
      set("HardSigmoid");
      attrs.set("activation_alpha", Attribute::of_float(n.attrs.get_float("alpha", 0.2f)));
      attrs.set("activation_beta", Attribute::of_float(n.attrs.get_float("beta", 0.5f)));
      return true;
    case OpKind::Gelu:
      if (n.attrs.get_string("approximate", "none") != "none") return false;
      set("Gelu");
      return true;
    case OpKind::Clip: {
      const std::optional<float> lo = clip_bound(g, n, 1, "min", true);
      const std::optional<float> hi = clip_bound(g, n, 2, "max", false);
      if (!lo || !hi) return false;
      set("Clip");
      attrs.set("activation_alpha", Attribute::of_float(*lo));
      attrs.set("activation_beta", Attribute::of_float(*hi));
      return true;
    }
    default:
      return false;
  }
}

Value* residual_operand(const Node& n, const Value* cur, bool same_shape) {
  if (n.op != OpKind::Add) return nullptr;
  Value* z = other_operand(n, cur);
  const Value* out = n.output(0);
  if (!z || !out || z->type.dtype != cur->type.dtype || out->type.dtype != cur->type.dtype)
    return nullptr;
  const Shape& s = cur->type.shape;
  if (!s.rank_known || !(out->type.shape == s)) return nullptr;
  if (same_shape && !(z->type.shape == s)) return nullptr;
  return z;
}

}  // namespace kiln
