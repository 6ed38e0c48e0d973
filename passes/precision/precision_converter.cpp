#include "passes/precision/precision_converter.h"

namespace kiln {

bool PrecisionConverter::run(Graph& g, PassContext& ctx) {
  const std::set<std::string, std::less<>>* block = blocked(ctx);
  std::vector<Node*> candidates;
  for (const auto& n : g.nodes()) {
    const OpInfo& info = op_info(n->op);
    const PrecisionPolicy p = precision() == Precision::Int8 ? info.int8 : info.fp16;
    if (p == PrecisionPolicy::Always && !(block && block->count(info.name)))
      candidates.push_back(n.get());
  }
  if (candidates.empty()) return false;
  prepare(g, ctx, candidates);
  const int64_t bytes_before = g.parameter_bytes();
  std::map<std::string, int> by_op;
  int total = 0;
  for (Node* n : candidates) {
    const std::string op(op_name(n->op));
    if (!convert(g, n, ctx)) continue;
    ++by_op[op];
    ++total;
  }
  if (!total) return false;
  finish(g, ctx);
  g.topo_sort();
  g.remove_dead_values();
  std::string ops;
  for (const auto& [op, count] : by_op) ops += cat(ops.empty() ? "" : ", ", op, " x", count);
  ctx.note(name(), cat(total, " nodes ", verb(), " (", ops, "); constants ", bytes_before, " -> ",
                       g.parameter_bytes(), " bytes"));
  return true;
}

}  // namespace kiln
