// Rewrites the decomposed layer normalization that PyTorch exports before opset 17 into one
// LayerNormalization node:
//   mean = ReduceMean(x, axes)          axes = the trailing k axes, keepdims = 1
//   d    = Sub(x, mean)
//   var  = ReduceMean(Pow(d, 2) | Mul(d, d), axes)
//   y    = Div(d, Sqrt(Add(var, eps)))  [* gamma] [+ beta]
// -> LayerNormalization(x, gamma (ones when absent), beta, axis = rank - k, epsilon = eps).
// gamma and beta may be anything that broadcasts to x without growing it. Every intermediate
// must be consumed only inside the pattern (d by the square and the Div) and not be a graph
// output. LayerNormalization is in Kiln's op table at every opset; its reference kernel
// differs from the decomposition only by float rounding.
#include <algorithm>
#include <set>

#include "passes/epilogue_match.h"
#include "passes/pass.h"
#include "passes/pattern_util.h"
#include "passes/registry.h"

namespace kiln {
namespace {

// The normalized axes of a keepdims ReduceMean over the trailing axes of a rank-`rank` input:
// the first of them, or -1 when it reduces something else.
int64_t trailing_axis(const Graph& g, const Node& n, int64_t rank) {
  if (n.op != OpKind::ReduceMean || n.attrs.get_int("keepdims", 1) != 1) return -1;
  std::optional<std::vector<int64_t>> axes;
  if (n.opset >= 18) {
    if (!n.input(1)) return -1;  // no axes: all of them (noop_with_empty_axes aside)
    axes = constant_ints(g, n.input(1));
  } else if (n.attrs.has("axes")) {
    axes = n.attrs.get_ints("axes");
  }
  if (!axes || axes->empty()) return -1;
  std::set<int64_t> s;
  for (int64_t a : *axes) {
    if (a < -rank || a >= rank) return -1;
    s.insert(a < 0 ? a + rank : a);
  }
  const int64_t first = rank - static_cast<int64_t>(s.size());
  return *s.begin() == first && *s.rbegin() == rank - 1 ? first : -1;
}

// The node reading `v` as its only consumer, when it is `op`.
Node* only(const Graph& g, const Value* v, OpKind op) {
  Node* n = sole_consumer(g, v);
  return n && n->op == op ? n : nullptr;
}

// Scale/bias operand of a Mul/Add after the normalization: keeps the shape of `cur`.
Value* affine_operand(const Node* n, const Value* cur) {
  if (!n) return nullptr;
  Value* p = other_operand(*n, cur);
  if (!p || p->type.dtype != cur->type.dtype || !(n->output(0)->type.shape == cur->type.shape))
    return nullptr;
  return p;
}

class FuseLayerNorm : public Pass {
 public:
  std::string_view name() const override { return "fuse-layernorm"; }

  bool run(Graph& g, PassContext& ctx) override {
    std::vector<Node*> means;
    for (const auto& n : g.nodes())
      if (n->op == OpKind::ReduceMean) means.push_back(n.get());
    int fused = 0, nodes = 0;
    std::set<const Node*> removed;
    for (Node* mean : means) {
      if (removed.count(mean)) continue;  // the variance ReduceMean of an earlier match
      std::vector<Node*> chain;
      if (!match(g, mean, chain)) continue;
      nodes += static_cast<int>(chain.size());
      removed.insert(chain.begin(), chain.end());
      ++fused;
    }
    if (!fused) return false;
    g.topo_sort();
    g.remove_dead_values();
    ctx.note(name(), cat(nodes, " nodes fused into ", fused, " LayerNormalization"));
    return true;
  }

 private:
  static bool match(Graph& g, Node* mean, std::vector<Node*>& chain) {
    Value* x = mean->input(0);
    const Shape& xs = x->type.shape;
    if (!is_float_dtype(x->type.dtype) || !xs.rank_known || xs.rank() == 0) return false;
    const int64_t rank = static_cast<int64_t>(xs.rank());
    const int64_t axis = trailing_axis(g, *mean, rank);
    if (axis < 0) return false;
    Node* sub = only(g, mean->output(0), OpKind::Sub);
    if (!sub || sub->input(0) != x || sub->input(1) != mean->output(0)) return false;
    Value* d = sub->output(0);
    if (is_graph_output(g, d) || !(d->type.shape == xs)) return false;
    // d feeds exactly the square and the Div.
    Node *sq = nullptr, *div = nullptr;
    for (const Use& u : d->uses()) {
      Node* n = u.node;
      if (n->op == OpKind::Div && u.input_index == 0 && !div) {
        div = n;
      } else if (n->op == OpKind::Pow && u.input_index == 0 &&
                 is_scalar_near(g, n->input(1), 2.0)) {
        if (sq && sq != n) return false;
        sq = n;
      } else if (n->op == OpKind::Mul && n->input(0) == d && n->input(1) == d) {
        if (sq && sq != n) return false;
        sq = n;
      } else {
        return false;
      }
    }
    if (!sq || !div) return false;
    Node* var = only(g, sq->output(0), OpKind::ReduceMean);
    if (!var || trailing_axis(g, *var, rank) != axis) return false;
    Node* add = only(g, var->output(0), OpKind::Add);
    if (!add) return false;
    const std::optional<double> eps = scalar_constant(g, other_operand(*add, var->output(0)));
    if (!eps || *eps < 0) return false;
    Node* sqrt = only(g, add->output(0), OpKind::Sqrt);
    if (!sqrt || only(g, sqrt->output(0), OpKind::Div) != div || div->input(1) != sqrt->output(0))
      return false;
    chain = {mean, sub, sq, var, add, sqrt, div};
    Value* out = div->output(0);
    Value* gamma = nullptr;
    Value* beta = nullptr;
    if (Node* mul = only(g, out, OpKind::Mul); (gamma = affine_operand(mul, out))) {
      chain.push_back(mul);
      out = mul->output(0);
    }
    if (Node* plus = only(g, out, OpKind::Add); (beta = affine_operand(plus, out))) {
      chain.push_back(plus);
      out = plus->output(0);
    }
    if (!gamma) {
      if (!xs.is_static()) return false;
      const Dims& dims = xs.static_dims();
      const Dims norm(dims.begin() + axis, dims.end());
      gamma = add_constant_named(
          g, x->name() + "_ln_scale",
          float_tensor(x->type.dtype, norm,
                       std::vector<double>(static_cast<size_t>(checked_numel(norm)), 1.0)));
    }
    Attributes attrs;
    attrs.set("axis", Attribute::of_int(axis));
    attrs.set("epsilon", Attribute::of_float(static_cast<float>(*eps)));
    std::vector<Value*> inputs = {x, gamma};
    if (beta) inputs.push_back(beta);
    replace_chain(g, chain, OpKind::LayerNormalization, std::move(inputs), out, std::move(attrs));
    return true;
  }
};

}  // namespace

std::unique_ptr<Pass> create_fuse_layernorm() { return std::make_unique<FuseLayerNorm>(); }

}  // namespace kiln
