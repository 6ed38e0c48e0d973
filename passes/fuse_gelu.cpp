// Rewrites the decomposed GELU that PyTorch exports before opset 20 into one Gelu node:
//   erf form   x * 0.5 * (1 + Erf(x / sqrt(2)))            (or x * (1/sqrt(2)))
//   tanh form  x * 0.5 * (1 + Tanh(sqrt(2/pi) * (x + 0.044715 * x^3)))   -> approximate="tanh"
// with x^3 as Pow(x, 3) or x * x * x, any operand order of Add/Mul, and the 0.5 applied to x
// first, to the product, or to (1 + ...). Gelu is in Kiln's op table at every opset; its
// reference kernel differs from the decomposition only by float rounding. Every intermediate
// must have this chain as its only consumer and not be a graph output.
#include <cmath>
#include <numbers>

#include "passes/epilogue_match.h"
#include "passes/pass.h"
#include "passes/pattern_util.h"
#include "passes/registry.h"

namespace kiln {
namespace {

constexpr double kRelTol = 1e-6;  // exporters write float32 roundings of the constants

// The binary node `op` that is v's only consumer, with the other operand a scalar constant
// near `c`; returns it (nullptr if not).
Node* consumer_with_scalar(const Graph& g, const Value* v, OpKind op, double c) {
  Node* n = sole_consumer(g, v);
  if (!n || n->op != op) return nullptr;
  const Value* other = other_operand(*n, v);
  // Div is not commutative: the constant must be the divisor.
  if (op == OpKind::Div && n->input(0) != v) return nullptr;
  return other && is_scalar_near(g, other, c, kRelTol) ? n : nullptr;
}

// The node producing `v` when it is `op` of `x` and a scalar constant near `c` (in any order);
// `v` must be read only by `user`.
Node* producer_with_scalar(const Graph& g, const Value* v, OpKind op, const Value* x, double c,
                           const Node* user) {
  Node* p = v ? v->producer() : nullptr;
  if (!p || p->op != op || sole_consumer(g, v) != user) return nullptr;
  const Value* other = other_operand(*p, x);
  if (op == OpKind::Div && p->input(0) != x) return nullptr;
  return other && is_scalar_near(g, other, c, kRelTol) ? p : nullptr;
}

// From the Erf/Tanh output `t`: (1 + t), then the 0.5 and the x factors in any of the orders
// exporters use. Appends the matched nodes and returns the output value, or nullptr.
Value* match_tail(const Graph& g, Value* t, Value* x, std::vector<Node*>& chain) {
  Node* add = consumer_with_scalar(g, t, OpKind::Add, 1.0);
  if (!add) return nullptr;
  Value* p = add->output(0);
  Node* mul = sole_consumer(g, p);
  if (!mul || mul->op != OpKind::Mul) return nullptr;
  Value* q = other_operand(*mul, p);
  if (!q) return nullptr;
  chain.push_back(add);
  chain.push_back(mul);
  if (q == x) {  // (x * (1 + t)) * 0.5
    Node* half = consumer_with_scalar(g, mul->output(0), OpKind::Mul, 0.5);
    if (!half) return nullptr;
    chain.push_back(half);
    return half->output(0);
  }
  if (Node* hx = producer_with_scalar(g, q, OpKind::Mul, x, 0.5, mul)) {  // (x * 0.5) * (1 + t)
    chain.insert(chain.begin(), hx);
    return mul->output(0);
  }
  if (is_scalar_near(g, q, 0.5, kRelTol)) {  // ((1 + t) * 0.5) * x
    Node* by_x = sole_consumer(g, mul->output(0));
    if (!by_x || by_x->op != OpKind::Mul || other_operand(*by_x, mul->output(0)) != x)
      return nullptr;
    chain.push_back(by_x);
    return by_x->output(0);
  }
  return nullptr;
}

// x^3 feeding `user`: Pow(x, 3) or Mul(x, Mul(x, x)) / Mul(Mul(x, x), x). Appends its nodes.
bool match_cube(const Graph& g, Value* v, Value* x, const Node* user, std::vector<Node*>& chain) {
  Node* p = v ? v->producer() : nullptr;
  if (!p || sole_consumer(g, v) != user) return false;
  if (p->op == OpKind::Pow) {
    if (p->input(0) != x || !is_scalar_near(g, p->input(1), 3.0)) return false;
    chain.push_back(p);
    return true;
  }
  if (p->op != OpKind::Mul) return false;
  Value* sq = other_operand(*p, x);
  Node* s = sq ? sq->producer() : nullptr;
  if (!s || s->op != OpKind::Mul || s->input(0) != x || s->input(1) != x ||
      sole_consumer(g, sq) != p)
    return false;
  chain.push_back(s);
  chain.push_back(p);
  return true;
}

// Erf(d) with d = x / sqrt(2) or x * (1/sqrt(2)): the x and the head nodes.
Value* match_erf_head(const Graph& g, Node& erf, std::vector<Node*>& chain) {
  Value* d = erf.input(0);
  Node* p = d ? d->producer() : nullptr;
  if (!p || sole_consumer(g, d) != &erf) return nullptr;
  for (int i = 0; i < 2; ++i) {
    Value* x = p->input(static_cast<size_t>(i));
    if (producer_with_scalar(g, d, OpKind::Div, x, std::sqrt(2.0), &erf) ||
        producer_with_scalar(g, d, OpKind::Mul, x, std::sqrt(0.5), &erf)) {
      chain.push_back(p);
      return x;
    }
  }
  return nullptr;
}

// Tanh(sqrt(2/pi) * (x + 0.044715 * x^3)): the x and the head nodes.
Value* match_tanh_head(const Graph& g, Node& tanh, std::vector<Node*>& chain) {
  Value* e = tanh.input(0);
  Node* scale = e ? e->producer() : nullptr;
  if (!scale || scale->op != OpKind::Mul || sole_consumer(g, e) != &tanh) return nullptr;
  const double k = std::sqrt(2.0 / std::numbers::pi);
  Value* inner = is_scalar_near(g, scale->input(0), k, kRelTol)   ? scale->input(1)
                 : is_scalar_near(g, scale->input(1), k, kRelTol) ? scale->input(0)
                                                                  : nullptr;
  Node* add = inner ? inner->producer() : nullptr;
  if (!add || add->op != OpKind::Add || sole_consumer(g, inner) != scale) return nullptr;
  for (int i = 0; i < 2; ++i) {
    Value* x = add->input(static_cast<size_t>(i));
    Value* cubic = add->input(static_cast<size_t>(1 - i));
    Node* m = cubic ? cubic->producer() : nullptr;
    if (!m || m->op != OpKind::Mul || sole_consumer(g, cubic) != add) continue;
    Value* cube = is_scalar_near(g, m->input(0), 0.044715, kRelTol)   ? m->input(1)
                  : is_scalar_near(g, m->input(1), 0.044715, kRelTol) ? m->input(0)
                                                                      : nullptr;
    std::vector<Node*> head;
    if (!cube || !match_cube(g, cube, x, m, head)) continue;
    chain.insert(chain.end(), head.begin(), head.end());
    chain.push_back(m);
    chain.push_back(add);
    chain.push_back(scale);
    return x;
  }
  return nullptr;
}

class FuseGelu : public Pass {
 public:
  std::string_view name() const override { return "fuse-gelu"; }

  bool run(Graph& g, PassContext& ctx) override {
    std::vector<Node*> cores;
    for (const auto& n : g.nodes())
      if (n->op == OpKind::Erf || n->op == OpKind::Tanh) cores.push_back(n.get());
    int fused[2] = {0, 0}, nodes = 0;
    for (Node* core : cores) {
      const bool is_tanh = core->op == OpKind::Tanh;
      std::vector<Node*> chain;
      Value* x = is_tanh ? match_tanh_head(g, *core, chain) : match_erf_head(g, *core, chain);
      if (!x || !is_float_dtype(x->type.dtype)) continue;
      chain.push_back(core);
      Value* out = match_tail(g, core->output(0), x, chain);
      if (!out || out->type.dtype != x->type.dtype) continue;
      Attributes attrs;
      attrs.set("approximate", Attribute::of_string(is_tanh ? "tanh" : "none"));
      nodes += static_cast<int>(chain.size());
      replace_chain(g, chain, OpKind::Gelu, {x}, out, std::move(attrs));
      ++fused[is_tanh];
    }
    if (fused[0] + fused[1] == 0) return false;
    g.topo_sort();
    g.remove_dead_values();
    ctx.note(name(), cat(nodes, " nodes fused into ", fused[0] + fused[1], " Gelu (", fused[1],
                         " tanh form)"));
    return true;
  }
};

}  // namespace

std::unique_ptr<Pass> create_fuse_gelu() { return std::make_unique<FuseGelu>(); }

}  // namespace kiln
