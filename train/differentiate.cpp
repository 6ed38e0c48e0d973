#include "train/differentiate.h"

#include <unordered_map>
#include <unordered_set>

#include "ir/infer.h"
#include "train/gradient_rules.h"

namespace kiln::train {

namespace {

// Sums the gradient contributions to one value, in the order they were produced (so the
// backward graph, and its rounding, is the same on every run).
Value* accumulate(Graph& g, const std::vector<Value*>& parts) {
  Value* acc = parts[0];
  for (size_t i = 1; i < parts.size(); ++i) {
    Value* out = g.add_value(g.unique_name("grad/accumulate"));
    Node* n = g.add_node(OpKind::Add, {acc, parts[i]}, {out}, {}, out->name(), std::max(g.opset, 13));
    infer_node_types(*n);
    acc = out;
  }
  return acc;
}

Value* constant_like(Graph& g, const Value* v, double fill, const std::string& base) {
  KILN_CHECK(v->type.shape.is_static() || v->type.shape.rank_known, "value '", v->name(),
             "' has no known shape");
  if (v->type.shape.is_static()) {
    Tensor t(v->type.dtype, v->type.shape.static_dims());
    dispatch_dtype(t.dtype(), "gradient seed", [&]<typename T>() {
      if constexpr (std::is_floating_point_v<T>) {
        for (int64_t i = 0; i < t.numel(); ++i) t.data<T>()[i] = static_cast<T>(fill);
      } else {
        fail("value '", v->name(), "' is not f32/f64");
      }
    });
    return g.add_constant(g.unique_name(base), t);
  }
  // Symbolic shape: ConstantOfShape(Shape(v)).
  Value* shape = g.add_value(g.unique_name(base + "/shape"));
  Node* sn = g.add_node(OpKind::Shape, {const_cast<Value*>(v)}, {shape}, {}, shape->name(),
                        std::max(g.opset, 13));
  infer_node_types(*sn);
  Tensor fill_t(v->type.dtype, {1});
  dispatch_dtype(fill_t.dtype(), "gradient seed", [&]<typename T>() {
    if constexpr (std::is_floating_point_v<T>) fill_t.data<T>()[0] = static_cast<T>(fill);
  });
  Attributes a;
  a.set("value", Attribute::of_tensor(fill_t));
  Value* out = g.add_value(g.unique_name(base));
  Node* n = g.add_node(OpKind::ConstantOfShape, {shape}, {out}, std::move(a), out->name(),
                       std::max(g.opset, 13));
  infer_node_types(*n);
  return out;
}

}  // namespace

std::vector<Value*> differentiate(Graph& g, Value* loss, const std::vector<Value*>& wrt) {
  infer_shapes(g);
  KILN_CHECK(loss->type.dtype == DType::F32 || loss->type.dtype == DType::F64, "differentiate: loss '",
             loss->name(), "' must be f32 or f64, is ", dtype_name(loss->type.dtype));
  KILN_CHECK(loss->type.shape.is_static() && checked_numel(loss->type.shape.static_dims()) == 1,
             "differentiate: loss '", loss->name(), "' must have one element, has shape ",
             loss->type.shape.to_string());

  // Snapshot the forward nodes: rules append to g.nodes() while we walk.
  std::vector<Node*> forward;
  for (const auto& n : g.nodes()) forward.push_back(n.get());

  // Values that depend on some wrt value (forward sweep).
  std::unordered_set<const Value*> depends(wrt.begin(), wrt.end());
  for (Node* n : forward) {
    bool any = false;
    for (const Value* v : n->inputs()) any |= v && depends.count(v);
    if (!any) continue;
    for (const Value* v : n->outputs())
      if (v) depends.insert(v);
  }

  std::unordered_map<const Value*, std::vector<Value*>> contributions;
  contributions[loss].push_back(constant_like(g, loss, 1.0, "grad/seed"));

  for (auto it = forward.rbegin(); it != forward.rend(); ++it) {
    Node* n = *it;
    std::vector<Value*> dy(n->outputs().size(), nullptr);
    bool any_dy = false;
    for (size_t i = 0; i < n->outputs().size(); ++i) {
      auto c = contributions.find(n->output(i));
      if (n->output(i) && c != contributions.end()) {
        dy[i] = accumulate(g, c->second);
        any_dy = true;
      }
    }
    if (!any_dy) continue;
    std::vector<bool> needs(n->inputs().size(), false);
    bool any_need = false;
    for (size_t i = 0; i < n->inputs().size(); ++i) {
      const Value* v = n->input(i);
      needs[i] = v && depends.count(v) && is_float(v->type.dtype);
      any_need |= needs[i];
    }
    if (!any_need) continue;
    GradFn rule = gradient_rule(n->op);
    KILN_CHECK(rule, "differentiate: ", n->label(), " is on the path to the loss but op ",
               op_name(n->op), " has no gradient rule");
    GradContext ctx(g, *n, dy, needs);
    rule(ctx);
    for (size_t i = 0; i < needs.size(); ++i) {
      if (!needs[i]) continue;
      Value* d = ctx.dx()[i];
      KILN_CHECK(d, ctx.where(), "rule produced no gradient for input ", i);
      const Value* x = n->input(i);
      KILN_CHECK(d->type.dtype == x->type.dtype, ctx.where(), "gradient of input ", i, " is ",
                 dtype_name(d->type.dtype), ", input is ", dtype_name(x->type.dtype));
      if (d->type.shape.is_static() && x->type.shape.is_static()) {
        KILN_CHECK(d->type.shape == x->type.shape, ctx.where(), "gradient of input ", i,
                   " has shape ", d->type.shape.to_string(), ", input has ",
                   x->type.shape.to_string());
      }
      contributions[x].push_back(d);
    }
  }

  std::vector<Value*> result;
  for (Value* w : wrt) {
    auto c = contributions.find(w);
    result.push_back(c == contributions.end() ? constant_like(g, w, 0.0, "grad/zero")
                                              : accumulate(g, c->second));
  }
  return result;
}

}  // namespace kiln::train
