#include "passes/pattern_util.h"

#include <algorithm>
#include <cmath>

namespace kiln {

bool is_graph_output(const Graph& g, const Value* v) {
  return std::find(g.outputs.begin(), g.outputs.end(), v) != g.outputs.end();
}

Node* sole_consumer(const Graph& g, const Value* v) {
  if (!v || v->uses().size() != 1 || is_graph_output(g, v)) return nullptr;
  return v->uses()[0].node;
}

const Tensor* constant_tensor(const Graph& g, const Value* v) {
  if (!v || !v->is_constant()) return nullptr;
  if (std::find(g.inputs.begin(), g.inputs.end(), v) != g.inputs.end()) return nullptr;
  return &*v->constant;
}

std::optional<double> scalar_constant(const Graph& g, const Value* v) {
  const Tensor* t = constant_tensor(g, v);
  if (!t || t->numel() != 1 || t->dtype() == DType::String) return std::nullopt;
  return t->as_double(0);
}

bool is_scalar_near(const Graph& g, const Value* v, double want, double rel_tol) {
  const std::optional<double> s = scalar_constant(g, v);
  return s && std::abs(*s - want) <= rel_tol * std::abs(want);
}

Value* other_operand(const Node& n, const Value* v) {
  if (n.inputs().size() != 2) return nullptr;
  if (n.input(0) == v && n.input(1) != v) return n.input(1);
  if (n.input(1) == v && n.input(0) != v) return n.input(0);
  return nullptr;
}

void bypass_node(Graph& g, Node* n, Value* to) {
  Value* out = n->output(0);
  const int opset = n->opset;
  const std::string name = n->name;
  const bool named_output = is_graph_output(g, out);
  const std::vector<Value*> outputs = g.outputs;
  g.replace_all_uses(out, to);
  g.outputs = outputs;  // replace_all_uses also renames graph outputs; they keep theirs
  g.remove_node(n);
  if (named_output) g.add_node(OpKind::Identity, {to}, {out}, {}, name, opset);
}

bool remove_if_unused(Graph& g, Node* n) {
  for (const Value* v : n->outputs())
    if (v && (!v->uses().empty() || is_graph_output(g, v))) return false;
  g.remove_node(n);
  return true;
}

Node* replace_chain(Graph& g, const std::vector<Node*>& matched, OpKind op,
                    std::vector<Value*> inputs, Value* out, Attributes attrs) {
  // The fused node takes the name of the chain's first node (the conv / matmul / input op).
  const std::string name = matched.front()->name;
  const int opset = matched.front()->opset;
  for (auto it = matched.rbegin(); it != matched.rend(); ++it) g.remove_node(*it);
  return g.add_node(op, std::move(inputs), {out}, std::move(attrs), name, opset);
}

Value* add_constant_named(Graph& g, const std::string& base, Tensor t) {
  return g.add_constant(g.unique_name(base), std::move(t));
}

std::vector<double> float_values(const Tensor& t) {
  std::vector<double> v(static_cast<size_t>(t.numel()));
  for (int64_t i = 0; i < t.numel(); ++i) v[static_cast<size_t>(i)] = t.as_double(i);
  return v;
}

Tensor float_tensor(DType dtype, const Dims& dims, const std::vector<double>& values) {
  Tensor t(dtype, dims);
  KILN_CHECK(static_cast<size_t>(t.numel()) == values.size(), "float_tensor: ", values.size(),
             " values for ", dims_to_string(dims));
  auto fill = [&]<typename T>() {
    T* p = t.data<T>();
    for (size_t i = 0; i < values.size(); ++i) p[i] = static_cast<T>(static_cast<float>(values[i]));
  };
  switch (dtype) {
    case DType::F32:
      fill.operator()<float>();
      break;
    case DType::F16:
      fill.operator()<half>();
      break;
    case DType::BF16:
      fill.operator()<bfloat16>();
      break;
    case DType::F64: {
      double* p = t.data<double>();
      std::copy(values.begin(), values.end(), p);
      break;
    }
    default:
      fail("float_tensor: ", dtype_name(dtype), " is not a float dtype");
  }
  return t;
}

std::optional<std::vector<int64_t>> constant_ints(const Graph& g, const Value* v) {
  const Tensor* t = constant_tensor(g, v);
  if (!t || (t->dtype() != DType::I64 && t->dtype() != DType::I32) || t->rank() > 1)
    return std::nullopt;
  std::vector<int64_t> out;
  for (int64_t i = 0; i < t->numel(); ++i) out.push_back(t->as_int64(i));
  return out;
}

}  // namespace kiln
