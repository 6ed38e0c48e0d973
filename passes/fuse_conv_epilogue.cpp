// Conv (+ Add of a per-channel constant bias [M,1,..] or [1,M,1,..]) (+ Add of a residual of
// Y's shape) (+ an activation, Clip(0, 6) included) becomes one KilnFusedConv. Each step is
// optional but at least one must match; an intermediate with another consumer, or that is a
// graph output, ends the chain. The bias Add is absorbed only when the Conv has no bias of its
// own (summing two biases would change the rounding). Y = act(Conv(X, W, B) + Z).
#include "passes/epilogue_match.h"
#include "passes/pass.h"
#include "passes/pattern_util.h"
#include "passes/registry.h"

namespace kiln {
namespace {

// A constant [M,1,...,1] or [1,M,1,...,1] added to a Conv output of rank `rank`, as a [M] bias.
std::optional<Tensor> channel_bias(const Graph& g, const Value* v, int64_t m, size_t rank,
                                   DType dtype) {
  const Tensor* t = constant_tensor(g, v);
  if (!t || t->dtype() != dtype || rank < 2) return std::nullopt;
  const Dims& d = t->dims();
  const size_t lead = d.size() == rank ? 1 : 0;  // [1, M, ...] has the batch axis
  if (d.size() != rank && d.size() != rank - 1) return std::nullopt;
  for (size_t i = 0; i < d.size(); ++i)
    if (d[i] != (i == lead ? m : 1)) return std::nullopt;
  return t->reshaped({m});
}

class FuseConvEpilogue : public Pass {
 public:
  std::string_view name() const override { return "fuse-conv-epilogue"; }

  bool run(Graph& g, PassContext& ctx) override {
    std::vector<Node*> convs;
    for (const auto& n : g.nodes())
      if (n->op == OpKind::Conv) convs.push_back(n.get());
    int fused = 0, absorbed = 0;
    for (Node* conv : convs) {
      const int swallowed = fuse(g, conv);
      if (swallowed == 0) continue;
      ++fused;
      absorbed += swallowed;
    }
    if (!fused) return false;
    g.topo_sort();
    g.remove_dead_values();
    ctx.note(name(), cat(fused + absorbed, " nodes fused into ", fused, " KilnFusedConv"));
    return true;
  }

 private:
  // Fuses the chain after `conv`; returns how many nodes it absorbed (0 = nothing matched).
  static int fuse(Graph& g, Node* conv) {
    Value* cur = conv->output(0);
    const Value* x = conv->input(0);
    const Value* w = conv->input(1);
    if (!cur || !is_float_dtype(x->type.dtype) || !cur->type.shape.rank_known) return 0;
    std::vector<Node*> chain = {conv};
    std::vector<Value*> inputs = {conv->input(0), conv->input(1), conv->input(2), nullptr};
    Attributes attrs = conv->attrs;
    Node* next = sole_consumer(g, cur);

    // Bias: only into a Conv without one, from a constant shaped per channel.
    const Shape& ws = w->type.shape;
    if (next && next->op == OpKind::Add && !inputs[2] && ws.rank_known && ws.rank() >= 1 &&
        ws.dims[0].is_static()) {
      const Value* other = other_operand(*next, cur);
      std::optional<Tensor> b =
          channel_bias(g, other, ws.dims[0].value, cur->type.shape.rank(), cur->type.dtype);
      if (b && next->output(0)->type.shape == cur->type.shape) {
        inputs[2] = add_constant_named(g, other->name() + "_bias", std::move(*b));
        chain.push_back(next);
        cur = next->output(0);
        next = sole_consumer(g, cur);
      }
    }
    // Residual: Z exactly of Y's shape.
    if (next) {
      if (Value* z = residual_operand(*next, cur, /*same_shape=*/true)) {
        inputs[3] = z;
        chain.push_back(next);
        cur = next->output(0);
        next = sole_consumer(g, cur);
      }
    }
    if (next && next->input(0) == cur && match_activation(g, *next, attrs)) {
      chain.push_back(next);
      cur = next->output(0);
    }
    if (chain.size() == 1) return 0;
    while (!inputs.empty() && !inputs.back()) inputs.pop_back();
    replace_chain(g, chain, OpKind::KilnFusedConv, std::move(inputs), cur, std::move(attrs));
    return static_cast<int>(chain.size()) - 1;
  }
};

}  // namespace

std::unique_ptr<Pass> create_fuse_conv_epilogue() { return std::make_unique<FuseConvEpilogue>(); }

}  // namespace kiln
