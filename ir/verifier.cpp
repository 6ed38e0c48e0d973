#include "ir/verifier.h"

#include <unordered_set>

#include "ir/graph.h"

namespace kiln {

void verify_graph(const Graph& g) {
  std::unordered_set<const Value*> defined(g.inputs.begin(), g.inputs.end());
  for (const auto& v : g.values())
    if (v->is_constant()) defined.insert(v.get());
  for (const auto& np : g.nodes()) {
    const Node& n = *np;
    const OpInfo& info = op_info(n.op);
    size_t n_in = n.inputs().size();
    while (n_in > 0 && !n.inputs()[n_in - 1]) --n_in;
    KILN_CHECK(static_cast<int>(n_in) <= info.max_inputs, n.label(), ": ", n_in,
               " inputs, at most ", info.max_inputs, " allowed");
    KILN_CHECK(static_cast<int>(n.outputs().size()) <= info.max_outputs, n.label(), ": ",
               n.outputs().size(), " outputs, at most ", info.max_outputs, " allowed");
    for (size_t i = 0; i < n.inputs().size(); ++i) {
      const Value* v = n.inputs()[i];
      if (!v) {
        KILN_CHECK(static_cast<int>(i) >= info.min_inputs, n.label(), ": required input ", i,
                   " is missing");
        continue;
      }
      if (!defined.count(v)) {
        if (v->producer()) fail(n.label(), ": input '", v->name(), "' is used before it is produced");
        fail(n.label(), ": input '", v->name(), "' is not defined by any node, input or initializer");
      }
    }
    for (const Value* v : n.outputs()) {
      if (!v) continue;
      KILN_CHECK(v->producer() == &n, n.label(), ": output '", v->name(), "' has another producer");
      KILN_CHECK(!defined.count(v), n.label(), ": output '", v->name(), "' is defined twice");
      defined.insert(v);
    }
  }
  for (const Value* v : g.outputs) {
    KILN_CHECK(v && defined.count(v), "graph output '", v ? v->name() : "?",
               "' is not produced by any node, input or initializer");
  }
}

}  // namespace kiln
