#include "ir/cost.h"

#include "ir/graph.h"

namespace kiln {

namespace {
// Dims with every symbolic dim counted as 1 (a per-sample cost for a symbolic batch);
// nullopt when the rank is unknown.
std::optional<Dims> static_shape(const Value* v) {
  if (!v || !v->type.shape.rank_known) return std::nullopt;
  Dims d;
  for (const Dim& x : v->type.shape.dims) d.push_back(x.is_static() ? x.value : 1);
  return d;
}
int64_t prod(const Dims& d, size_t from = 0) {
  int64_t p = 1;
  for (size_t i = from; i < d.size(); ++i) p *= d[i];
  return p;
}
}  // namespace

std::optional<int64_t> estimate_macs(const Node& n) {
  switch (n.op) {
    case OpKind::Conv:
    case OpKind::ConvInteger:
    case OpKind::QLinearConv: {
      const size_t w_index = n.op == OpKind::QLinearConv ? 3 : 1;
      auto w = static_shape(n.input(w_index));
      auto y = static_shape(n.output(0));
      if (!w || !y || w->size() < 2 || y->size() < 2) return std::nullopt;
      // every output element takes Cin/group * prod(kernel) products
      return prod(*y) * prod(*w, 1);
    }
    case OpKind::ConvTranspose: {
      auto x = static_shape(n.input(0));
      auto w = static_shape(n.input(1));
      if (!x || !w || w->size() < 2) return std::nullopt;
      return prod(*x) * prod(*w, 1);  // every input element scatters Cout/group * prod(kernel)
    }
    case OpKind::MatMul:
    case OpKind::MatMulInteger:
    case OpKind::QLinearMatMul:
    case OpKind::Gemm: {
      auto a = static_shape(n.input(0));
      auto y = static_shape(n.output(0));
      if (!a || !y || a->empty()) return std::nullopt;
      int64_t k = a->back();
      if (n.op == OpKind::Gemm && n.attrs.get_int("transA", 0) && a->size() == 2) k = (*a)[0];
      return prod(*y) * k;
    }
    default:
      return 0;
  }
}

int64_t estimate_graph_macs(const Graph& g, bool* complete) {
  int64_t total = 0;
  *complete = true;
  for (const auto& n : g.nodes()) {
    auto m = estimate_macs(*n);
    if (m) total += *m;
    else *complete = false;
    for (const Value* v : n->outputs())
      if (v && !v->type.shape.is_static()) *complete = false;
  }
  return total;
}

}  // namespace kiln
