// Cancels data-movement pairs whose middle value has no other consumer:
//   Transpose(Transpose(x, p1), p2)  -> Transpose(x, p1 o p2), or x when that is the identity
//   Reshape(Reshape(x, s1), s2)      -> Reshape(x, s2), or x when the result has x's static shape
//   Squeeze(Unsqueeze(x, a), a), Unsqueeze(Squeeze(x, a), a) -> x
// repeated until nothing matches (so chains of three or more collapse too). A lone no-op
// Transpose / Reshape is remove-identity's job. A graph output keeps its name through an
// Identity when the chain disappears entirely.
#include <algorithm>
#include <numeric>

#include "passes/pass.h"
#include "passes/pattern_util.h"
#include "passes/registry.h"

namespace kiln {
namespace {

// The rank of `v` when known.
std::optional<int64_t> rank_of(const Value* v) {
  if (!v || !v->type.shape.rank_known) return std::nullopt;
  return static_cast<int64_t>(v->type.shape.rank());
}

// A Transpose's permutation (reversal when absent), nullopt when the rank is unknown.
std::optional<std::vector<int64_t>> perm_of(const Node& t) {
  std::vector<int64_t> p = t.attrs.get_ints("perm");
  if (!p.empty()) return p;
  const std::optional<int64_t> r = rank_of(t.input(0));
  if (!r) return std::nullopt;
  p.resize(static_cast<size_t>(*r));
  for (int64_t i = 0; i < *r; ++i) p[static_cast<size_t>(i)] = *r - 1 - i;
  return p;
}

// Squeeze / Unsqueeze axes (attribute before opset 13, input after), normalized against
// `rank` and sorted; nullopt when not constant or out of range.
std::optional<std::vector<int64_t>> axes_of(const Graph& g, const Node& n, int64_t rank) {
  std::optional<std::vector<int64_t>> axes;
  if (n.opset >= 13) {
    if (n.input(1)) axes = constant_ints(g, n.input(1));
  } else if (n.attrs.has("axes")) {
    axes = n.attrs.get_ints("axes");
  }
  if (!axes && n.op == OpKind::Squeeze && !(n.opset >= 13 && n.input(1))) {
    // No axes: every size-1 dim of a fully static input.
    const Shape& s = n.input(0)->type.shape;
    if (!s.rank_known || !s.is_static()) return std::nullopt;
    axes.emplace();
    for (size_t i = 0; i < s.rank(); ++i)
      if (s.dims[i].value == 1) axes->push_back(static_cast<int64_t>(i));
  }
  if (!axes) return std::nullopt;
  for (int64_t& a : *axes) {
    if (a < -rank || a >= rank) return std::nullopt;
    if (a < 0) a += rank;
  }
  std::sort(axes->begin(), axes->end());
  return axes;
}

class CancelTransposes : public Pass {
 public:
  std::string_view name() const override { return "cancel-transposes"; }

  bool run(Graph& g, PassContext& ctx) override {
    int merged = 0, cancelled = 0;
    for (bool again = true; again;) {
      again = false;
      for (const auto& np : g.nodes()) {
        const int r = rewrite(g, np.get());
        if (r == 0) continue;
        (r == 1 ? merged : cancelled) += 1;
        again = true;
        break;  // the node list changed
      }
    }
    if (merged + cancelled == 0) return false;
    g.topo_sort();
    g.remove_dead_values();
    if (merged) ctx.note(name(), cat("merged ", merged, " pairs into one node"));
    if (cancelled) ctx.note(name(), cat("removed ", cancelled, " pairs that cancel"));
    return true;
  }

 private:
  // Rewrites the pair ending at `second`: 1 = merged into one node, 2 = removed, 0 = no match.
  static int rewrite(Graph& g, Node* second) {
    Value* mid = second->input(0);
    Node* first = mid ? mid->producer() : nullptr;
    if (!first || sole_consumer(g, mid) != second) return 0;
    Value* x = first->input(0);
    Value* out = second->output(0);
    if (!x || !out) return 0;
    if (first->op == OpKind::Transpose && second->op == OpKind::Transpose) {
      const std::optional<std::vector<int64_t>> p1 = perm_of(*first), p2 = perm_of(*second);
      if (!p1 || !p2 || p1->size() != p2->size()) return 0;
      std::vector<int64_t> p(p2->size());
      for (size_t i = 0; i < p.size(); ++i) {
        const int64_t j = (*p2)[i];
        if (j < 0 || j >= static_cast<int64_t>(p1->size())) return 0;
        p[i] = (*p1)[static_cast<size_t>(j)];
      }
      std::vector<int64_t> iota(p.size());
      std::iota(iota.begin(), iota.end(), 0);
      if (p == iota) return cancel(g, first, second, x);
      Attributes attrs;
      attrs.set("perm", Attribute::of_ints(p));
      replace_chain(g, {first, second}, OpKind::Transpose, {x}, out, std::move(attrs));
      return 1;
    }
    if (first->op == OpKind::Reshape && second->op == OpKind::Reshape) {
      const Shape& xs = x->type.shape;
      const Shape& os = out->type.shape;
      if (os.rank_known && os.is_static() && xs.rank_known && xs == os)
        return cancel(g, first, second, x);
      // The second shape reads 0 as "copy the first Reshape's dim": resolve it statically.
      Value* shape = second->input(1);
      if (os.rank_known && os.is_static()) {
        const Dims& d = os.static_dims();
        shape =
            add_constant_named(g, second->input(1)->name(),
                               Tensor::from_vector<int64_t>(d, {static_cast<int64_t>(d.size())}));
      } else {
        const std::optional<std::vector<int64_t>> s = constant_ints(g, shape);
        const bool allowzero = second->attrs.get_int("allowzero", 0) != 0;
        if (!s || (!allowzero && std::count(s->begin(), s->end(), 0) > 0)) return 0;
      }
      replace_chain(g, {first, second}, OpKind::Reshape, {x, shape}, out, second->attrs);
      return 1;
    }
    const bool unsq_sq = first->op == OpKind::Unsqueeze && second->op == OpKind::Squeeze;
    const bool sq_unsq = first->op == OpKind::Squeeze && second->op == OpKind::Unsqueeze;
    if (unsq_sq || sq_unsq) {
      // Both axis lists index the larger rank: Unsqueeze's output, Squeeze's input.
      const std::optional<int64_t> big = rank_of(unsq_sq ? mid : x);
      if (!big) return 0;
      const auto a1 = axes_of(g, *first, *big), a2 = axes_of(g, *second, *big);
      if (!a1 || !a2 || *a1 != *a2 || a1->empty()) return 0;
      return cancel(g, first, second, x);
    }
    return 0;
  }

  static int cancel(Graph& g, Node* first, Node* second, Value* x) {
    bypass_node(g, second, x);
    remove_if_unused(g, first);
    return 2;
  }
};

}  // namespace

std::unique_ptr<Pass> create_cancel_transposes() { return std::make_unique<CancelTransposes>(); }

}  // namespace kiln
