// Rewrites the attention core as PyTorch exports it into one KilnAttention node:
//   S = MatMul(Q, Kt)                      Q [..., M, D], Kt [..., D, N] (same batch dims)
//   S = Div(S, c) | Mul(S, c) | Mul(c, S)  optional, c a scalar constant
//   S = Add(S, mask) | Add(mask, S)        optional, mask broadcasting to S without growing it
//   P = Softmax(S) over the last axis
//   Y = MatMul(P, V)                       V [..., N, Dv]
// -> Y = KilnAttention(Q, Kt, V, mask) {scale = c, divide = 1 for Div}. The CPU kernel runs
// each (batch, head) from scores to output while its S x S block is in cache, instead of five
// launches over memory. Every intermediate must be read only by the next node of the chain
// and not be a graph output.
#include "passes/pass.h"
#include "passes/pattern_util.h"
#include "passes/registry.h"

namespace kiln {
namespace {

bool softmax_over_last_axis(const Node& sm) {
  const Value* x = sm.input(0);
  if (!x || !x->type.shape.rank_known) return false;
  const int64_t rank = static_cast<int64_t>(x->type.shape.rank());
  int64_t axis = sm.attrs.get_int("axis", sm.opset < 13 ? 1 : -1);
  if (axis < 0) axis += rank;
  // Before opset 13 Softmax normalizes over dims[axis:] flattened: the same for the last axis.
  return rank >= 2 && axis == rank - 1;
}

// Q @ Kt with equal ranks >= 2 and equal batch dims (KilnAttention does not broadcast them).
bool batched_matmul(const Node* mm) {
  if (!mm || mm->op != OpKind::MatMul) return false;
  const Shape &a = mm->input(0)->type.shape, &b = mm->input(1)->type.shape;
  if (!a.rank_known || !b.rank_known || a.rank() < 2 || a.rank() != b.rank()) return false;
  for (size_t i = 0; i + 2 < a.rank(); ++i)
    if (!(a.dims[i] == b.dims[i])) return false;
  return true;
}

// `mask` broadcasts to `scores` without growing it: right-aligned, each dim 1 or equal.
bool mask_fits(const Shape& mask, const Shape& scores) {
  if (!mask.rank_known || !scores.rank_known || mask.rank() > scores.rank()) return false;
  const size_t off = scores.rank() - mask.rank();
  for (size_t i = 0; i < mask.rank(); ++i) {
    const Dim& d = mask.dims[i];
    if (!(d.is_static() && d.value == 1) && !(d == scores.dims[off + i])) return false;
  }
  return true;
}

struct Match {
  std::vector<Node*> chain;  // in data-flow order, the final MatMul last
  Value *q = nullptr, *kt = nullptr, *v = nullptr, *mask = nullptr;
  float scale = 1.0f;
  bool divide = false;
};

// From the value feeding Softmax back to the first MatMul; fills m.q/kt/mask/scale.
bool match_scores(const Graph& g, Value* s, const Node* user, Match& m) {
  Node* p = s ? s->producer() : nullptr;
  if (!p || sole_consumer(g, s) != user) return false;
  if (p->op == OpKind::Add && !m.mask) {
    for (int i = 0; i < 2; ++i) {
      Value* side = p->input(static_cast<size_t>(i));
      Value* mask = p->input(static_cast<size_t>(1 - i));
      if (side == mask) continue;
      Match trial = m;
      trial.mask = mask;
      if (match_scores(g, side, p, trial) &&
          mask_fits(mask->type.shape, side->type.shape) &&
          mask->type.dtype == side->type.dtype) {
        trial.chain.push_back(p);
        m = std::move(trial);
        return true;
      }
    }
    return false;
  }
  if ((p->op == OpKind::Div || p->op == OpKind::Mul) && m.chain.empty()) {
    for (int i = 0; i < (p->op == OpKind::Div ? 1 : 2); ++i) {  // Div: the constant divides
      Value* side = p->input(static_cast<size_t>(i));
      const auto c = scalar_constant(g, p->input(static_cast<size_t>(1 - i)));
      if (!c || side == p->input(static_cast<size_t>(1 - i))) continue;
      Node* mm = side->producer();
      if (!batched_matmul(mm) || sole_consumer(g, side) != p) continue;
      if (side->type.shape.rank() < p->output(0)->type.shape.rank()) continue;  // c grows it
      m.scale = static_cast<float>(*c);
      m.divide = p->op == OpKind::Div;
      m.q = mm->input(0);
      m.kt = mm->input(1);
      m.chain.push_back(mm);
      m.chain.push_back(p);
      return true;
    }
    return false;
  }
  if (batched_matmul(p) && m.chain.empty()) {
    m.q = p->input(0);
    m.kt = p->input(1);
    m.chain.push_back(p);
    return true;
  }
  return false;
}

class FuseAttention : public Pass {
 public:
  std::string_view name() const override { return "fuse-attention"; }

  bool run(Graph& g, PassContext& ctx) override {
    std::vector<Node*> softmaxes;
    for (const auto& n : g.nodes())
      if (n->op == OpKind::Softmax && softmax_over_last_axis(*n)) softmaxes.push_back(n.get());
    int fused = 0, nodes = 0, masked = 0;
    for (Node* sm : softmaxes) {
      Match m;
      if (!match_scores(g, sm->input(0), sm, m)) continue;
      Node* mm2 = sole_consumer(g, sm->output(0));
      if (!mm2 || mm2->op != OpKind::MatMul || mm2->input(0) != sm->output(0)) continue;
      m.v = mm2->input(1);
      const Shape &qs = m.q->type.shape, &vs = m.v->type.shape;
      if (!vs.rank_known || vs.rank() != qs.rank()) continue;
      bool same_batch = true;
      for (size_t i = 0; i + 2 < qs.rank(); ++i) same_batch = same_batch && qs.dims[i] == vs.dims[i];
      const DType dt = m.q->type.dtype;
      if (!same_batch || !is_float(dt) || m.kt->type.dtype != dt || m.v->type.dtype != dt)
        continue;
      m.chain.push_back(sm);
      m.chain.push_back(mm2);
      Attributes attrs;
      attrs.set("scale", Attribute::of_float(m.scale));
      attrs.set("divide", Attribute::of_int(m.divide ? 1 : 0));
      std::vector<Value*> inputs = {m.q, m.kt, m.v};
      if (m.mask) inputs.push_back(m.mask);
      nodes += static_cast<int>(m.chain.size());
      masked += m.mask ? 1 : 0;
      replace_chain(g, m.chain, OpKind::KilnAttention, std::move(inputs), mm2->output(0),
                    std::move(attrs));
      ++fused;
    }
    if (fused == 0) return false;
    g.topo_sort();
    g.remove_dead_values();
    ctx.note(name(), cat(nodes, " nodes fused into ", fused, " KilnAttention (", masked,
                         " with a mask)"));
    return true;
  }
};

}  // namespace

std::unique_ptr<Pass> create_fuse_attention() { return std::make_unique<FuseAttention>(); }

}  // namespace kiln
