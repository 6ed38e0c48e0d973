// Folds an inference BatchNormalization into the Conv, Gemm or MatMul that feeds it, when that
// producer has constant weights and its output has no other use. With
//   s = scale / sqrt(var + epsilon)   and   BN(y) = s * (y - mean) + B,
// the weights are scaled per output channel (Conv: W[m] *= s[m]; Gemm/MatMul: column n of
// op(B) *= s[n]) and the bias becomes s * (bias - mean) + B (a new one when there was none).
// MatMul (2-D A, constant 2-D B) becomes a Gemm so it can carry the bias. The arithmetic is
// done in double and rounded once, so results match the unfolded graph to float rounding.
// A BatchNormalization fed by anything else is left alone.
#include <cmath>

#include "passes/pass.h"
#include "passes/pattern_util.h"
#include "passes/registry.h"

namespace kiln {
namespace {

// The per-channel affine map of an inference BatchNormalization: y -> s * y + t.
struct Affine {
  std::vector<double> s, t;
};

bool is_float_dtype(DType d) {
  return d == DType::F32 || d == DType::F64 || d == DType::F16 || d == DType::BF16;
}

// The BN's affine map when it is an inference BN over axis 1 with constant 1-D statistics.
std::optional<Affine> inference_affine(const Graph& g, const Node& bn) {
  if (bn.attrs.get_int("training_mode", 0) != 0) return std::nullopt;
  if (bn.opset < 9 && bn.attrs.get_int("spatial", 1) != 1) return std::nullopt;
  for (size_t i = 1; i < bn.outputs().size(); ++i) {
    const Value* v = bn.output(i);
    if (v && (!v->uses().empty() || is_graph_output(g, v))) return std::nullopt;
  }
  std::vector<std::vector<double>> p;
  for (size_t i = 1; i <= 4; ++i) {
    const Tensor* t = constant_tensor(g, bn.input(i));
    if (!t || t->rank() != 1 || !is_float_dtype(t->dtype())) return std::nullopt;
    p.push_back(float_values(*t));
    if (p.back().size() != p.front().size()) return std::nullopt;
  }
  const double eps = bn.attrs.get_float("epsilon", 1e-5f);
  Affine a;
  for (size_t c = 0; c < p[0].size(); ++c) {
    const double s = p[0][c] / std::sqrt(p[3][c] + eps);
    a.s.push_back(s);
    a.t.push_back(p[1][c] - s * p[2][c]);
  }
  return a;
}

class FoldBatchNorm : public Pass {
 public:
  std::string_view name() const override { return "fold-batchnorm"; }

  bool run(Graph& g, PassContext& ctx) override {
    std::vector<Node*> bns;
    for (const auto& n : g.nodes())
      if (n->op == OpKind::BatchNormalization) bns.push_back(n.get());
    int conv = 0, gemm = 0;
    for (Node* bn : bns) {
      Value* x = bn->input(0);
      Node* p = x ? x->producer() : nullptr;
      if (!p || sole_consumer(g, x) != bn || !is_float_dtype(x->type.dtype)) continue;
      const std::optional<Affine> a = inference_affine(g, *bn);
      if (!a) continue;
      if (p->op == OpKind::Conv && fold_into_conv(g, p, bn, *a)) {
        ++conv;
      } else if ((p->op == OpKind::Gemm || p->op == OpKind::MatMul) &&
                 fold_into_gemm(g, p, bn, *a)) {
        ++gemm;
      }
    }
    if (conv + gemm == 0) return false;
    g.topo_sort();
    g.remove_dead_values();
    if (conv) ctx.note(name(), cat("folded ", conv, " BatchNormalization into Conv"));
    if (gemm) ctx.note(name(), cat("folded ", gemm, " BatchNormalization into Gemm/MatMul"));
    return true;
  }

 private:
  static bool fold_into_conv(Graph& g, Node* conv, Node* bn, const Affine& a) {
    const Tensor* w = constant_tensor(g, conv->input(1));
    const Value* b_in = conv->input(2);
    const Tensor* b = constant_tensor(g, b_in);
    const int64_t m = static_cast<int64_t>(a.s.size());
    if (!w || !is_float_dtype(w->dtype()) || m == 0 || w->rank() < 1 || w->dim(0) != m ||
        (b_in && !b) || (b && b->numel() != m))
      return false;
    std::vector<double> wv = float_values(*w);
    const size_t per_channel = wv.size() / static_cast<size_t>(m);
    for (size_t i = 0; i < wv.size(); ++i) wv[i] *= a.s[i / per_channel];
    std::vector<double> bv = b ? float_values(*b) : std::vector<double>(a.s.size(), 0.0);
    for (size_t c = 0; c < bv.size(); ++c) bv[c] = a.s[c] * bv[c] + a.t[c];
    Value* w2 = add_constant_named(g, conv->input(1)->name() + "_bn",
                                   float_tensor(w->dtype(), w->dims(), wv));
    Value* b2 = add_constant_named(g, (b_in ? b_in->name() : conv->input(1)->name()) + "_bn_bias",
                                   float_tensor(w->dtype(), {m}, bv));
    replace_chain(g, {conv, bn}, OpKind::Conv, {conv->input(0), w2, b2}, bn->output(0),
                  conv->attrs);
    return true;
  }

  // Gemm (any transA/transB, alpha, beta) or MatMul of a 2-D A by a constant 2-D B.
  static bool fold_into_gemm(Graph& g, Node* p, Node* bn, const Affine& a) {
    const bool is_gemm = p->op == OpKind::Gemm;
    const Tensor* w = constant_tensor(g, p->input(1));
    const Value* c_in = is_gemm ? p->input(2) : nullptr;
    const Tensor* c = constant_tensor(g, c_in);
    const Value* in = p->input(0);
    if (!w || !is_float_dtype(w->dtype()) || w->rank() != 2 || (c_in && !c) || (c && c->rank() > 2))
      return false;
    if (!is_gemm && (!in->type.shape.rank_known || in->type.shape.rank() != 2)) return false;
    const bool trans_b = is_gemm && p->attrs.get_int("transB", 0) != 0;
    const int64_t n = trans_b ? w->dim(0) : w->dim(1);
    if (n != static_cast<int64_t>(a.s.size())) return false;
    const int64_t rows = c && c->rank() == 2 ? c->dim(0) : 1;
    if (c && c->rank() >= 1 && c->dims().back() != 1 && c->dims().back() != n) return false;

    std::vector<double> wv = float_values(*w);
    for (size_t i = 0; i < wv.size(); ++i) {
      const size_t col = trans_b ? i / static_cast<size_t>(w->dim(1)) : i % static_cast<size_t>(n);
      wv[i] *= a.s[col];
    }
    // New C = s * (beta * C - mean) + B, shaped [N] or [rows, N]; C broadcast as Gemm does.
    const double beta = is_gemm ? p->attrs.get_float("beta", 1.0f) : 1.0;
    const std::vector<double> cv = c ? float_values(*c) : std::vector<double>{0.0};
    const int64_t c_cols = c && c->rank() >= 1 ? c->dims().back() : 1;
    std::vector<double> nc;
    for (int64_t r = 0; r < rows; ++r) {
      for (int64_t j = 0; j < n; ++j) {
        const double cij = cv[static_cast<size_t>(r * c_cols + (c_cols == 1 ? 0 : j))];
        nc.push_back(a.s[static_cast<size_t>(j)] * beta * cij + a.t[static_cast<size_t>(j)]);
      }
    }
    const Dims c_dims = rows > 1 || (c && c->rank() == 2) ? Dims{rows, n} : Dims{n};
    Value* w2 =
        add_constant_named(g, p->input(1)->name() + "_bn", float_tensor(w->dtype(), w->dims(), wv));
    Value* c2 = add_constant_named(g, (c_in ? c_in->name() : p->input(1)->name()) + "_bn_bias",
                                   float_tensor(w->dtype(), c_dims, nc));
    Attributes attrs = is_gemm ? p->attrs : Attributes{};
    attrs.set("beta", Attribute::of_float(1.0f));
    replace_chain(g, {p, bn}, OpKind::Gemm, {p->input(0), w2, c2}, bn->output(0), std::move(attrs));
    return true;
  }
};

}  // namespace

std::unique_ptr<Pass> create_fold_batchnorm() { return std::make_unique<FoldBatchNorm>(); }

}  // namespace kiln
