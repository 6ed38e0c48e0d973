// Kiln's graph IR: Values (SSA edges with a static type) produced and consumed by Nodes.
// A Graph owns its nodes and values. Nodes are kept in a topological order.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "ir/attribute.h"
#include "ir/op_kind.h"
#include "ir/tensor.h"
#include "ir/value_type.h"

namespace kiln {

class Node;

struct Use {
  Node* node;
  int input_index;
};

class Value {
 public:
  const std::string& name() const { return name_; }
  ValueType type;
  // Set for initializers (weights) and values that passes turned into constants.
  std::optional<Tensor> constant;

  Node* producer() const { return producer_; }
  int producer_output() const { return producer_output_; }
  const std::vector<Use>& uses() const { return uses_; }
  bool is_constant() const { return constant.has_value(); }

 private:
  friend class Graph;
  std::string name_;
  Node* producer_ = nullptr;
  int producer_output_ = 0;
  std::vector<Use> uses_;
};

class Node {
 public:
  OpKind op;
  std::string name;
  int opset = 0;  // the default-domain opset the node's semantics follow
  Attributes attrs;

  const std::vector<Value*>& inputs() const { return inputs_; }    // nullptr = absent optional
  const std::vector<Value*>& outputs() const { return outputs_; }  // nullptr = unused optional
  Value* input(size_t i) const { return i < inputs_.size() ? inputs_[i] : nullptr; }
  Value* output(size_t i) const { return i < outputs_.size() ? outputs_[i] : nullptr; }
  std::string label() const;  // "Conv 'conv1'" for messages

 private:
  friend class Graph;
  std::vector<Value*> inputs_;
  std::vector<Value*> outputs_;
};

class Graph {
 public:
  Graph() = default;
  Graph(const Graph&) = delete;
  Graph& operator=(const Graph&) = delete;

  std::string name = "main";
  int opset = 17;  // default-domain opset of the model
  std::vector<Value*> inputs;   // graph inputs (not initializers)
  std::vector<Value*> outputs;  // graph outputs

  // Values. Names are unique within a graph; add_value fails on a duplicate.
  Value* add_value(const std::string& name, ValueType type = {});
  Value* add_constant(const std::string& name, Tensor t);
  Value* find_value(const std::string& name) const;
  std::string unique_name(const std::string& base);
  const std::vector<std::unique_ptr<Value>>& values() const { return values_; }

  // Nodes. add_node appends; outputs must be values with no producer yet.
  Node* add_node(OpKind op, std::vector<Value*> inputs, std::vector<Value*> outputs,
                 Attributes attrs = {}, std::string name = {}, int opset = 0);
  const std::vector<std::unique_ptr<Node>>& nodes() const { return nodes_; }
  void set_input(Node* n, size_t index, Value* v);
  void remove_node(Node* n);  // its outputs lose their producer
  void replace_all_uses(Value* from, Value* to);
  // Drops values that are neither used, produced, graph I/O nor constants referenced anywhere.
  void remove_dead_values();
  // Orders nodes so producers come first; fails naming a node on a cycle.
  void topo_sort();

  int64_t num_parameters() const;  // elements across constants
  int64_t parameter_bytes() const;

 private:
  std::vector<std::unique_ptr<Value>> values_;
  std::unordered_map<std::string, Value*> by_name_;
  std::vector<std::unique_ptr<Node>> nodes_;
  int64_t name_counter_ = 0;
};

}  // namespace kiln
