// Shape and dtype inference: one function per op (ir/infer/*.cpp), driven by the op table.
// The same functions serve symbolic graphs (kilnc) and concrete tensors (the reference
// interpreter), so an op's output-shape rule is written once.
#pragma once

#include <string>
#include <vector>

#include "ir/attribute.h"
#include "ir/op_kind.h"
#include "ir/value_type.h"

namespace kiln {

class Graph;
class Node;

struct InferContext {
  OpKind op;
  int opset = 0;
  const Attributes* attrs = nullptr;
  std::string node_name;
  std::vector<const ValueType*> input_types;  // nullptr = absent optional input
  std::vector<const Tensor*> input_values;    // non-null where the value is known
  std::vector<ValueType> outputs;             // sized to the node's output count; fill them in

  size_t num_inputs() const { return input_types.size(); }
  bool has_input(size_t i) const { return i < input_types.size() && input_types[i] != nullptr; }
  const ValueType& input(size_t i) const;  // fails if absent
  const Shape& shape(size_t i) const { return input(i).shape; }
  DType dtype(size_t i) const { return input(i).dtype; }
  const Tensor* value(size_t i) const {
    return i < input_values.size() ? input_values[i] : nullptr;
  }
  size_t num_outputs() const { return outputs.size(); }
  ValueType& output(size_t i);
  const Attributes& attr() const { return *attrs; }

  // "Conv 'conv1': " prefix for errors.
  std::string where() const;
  template <typename... Args>
  [[noreturn]] void fail(const Args&... args) const {
    ::kiln::fail(where(), args...);
  }
  template <typename... Args>
  void check(bool cond, const Args&... args) const {
    if (!cond) fail(args...);
  }
};

using InferFn = void (*)(InferContext&);
InferFn infer_fn(OpKind op);

// Runs an op's inference after checking arity; errors are prefixed with the node label.
void infer_node(InferContext& ctx);

// The inference context of a graph node: its inputs' types and known constant values.
InferContext make_infer_context(const Node& n);

// Infers every node's output types in order, keeping declared dims inference cannot tell.
void infer_shapes(Graph& g);

#define KILN_OP(Name, ...) void infer_##Name(InferContext& ctx);
#include "ir/ops.def"
#undef KILN_OP

}  // namespace kiln
