// Folds shape computations on partially static shapes, which constant-fold (whole-tensor
// evaluation, Shape/Size of fully static shapes only) cannot:
//   Shape(x) with start/end selecting only static dims of x          -> constant
//   Gather(Shape(x), const indices) / Slice(Shape(x), const params)  -> constant when every
//       selected dim is static (e.g. the channel count of an [N, C, H, W] with dynamic N)
// The Gather / Slice run as their own reference kernels on the dim positions, so every index
// rule (negative indices, steps, clamping) is the kernel's. constant-fold then folds the
// Unsqueeze / Concat / Reshape chains the new constants feed; run it after this pass.
#include <algorithm>

#include "ir/infer.h"
#include "passes/pass.h"
#include "passes/pattern_util.h"
#include "passes/registry.h"
#include "runtime/kernels/ref/evaluate.h"

namespace kiln {
namespace {

// The dims of x that Shape(x) returns (start/end from opset 15), each static or not.
std::optional<std::vector<Dim>> shape_dims(const Node& shape) {
  const Shape& s = shape.input(0)->type.shape;
  if (!s.rank_known) return std::nullopt;
  const int64_t r = static_cast<int64_t>(s.rank());
  int64_t start = 0, end = r;
  if (shape.opset >= 15) {
    start = shape.attrs.get_int("start", 0);
    end = shape.attrs.get_int("end", r);
  }
  start = std::clamp<int64_t>(start < 0 ? start + r : start, 0, r);
  end = std::clamp<int64_t>(end < 0 ? end + r : end, 0, r);
  std::vector<Dim> dims;
  for (int64_t i = start; i < end; ++i) dims.push_back(s.dims[static_cast<size_t>(i)]);
  return dims;
}

// The int64 constant of `dims` when all are static.
std::optional<Tensor> static_values(const std::vector<Dim>& dims, const Dims& shape) {
  std::vector<int64_t> v;
  for (const Dim& d : dims) {
    if (!d.is_static()) return std::nullopt;
    v.push_back(d.value);
  }
  return Tensor::from_vector<int64_t>(v, shape);
}

// The node's output becomes constant `t` (keeping its name); the node goes.
void replace_with_constant(Graph& g, Node* n, Tensor t) {
  Value* out = n->output(0);
  g.remove_node(n);
  out->type = ValueType::of(t.dtype(), t.dims());
  out->constant = std::move(t);
}

// Gather / Slice of the shape vector `dims`, run on the positions 0..n-1; the selected
// positions, or nullopt when the node is something else or its other inputs are not constant.
std::optional<Tensor> selected_positions(const Graph& g, const Node& n, size_t count) {
  if (n.op != OpKind::Gather && n.op != OpKind::Slice) return std::nullopt;
  std::vector<int64_t> iota(count);
  for (size_t i = 0; i < count; ++i) iota[i] = static_cast<int64_t>(i);
  const Tensor positions = Tensor::from_vector<int64_t>(iota, {static_cast<int64_t>(count)});
  OpCall call;
  call.op = n.op;
  call.opset = n.opset;
  call.attrs = &n.attrs;
  call.node_name = n.name;
  call.inputs.push_back(&positions);
  for (size_t i = 1; i < n.inputs().size(); ++i) {
    const Value* v = n.input(i);
    const Tensor* t = v ? constant_tensor(g, v) : nullptr;
    if (v && !t) return std::nullopt;
    call.inputs.push_back(t);
  }
  try {
    std::vector<Tensor> out = evaluate_op(call);
    if (out.empty() || !out[0].defined()) return std::nullopt;
    return std::move(out[0]);
  } catch (const Error&) {
    return std::nullopt;  // invalid indices: left for the backend to report
  }
}

class FoldShapeOps : public Pass {
 public:
  std::string_view name() const override { return "fold-shape-ops"; }

  bool run(Graph& g, PassContext& ctx) override {
    std::vector<Node*> shapes;
    for (const auto& n : g.nodes())
      if (n->op == OpKind::Shape && n->output(0)) shapes.push_back(n.get());
    int shape_folded = 0, selections = 0;
    for (Node* shape : shapes) {
      const Value* x = shape->input(0);
      // Fully static shapes are constant-fold's.
      if (x->type.shape.rank_known && x->type.shape.is_static()) continue;
      const std::optional<std::vector<Dim>> dims = shape_dims(*shape);
      if (!dims) continue;
      if (std::optional<Tensor> t = static_values(*dims, {static_cast<int64_t>(dims->size())})) {
        replace_with_constant(g, shape, std::move(*t));
        ++shape_folded;
        continue;
      }
      std::vector<Node*> users;
      for (const Use& u : shape->output(0)->uses())
        if (u.input_index == 0) users.push_back(u.node);
      std::sort(users.begin(), users.end());
      users.erase(std::unique(users.begin(), users.end()), users.end());
      for (Node* user : users) {
        const std::optional<Tensor> pos = selected_positions(g, *user, dims->size());
        if (!pos) continue;
        std::vector<Dim> picked;
        for (int64_t i = 0; i < pos->numel(); ++i)
          picked.push_back((*dims)[static_cast<size_t>(pos->as_int64(i))]);
        if (std::optional<Tensor> t = static_values(picked, pos->dims())) {
          replace_with_constant(g, user, std::move(*t));
          ++selections;
        }
      }
      remove_if_unused(g, shape);
    }
    if (shape_folded + selections == 0) return false;
    g.remove_dead_values();
    if (shape_folded) ctx.note(name(), cat("folded ", shape_folded, " Shape of static dims"));
    if (selections) ctx.note(name(), cat("folded ", selections, " Gather/Slice of static dims"));
    return true;
  }
};

}  // namespace

std::unique_ptr<Pass> create_fold_shape_ops() { return std::make_unique<FoldShapeOps>(); }

}  // namespace kiln
