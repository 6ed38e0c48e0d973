// Gemm / MatMul (+ Add of a constant bias [N]) (+ Add of a residual broadcastable to Y)
// (+ an activation) becomes one KilnFusedMatMul: Y = act(alpha * A @ op(B) + bias + Z).
// A Gemm (transA = 0) maps on its own: transB -> trans_b, alpha kept, beta * C folded into
// the bias when C is a constant [N], [1, N] or scalar, otherwise C (scaled when constant)
// becomes Z. A MatMul is rewritten only when at least one epilogue node joins it. An
// intermediate with another consumer, or that is a graph output, ends the chain.
#include "passes/epilogue_match.h"
#include "passes/pass.h"
#include "passes/pattern_util.h"
#include "passes/registry.h"

namespace kiln {
namespace {

// A constant of dims [N] or [1, ..., 1, N] (rank <= out_rank) as a [N] tensor of `dtype`,
// each value times `scale`; a one-element constant is broadcast to [N].
std::optional<Tensor> column_bias(const Tensor* t, int64_t n, size_t out_rank, DType dtype,
                                  double scale) {
  if (!t || t->dtype() != dtype || t->dims().size() > out_rank) return std::nullopt;
  const Dims& d = t->dims();
  const bool scalar = t->numel() == 1;
  for (size_t i = 0; i + 1 < d.size(); ++i)
    if (d[i] != 1) return std::nullopt;
  if (!scalar && (d.empty() || d.back() != n)) return std::nullopt;
  if (scale == 1.0 && !scalar) return t->reshaped({n});
  const std::vector<double> v = float_values(*t);
  std::vector<double> out(static_cast<size_t>(n));
  for (int64_t j = 0; j < n; ++j)
    out[static_cast<size_t>(j)] = scale * v[scalar ? 0 : static_cast<size_t>(j)];
  return float_tensor(dtype, {n}, out);
}

struct Base {
  std::vector<Value*> inputs;  // A, B, bias, Z
  Attributes attrs;
};

class FuseMatMulEpilogue : public Pass {
 public:
  std::string_view name() const override { return "fuse-matmul-epilogue"; }

  bool run(Graph& g, PassContext& ctx) override {
    std::vector<Node*> roots;
    for (const auto& n : g.nodes())
      if (n->op == OpKind::Gemm || n->op == OpKind::MatMul) roots.push_back(n.get());
    int fused = 0, absorbed = 0, gemms = 0;
    for (Node* root : roots) {
      const bool is_gemm = root->op == OpKind::Gemm;
      const int swallowed = fuse(g, root);
      if (swallowed < 0) continue;
      ++fused;
      absorbed += swallowed;
      gemms += is_gemm;
    }
    if (!fused) return false;
    g.topo_sort();
    g.remove_dead_values();
    ctx.note(name(), cat(fused + absorbed, " nodes fused into ", fused, " KilnFusedMatMul (", gemms,
                         " from Gemm)"));
    return true;
  }

 private:
  // The fused op's inputs and attributes for Gemm / MatMul `n`, or nullopt if it cannot map.
  static std::optional<Base> base_of(Graph& g, const Node& n) {
    const Value* a = n.input(0);
    const Value* y = n.output(0);
    if (!a || !y || !is_float_dtype(a->type.dtype) || !y->type.shape.rank_known)
      return std::nullopt;
    Base b;
    b.inputs = {n.input(0), n.input(1), nullptr, nullptr};
    if (n.op == OpKind::MatMul) {
      if (y->type.shape.rank() == 0) return std::nullopt;
      return b;
    }
    if (n.attrs.get_int("transA", 0) != 0) return std::nullopt;
    if (n.attrs.get_int("transB", 0) != 0) b.attrs.set("trans_b", Attribute::of_int(1));
    const float alpha = n.attrs.get_float("alpha", 1.0f);
    if (alpha != 1.0f) b.attrs.set("alpha", Attribute::of_float(alpha));
    Value* c = n.input(2);
    const double beta = n.attrs.get_float("beta", 1.0f);
    if (!c || beta == 0.0) return b;
    const Dim& nd = y->type.shape.dims.back();
    const Tensor* ct = constant_tensor(g, c);
    if (nd.is_static()) {
      if (std::optional<Tensor> bias = column_bias(ct, nd.value, 2, a->type.dtype, beta)) {
        b.inputs[2] = beta == 1.0 && ct->rank() == 1 && ct->numel() == nd.value
                          ? c
                          : add_constant_named(g, c->name() + "_bias", std::move(*bias));
        return b;
      }
    }
    if (beta == 1.0) {
      b.inputs[3] = c;
    } else if (ct && ct->dtype() == a->type.dtype) {
      std::vector<double> v = float_values(*ct);
      for (double& e : v) e *= beta;
      b.inputs[3] =
          add_constant_named(g, c->name() + "_scaled", float_tensor(ct->dtype(), ct->dims(), v));
    } else {
      return std::nullopt;
    }
    return b;
  }

  // Rewrites `root` and its epilogue; returns how many nodes joined it, -1 when left alone.
  static int fuse(Graph& g, Node* root) {
    std::optional<Base> base = base_of(g, *root);
    if (!base) return -1;
    std::vector<Value*>& inputs = base->inputs;
    Value* cur = root->output(0);
    std::vector<Node*> chain = {root};
    Node* next = sole_consumer(g, cur);

    const Shape& ys = cur->type.shape;
    if (next && next->op == OpKind::Add && !inputs[2] && !inputs[3] && ys.dims.back().is_static()) {
      Value* other = other_operand(*next, cur);
      std::optional<Tensor> b = column_bias(constant_tensor(g, other), ys.dims.back().value,
                                            ys.rank(), cur->type.dtype, 1.0);
      if (b && next->output(0)->type.shape == ys) {
        const Tensor* ot = constant_tensor(g, other);
        inputs[2] = ot->rank() == 1 && ot->numel() == ys.dims.back().value
                        ? other
                        : add_constant_named(g, other->name() + "_bias", std::move(*b));
        chain.push_back(next);
        cur = next->output(0);
        next = sole_consumer(g, cur);
      }
    }
    if (next && !inputs[3]) {
      if (Value* z = residual_operand(*next, cur, /*same_shape=*/false)) {
        inputs[3] = z;
        chain.push_back(next);
        cur = next->output(0);
        next = sole_consumer(g, cur);
      }
    }
    if (next && next->input(0) == cur && match_activation(g, *next, base->attrs)) {
      chain.push_back(next);
      cur = next->output(0);
    }
    if (root->op == OpKind::MatMul && chain.size() == 1) return -1;
    while (!inputs.empty() && !inputs.back()) inputs.pop_back();
    replace_chain(g, chain, OpKind::KilnFusedMatMul, std::move(inputs), cur,
                  std::move(base->attrs));
    return static_cast<int>(chain.size()) - 1;
  }
};

}  // namespace

std::unique_ptr<Pass> create_fuse_matmul_epilogue() {
  return std::make_unique<FuseMatMulEpilogue>();
}

}  // namespace kiln
