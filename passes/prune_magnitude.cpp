// prune-magnitude: unstructured pruning. Zeroes the fraction R of the Conv/Gemm/MatMul weights
// with the smallest magnitude, per weight tensor by default (every layer reaches R exactly, so
// no layer is emptied) or across all of them with `magnitude:R:global`. Shapes do not change:
// the zeros only pay off in file size after compression or on sparse kernels, which Kiln's CPU
// target does not have, so no speedup is expected.
#include <cstdio>

#include "passes/pass.h"
#include "passes/prune_spec.h"
#include "passes/prune_weights.h"
#include "passes/registry.h"

namespace kiln {
namespace {

std::string percent(int64_t part, int64_t whole) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.1f%%", whole ? 100.0 * static_cast<double>(part) / static_cast<double>(whole) : 0.0);
  return buf;
}

class PruneMagnitude : public Pass {
 public:
  std::string_view name() const override { return "prune-magnitude"; }

  bool run(Graph& g, PassContext& ctx) override {
    const PruneSpec spec = prune_spec_for_pass(ctx.prune_spec, PruneKind::Magnitude);
    const std::vector<PrunableWeight> ws = prunable_weights(g);
    if (ws.empty()) {
      ctx.note(name(), "no Conv/Gemm/MatMul f32 constant weights to prune");
      return false;
    }
    std::vector<const Tensor*> tensors;
    int64_t total = 0, zeros_before = 0, zeros_after = 0;
    for (const PrunableWeight& w : ws) {
      tensors.push_back(&*w.value->constant);
      total += w.value->constant->numel();
      zeros_before += count_zeros(*w.value->constant);
    }
    const std::vector<KeepMask> masks = magnitude_masks(tensors, spec.ratio, spec.global);
    for (size_t i = 0; i < ws.size(); ++i) {
      Tensor t = ws[i].value->constant->clone();  // the old bytes may be shared with a copy
      apply_mask(t, masks[i]);
      zeros_after += count_zeros(t);
      ws[i].value->constant = std::move(t);
    }
    ctx.note(name(), cat("sparsity ", percent(zeros_after, total), " (", zeros_after, " of ", total,
                         " weights zero in ", ws.size(), " tensors, ",
                         spec.global ? "one global threshold" : "per tensor", "; was ",
                         percent(zeros_before, total), ")"));
    ctx.note(name(), "shapes unchanged: 0 bytes saved, no speedup without sparse kernels");
    return zeros_after != zeros_before;
  }
};

}  // namespace

std::unique_ptr<Pass> create_prune_magnitude() { return std::make_unique<PruneMagnitude>(); }

}  // namespace kiln
