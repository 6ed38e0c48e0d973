// Dead code elimination: a node is live when one of its outputs reaches a graph output; every
// other node is removed, then the values nothing produces or uses any more.
#include <unordered_set>

#include "ir/graph.h"
#include "passes/pass.h"
#include "passes/registry.h"

namespace kiln {
namespace {

class DeadCodeElimination : public Pass {
 public:
  std::string_view name() const override { return "dce"; }

  bool run(Graph& g, PassContext& ctx) override {
    std::unordered_set<const Node*> live;
    std::vector<const Value*> work(g.outputs.begin(), g.outputs.end());
    while (!work.empty()) {
      const Value* v = work.back();
      work.pop_back();
      const Node* p = v ? v->producer() : nullptr;
      if (!p || !live.insert(p).second) continue;
      for (const Value* in : p->inputs())
        if (in) work.push_back(in);
    }
    std::vector<Node*> dead;
    for (const auto& n : g.nodes())
      if (!live.count(n.get())) dead.push_back(n.get());
    for (Node* n : dead) g.remove_node(n);

    const size_t values_before = g.values().size();
    g.remove_dead_values();
    const size_t dead_values = values_before - g.values().size();
    if (!dead.empty()) ctx.note(name(), cat("removed ", dead.size(), " dead nodes"));
    if (dead_values) ctx.note(name(), cat("removed ", dead_values, " unused values"));
    return !dead.empty() || dead_values != 0;
  }
};

}  // namespace

std::unique_ptr<Pass> create_dead_code_elimination() {
  return std::make_unique<DeadCodeElimination>();
}

}  // namespace kiln
