// What a gradient rule sees and produces for one forward node, plus the helpers rules use to
// emit backward nodes. Emitted nodes get their types inferred right away, so a rule can reason
// about the shapes of what it built (e.g. to undo broadcasting).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "ir/graph.h"

namespace kiln::train {

class GradContext {
 public:
  // dy: one entry per forward output (nullptr = no gradient flows into it, i.e. zero).
  // needs: one entry per forward input (true = the caller wants its gradient).
  GradContext(Graph& g, const Node& node, std::vector<Value*> dy, std::vector<bool> needs);

  const Node& node() const { return node_; }
  Graph& graph() { return g_; }
  Value* x(size_t i) const { return node_.input(i); }   // forward input (nullptr = absent)
  Value* y(size_t i) const { return node_.output(i); }  // forward output
  Value* dy(size_t i) const { return i < dy_.size() ? dy_[i] : nullptr; }
  // dy(i), or zeros shaped like output i when no gradient flows into it.
  Value* dy_or_zeros(size_t i);
  bool needs(size_t i) const { return i < needs_.size() && needs_[i]; }
  void set_dx(size_t i, Value* v);  // ignored unless needs(i)
  const std::vector<Value*>& dx() const { return dx_; }
  int64_t attr_int(const std::string& name, int64_t def) const;

  // ---- emitting backward nodes
  Value* op(OpKind k, std::vector<Value*> ins, Attributes attrs = {});
  std::vector<Value*> op_n(OpKind k, std::vector<Value*> ins, size_t n_out, Attributes attrs = {});
  Value* scalar(double v, DType dtype);          // rank-0 constant
  Value* ints(const std::vector<int64_t>& v);     // 1-D i64 constant
  Value* shape_of(Value* v);                      // Shape(v)
  Value* reshape_like(Value* v, Value* like);     // Reshape(v, Shape(like))
  Value* zeros_like(Value* like);                 // zeros of like's shape and dtype
  // Reverses numpy broadcasting: sums `g` (shaped like the broadcast result) down to the shape
  // of `like`. Fails when the static shapes cannot tell which axes were broadcast.
  Value* sum_to(Value* g, Value* like);

  // Static facts about forward values; fail naming the node when not known.
  const Shape& shape(const Value* v) const;
  int64_t rank(const Value* v) const;
  Dims static_dims(const Value* v) const;

  std::string where() const;  // "gradient of Conv 'conv1': "
  template <typename... Args>
  [[noreturn]] void fail(const Args&... args) const {
    ::kiln::fail(where(), args...);
  }
  template <typename... Args>
  void check(bool cond, const Args&... args) const {
    if (!cond) fail(args...);
  }

 private:
  Graph& g_;
  const Node& node_;
  std::vector<Value*> dy_;
  std::vector<bool> needs_;
  std::vector<Value*> dx_;
  std::string prefix_;  // names of emitted values start with it
};

// Infers the output types of one node from its inputs' types and constant values.
void infer_node_types(Node& n);

// Attributes from name/value pairs, for compact rule code.
Attributes make_attrs(std::initializer_list<std::pair<std::string, Attribute>> items);

}  // namespace kiln::train
