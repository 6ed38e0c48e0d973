#include "passes/quantize_link.h"

#include "ir/error.h"

namespace kiln {
namespace {

bool graph_output(const Graph& g, const Value* v) {
  for (const Value* o : g.outputs)
    if (o == v) return true;
  return false;
}

bool clamp_activation(const QuantizableNode& q) {
  const std::string a = q.attrs.get_string("activation", "");
  return a.empty() || a == "Relu" || a == "Clip";
}

// Values written by convolutions of `s` that only convolutions of `s` read, as X or residual.
std::set<const Value*> linkable(const Graph& g, const std::map<Node*, QuantizableNode>& matched,
                                const std::set<Node*>& s) {
  std::set<const Value*> out;
  for (Node* n : s) {
    const QuantizableNode& q = matched.at(n);
    const Value* y = n->output(0);
    if (!q.conv || !clamp_activation(q) || graph_output(g, y) || y->uses().empty()) continue;
    bool ok = true;
    for (const Use& u : y->uses()) {
      auto it = matched.find(u.node);
      ok = ok && it != matched.end() && s.count(u.node) && it->second.conv &&
           (u.input_index == 0 || (u.node->op == OpKind::KilnFusedConv && u.input_index == 3));
    }
    if (ok) out.insert(y);
  }
  return out;
}

}  // namespace

U8Plan plan_u8_links(const Graph& g, const std::map<Node*, QuantizableNode>& matched) {
  U8Plan p;
  for (const auto& [n, q] : matched) p.quantized.insert(n);
  for (bool changed = true; changed;) {
    changed = false;
    p.u8 = linkable(g, matched, p.quantized);
    for (auto it = p.quantized.begin(); it != p.quantized.end();) {
      const QuantizableNode& q = matched.at(*it);
      if (!q.pays_alone && !p.u8.count(q.x) && !p.u8.count((*it)->output(0))) {
        it = p.quantized.erase(it);
        changed = true;
      } else {
        ++it;
      }
    }
  }
  return p;
}

void apply_u8_links(const std::set<const Value*>& u8,
                    const std::map<const Value*, Range>& ranges) {
  for (const Value* cv : u8) {
    auto* v = const_cast<Value*>(cv);
    const ActivationParams a = activation_params(ranges.at(cv));
    Node* producer = v->producer();
    if (!producer || producer->op != OpKind::KilnQConv)
      fail("quantize-int8: value '", v->name(), "' planned as u8 but not written by KilnQConv");
    v->type.dtype = DType::U8;
    v->type.quant = QuantParams{{a.scale}, {a.zero_point}, -1};
    producer->attrs.set("y_scale", Attribute::of_float(a.scale));
    producer->attrs.set("y_zero_point", Attribute::of_int(a.zero_point));
    for (const Use& u : v->uses()) {
      if (u.node->op == OpKind::KilnQConv && u.input_index == 4) {
        u.node->attrs.set("z_scale", Attribute::of_float(a.scale));
        u.node->attrs.set("z_zero_point", Attribute::of_int(a.zero_point));
      } else if (u.node->op != OpKind::KilnQConv || u.input_index != 0) {
        fail("quantize-int8: u8 value '", v->name(), "' is read by ", u.node->label());
      }
    }
  }
}

}  // namespace kiln
