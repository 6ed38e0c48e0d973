#include "ir/graph.h"

#include <algorithm>
#include <queue>
#include <unordered_set>

namespace kiln {

std::string Node::label() const {
  std::string s(op_name(op));
  if (!name.empty()) s += " '" + name + "'";
  return s;
}

Value* Graph::add_value(const std::string& name, ValueType type) {
  KILN_CHECK(!name.empty(), "graph '", this->name, "': value with an empty name");
  KILN_CHECK(!by_name_.count(name), "graph '", this->name, "': value '", name,
             "' is defined more than once");
  auto v = std::make_unique<Value>();
  v->name_ = name;
  v->type = std::move(type);
  Value* raw = v.get();
  values_.push_back(std::move(v));
  by_name_[name] = raw;
  return raw;
}

Value* Graph::add_constant(const std::string& name, Tensor t) {
  Value* v = add_value(name, ValueType::of(t.dtype(), t.dims()));
  v->constant = std::move(t);
  return v;
}

Value* Graph::find_value(const std::string& name) const {
  auto it = by_name_.find(name);
  return it == by_name_.end() ? nullptr : it->second;
}

std::string Graph::unique_name(const std::string& base) {
  std::string n = base;
  while (by_name_.count(n)) n = base + "_" + std::to_string(++name_counter_);
  return n;
}

Node* Graph::add_node(OpKind op, std::vector<Value*> inputs, std::vector<Value*> outputs,
                      Attributes attrs, std::string name, int node_opset) {
  auto n = std::make_unique<Node>();
  n->op = op;
  n->name = std::move(name);
  n->opset = node_opset ? node_opset : opset;
  n->attrs = std::move(attrs);
  n->inputs_ = std::move(inputs);
  n->outputs_ = std::move(outputs);
  Node* raw = n.get();
  for (size_t i = 0; i < raw->inputs_.size(); ++i) {
    if (raw->inputs_[i]) raw->inputs_[i]->uses_.push_back({raw, static_cast<int>(i)});
  }
  for (size_t i = 0; i < raw->outputs_.size(); ++i) {
    Value* v = raw->outputs_[i];
    if (!v) continue;
    KILN_CHECK(!v->producer_, raw->label(), ": output '", v->name(), "' is already produced by ",
               v->producer_->label());
    KILN_CHECK(!v->is_constant(), raw->label(), ": output '", v->name(), "' is an initializer");
    v->producer_ = raw;
    v->producer_output_ = static_cast<int>(i);
  }
  nodes_.push_back(std::move(n));
  return raw;
}

void Graph::set_input(Node* n, size_t index, Value* v) {
  if (index >= n->inputs_.size()) n->inputs_.resize(index + 1, nullptr);
  Value* old = n->inputs_[index];
  if (old) {
    auto& u = old->uses_;
    u.erase(std::remove_if(u.begin(), u.end(),
                           [&](const Use& x) {
                             return x.node == n && x.input_index == static_cast<int>(index);
                           }),
            u.end());
  }
  n->inputs_[index] = v;
  if (v) v->uses_.push_back({n, static_cast<int>(index)});
}

void Graph::remove_node(Node* n) {
  for (size_t i = 0; i < n->inputs_.size(); ++i) set_input(n, i, nullptr);
  for (Value* v : n->outputs_) {
    if (v) v->producer_ = nullptr;
  }
  auto it = std::find_if(nodes_.begin(), nodes_.end(), [&](const auto& p) { return p.get() == n; });
  KILN_CHECK(it != nodes_.end(), "remove_node: node not in graph");
  nodes_.erase(it);
}

void Graph::replace_all_uses(Value* from, Value* to) {
  std::vector<Use> uses = from->uses_;
  for (const Use& u : uses) set_input(u.node, static_cast<size_t>(u.input_index), to);
  for (Value*& o : outputs)
    if (o == from) o = to;
}

void Graph::remove_dead_values() {
  std::unordered_set<Value*> keep(inputs.begin(), inputs.end());
  keep.insert(outputs.begin(), outputs.end());
  std::vector<std::unique_ptr<Value>> kept;
  for (auto& v : values_) {
    if (keep.count(v.get()) || v->producer_ || !v->uses_.empty()) {
      kept.push_back(std::move(v));
    } else {
      by_name_.erase(v->name_);
    }
  }
  values_ = std::move(kept);
}

void Graph::topo_sort() {
  // Kahn's algorithm, stable with respect to the current order.
  std::unordered_map<Node*, int> pending;
  std::unordered_map<Node*, size_t> position;
  for (size_t i = 0; i < nodes_.size(); ++i) {
    Node* n = nodes_[i].get();
    position[n] = i;
    int count = 0;
    for (Value* v : n->inputs_)
      if (v && v->producer_) ++count;
    pending[n] = count;
  }
  // Min-heap on the original position keeps the existing order where it is already valid.
  auto later = [&](Node* a, Node* b) { return position[a] > position[b]; };
  std::priority_queue<Node*, std::vector<Node*>, decltype(later)> ready(later);
  for (auto& n : nodes_)
    if (pending[n.get()] == 0) ready.push(n.get());
  std::vector<Node*> order;
  while (!ready.empty()) {
    Node* n = ready.top();
    ready.pop();
    order.push_back(n);
    for (Value* out : n->outputs_) {
      if (!out) continue;
      for (const Use& u : out->uses_) {
        if (--pending[u.node] == 0) ready.push(u.node);
      }
    }
  }
  if (order.size() != nodes_.size()) {
    for (auto& n : nodes_) {
      if (pending[n.get()] > 0) fail("graph '", name, "' has a cycle through node ", n->label());
    }
  }
  std::unordered_map<Node*, std::unique_ptr<Node>> owned;
  for (auto& n : nodes_) owned[n.get()] = std::move(n);
  nodes_.clear();
  for (Node* n : order) nodes_.push_back(std::move(owned[n]));
}

int64_t Graph::num_parameters() const {
  int64_t n = 0;
  for (auto& v : values_)
    if (v->constant) n += v->constant->numel();
  return n;
}

int64_t Graph::parameter_bytes() const {
  int64_t n = 0;
  for (auto& v : values_)
    if (v->constant) n += static_cast<int64_t>(v->constant->nbytes());
  return n;
}

}  // namespace kiln
