// Removes nodes that copy their input: Identity, inference-mode Dropout whose mask is unused,
// Cast to the input's own dtype, and Reshape/Flatten/Squeeze/Unsqueeze/Transpose that leave a
// static shape (and element order) unchanged. Consumers are rewired to the input.
//
// Graph outputs keep their names. When the removed node's output is a graph output, the value
// feeding the node is renamed instead: its producer is re-created to write the graph output
// directly. That is impossible when the input is a graph input, a constant or another graph
// output (two outputs would alias one value), so the node is kept in those cases.
#include <algorithm>
#include <optional>

#include "ir/graph.h"
#include "ir/infer.h"
#include "passes/node_traits.h"
#include "passes/pass.h"
#include "passes/registry.h"

namespace kiln {
namespace {

bool is_graph_output(const Graph& g, const Value* v) {
  return std::find(g.outputs.begin(), g.outputs.end(), v) != g.outputs.end();
}

// The node's first output type as inference computes it, or nullopt if inference fails.
std::optional<ValueType> infer_first_output(const Node& n) {
  try {
    InferContext ctx = make_infer_context(n);
    infer_node(ctx);
    return std::move(ctx.outputs.at(0));
  } catch (const Error&) {
    return std::nullopt;
  }
}

// A Transpose is a no-op when the dims it moves, ignoring size-1 ones, keep their order.
bool transpose_keeps_order(const Node& n, const Dims& dims) {
  std::vector<int64_t> perm = n.attrs.get_ints("perm");
  if (perm.empty()) {
    for (int64_t i = static_cast<int64_t>(dims.size()) - 1; i >= 0; --i) perm.push_back(i);
  }
  int64_t last = -1;
  for (int64_t axis : perm) {
    if (axis < 0 || axis >= static_cast<int64_t>(dims.size())) return false;
    if (dims[static_cast<size_t>(axis)] == 1) continue;
    if (axis < last) return false;
    last = axis;
  }
  return true;
}

bool is_noop(const Graph& g, const Node& n) {
  const Value* in = n.input(0);
  const Value* out = n.output(0);
  if (!in || !out) return false;
  switch (n.op) {
    case OpKind::Identity:
      return true;
    case OpKind::Dropout: {
      const Value* mask = n.output(1);
      return is_inference_dropout(n) && (!mask || (mask->uses().empty() && !is_graph_output(g, mask)));
    }
    case OpKind::Cast: {
      if (in->type.dtype == DType::Undefined) return false;
      std::optional<ValueType> t = infer_first_output(n);
      return t && t->dtype == in->type.dtype && !in->type.quant;
    }
    case OpKind::Reshape:
    case OpKind::Flatten:
    case OpKind::Squeeze:
    case OpKind::Unsqueeze:
    case OpKind::Transpose: {
      if (!in->type.shape.rank_known || !in->type.shape.is_static()) return false;
      std::optional<ValueType> t = infer_first_output(n);
      if (!t || !(t->shape == in->type.shape) || t->dtype != in->type.dtype) return false;
      return n.op != OpKind::Transpose || transpose_keeps_order(n, in->type.shape.static_dims());
    }
    default:
      return false;
  }
}

// Makes `in`'s producer write `out` instead, so `out` (a graph output) keeps its name.
// `in` must have a producer; the node in -> out must already be removed.
void rename_into_graph_output(Graph& g, Value* in, Value* out) {
  Node* p = in->producer();
  std::vector<Value*> inputs = p->inputs(), outputs = p->outputs();
  std::replace(outputs.begin(), outputs.end(), in, out);
  Attributes attrs = p->attrs;
  std::string name = p->name;
  const OpKind op = p->op;
  const int opset = p->opset;
  g.remove_node(p);
  g.add_node(op, std::move(inputs), std::move(outputs), std::move(attrs), std::move(name), opset);
  if (out->type.dtype == DType::Undefined || !out->type.shape.rank_known) out->type = in->type;
  g.replace_all_uses(in, out);
}

class RemoveIdentity : public Pass {
 public:
  std::string_view name() const override { return "remove-identity"; }

  bool run(Graph& g, PassContext& ctx) override {
    std::vector<Node*> candidates;
    for (const auto& n : g.nodes()) candidates.push_back(n.get());
    int removed = 0, kept_for_outputs = 0;
    bool reordered = false;
    for (Node* n : candidates) {
      if (!is_noop(g, *n)) continue;
      Value* in = n->input(0);
      Value* out = n->output(0);
      if (is_graph_output(g, out)) {
        // Graph inputs and constants have no producer to rename.
        if (!in->producer() || is_graph_output(g, in)) {
          ++kept_for_outputs;
          continue;
        }
        g.remove_node(n);
        rename_into_graph_output(g, in, out);
        reordered = true;
      } else {
        g.replace_all_uses(out, in);
        g.remove_node(n);
      }
      ++removed;
    }
    if (reordered) g.topo_sort();  // re-created producers were appended at the end
    g.remove_dead_values();
    if (removed) ctx.note(name(), cat("removed ", removed, " no-op nodes"));
    if (kept_for_outputs)
      ctx.note(name(), cat("kept ", kept_for_outputs, " no-op nodes that name graph outputs"));
    return removed != 0;
  }
};

}  // namespace

std::unique_ptr<Pass> create_remove_identity() { return std::make_unique<RemoveIdentity>(); }

}  // namespace kiln
