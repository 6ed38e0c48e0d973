// Common subexpression elimination: two deterministic nodes with the same op, opset, inputs
// (the same values) and equal attribute values compute the same outputs, so the later one's
// uses are redirected to the earlier one's outputs and it is removed. Nodes are visited in
// topological order, so chains of duplicates collapse in one run.
#include <algorithm>
#include <functional>
#include <unordered_map>

#include "ir/graph.h"
#include "passes/node_traits.h"
#include "passes/pass.h"
#include "passes/registry.h"

namespace kiln {
namespace {

bool is_graph_output(const Graph& g, const Value* v) {
  return v && std::find(g.outputs.begin(), g.outputs.end(), v) != g.outputs.end();
}

bool has_graph_output(const Graph& g, const Node& n) {
  return std::any_of(n.outputs().begin(), n.outputs().end(),
                     [&](const Value* v) { return is_graph_output(g, v); });
}

// Trailing absent optional inputs do not change what a node computes.
std::vector<Value*> significant_inputs(const Node& n) {
  std::vector<Value*> in = n.inputs();
  while (!in.empty() && !in.back()) in.pop_back();
  return in;
}

size_t structural_hash(const Node& n) {
  size_t h = std::hash<int>()(static_cast<int>(n.op)) * 31 + std::hash<int>()(n.opset);
  for (const Value* v : significant_inputs(n)) h = h * 131 + std::hash<const Value*>()(v);
  return h * 7 + n.outputs().size();
}

bool same_computation(const Node& a, const Node& b) {
  if (a.op != b.op || a.opset != b.opset || significant_inputs(a) != significant_inputs(b))
    return false;
  if (a.outputs().size() != b.outputs().size()) return false;
  for (size_t i = 0; i < a.outputs().size(); ++i) {
    // Optional outputs may change the computation (e.g. Dropout's mask), so require the same set.
    if ((a.output(i) == nullptr) != (b.output(i) == nullptr)) return false;
  }
  return attributes_equal(a.attrs, b.attrs);
}

class CommonSubexpressionElimination : public Pass {
 public:
  std::string_view name() const override { return "cse"; }

  bool run(Graph& g, PassContext& ctx) override {
    std::vector<Node*> order;
    for (const auto& n : g.nodes()) order.push_back(n.get());
    std::unordered_map<size_t, std::vector<Node*>> seen;
    int merged = 0, kept_for_outputs = 0;
    bool reordered = false;
    for (Node* n : order) {
      if (is_nondeterministic(*n)) continue;
      std::vector<Node*>& bucket = seen[structural_hash(*n)];
      auto it = std::find_if(bucket.begin(), bucket.end(),
                             [&](const Node* m) { return same_computation(*m, *n); });
      if (it == bucket.end()) {
        bucket.push_back(n);
        continue;
      }
      Node* first = *it;
      Node* keep = first;
      Node* drop = n;
      // Graph outputs keep their names: keep whichever duplicate produces them. When the later
      // node is kept, it moves up to the earlier one's place by the final topological sort.
      if (has_graph_output(g, *n)) {
        if (has_graph_output(g, *first)) {
          ++kept_for_outputs;
          continue;
        }
        std::swap(keep, drop);
        *it = keep;
        reordered = true;
      }
      for (size_t i = 0; i < drop->outputs().size(); ++i) {
        if (drop->output(i)) g.replace_all_uses(drop->output(i), keep->output(i));
      }
      g.remove_node(drop);
      ++merged;
    }
    if (reordered) g.topo_sort();
    g.remove_dead_values();
    if (merged) ctx.note(name(), cat("merged ", merged, " duplicate nodes"));
    if (kept_for_outputs)
      ctx.note(name(), cat("kept ", kept_for_outputs, " duplicates that name graph outputs"));
    return merged != 0;
  }
};

}  // namespace

std::unique_ptr<Pass> create_common_subexpression_elimination() {
  return std::make_unique<CommonSubexpressionElimination>();
}

}  // namespace kiln
