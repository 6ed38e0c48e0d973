#include "train/graph_copy.h"

#include <unordered_map>

namespace kiln::train {

void copy_graph(const Graph& src, Graph& dst, const NodeRewrite& rewrite) {
  KILN_CHECK(dst.nodes().empty() && dst.values().empty(), "copy_graph: destination is not empty");
  dst.name = src.name;
  dst.opset = src.opset;
  std::unordered_map<const Value*, Value*> map;
  for (const auto& v : src.values()) {
    Value* c = dst.add_value(v->name(), v->type);
    c->constant = v->constant;
    map[v.get()] = c;
  }
  auto mapped = [&](const std::vector<Value*>& vs) {
    std::vector<Value*> out;
    for (const Value* v : vs) out.push_back(v ? map.at(v) : nullptr);
    return out;
  };
  dst.inputs = mapped(src.inputs);
  dst.outputs = mapped(src.outputs);
  for (const auto& n : src.nodes()) {
    std::vector<Value*> ins = mapped(n->inputs()), outs = mapped(n->outputs());
    if (rewrite && rewrite(*n, dst, ins, outs)) continue;
    dst.add_node(n->op, ins, outs, n->attrs, n->name, n->opset);
  }
}

}  // namespace kiln::train
