// prune-nm: N:M semi-structured pruning (2:4 by default). In every group of M consecutive
// weights along the reduction dim (Conv: input channels at one kernel position; Gemm/MatMul:
// K) only the N largest |w| stay. A weight whose reduction length is not a multiple of M is
// left dense and named in the report. Like magnitude pruning it only writes zeros: the
// pattern is what sparse tensor cores accelerate; Kiln's CPU kernels run it at dense speed.
#include <cstdio>

#include "passes/pass.h"
#include "passes/prune_spec.h"
#include "passes/prune_weights.h"
#include "passes/registry.h"

namespace kiln {
namespace {

class PruneNM : public Pass {
 public:
  std::string_view name() const override { return "prune-nm"; }

  bool run(Graph& g, PassContext& ctx) override {
    const PruneSpec spec = prune_spec_for_pass(ctx.prune_spec, PruneKind::NM);
    int64_t total = 0, zeros = 0, pruned = 0;
    std::string skipped;
    bool changed = false;
    for (const PrunableWeight& w : prunable_weights(g)) {
      total += w.value->constant->numel();
      if (!nm_applicable(w, spec.m)) {
        zeros += count_zeros(*w.value->constant);
        skipped += cat(skipped.empty() ? "" : ", ", w.value->name(), " (", w.len, ")");
        continue;
      }
      Tensor t = w.value->constant->clone();  // the old bytes may be shared with a copy
      const int64_t before = count_zeros(t);
      apply_mask(t, nm_mask(t, w, spec.n, spec.m));
      const int64_t after = count_zeros(t);
      changed |= after != before;
      zeros += after;
      ++pruned;
      w.value->constant = std::move(t);
    }
    char pct[32];
    std::snprintf(pct, sizeof pct, "%.1f%%", total ? 100.0 * static_cast<double>(zeros) / static_cast<double>(total) : 0.0);
    ctx.note(name(), cat(spec.n, ":", spec.m, " pattern in ", pruned, " weight tensors; sparsity ",
                         pct, " (", zeros, " of ", total, " weights zero)"));
    if (!skipped.empty())
      ctx.note(name(), cat("left dense (reduction length not a multiple of ", spec.m, "): ", skipped));
    ctx.note(name(), "shapes unchanged: 0 bytes saved, no speedup without sparse kernels");
    return changed;
  }
};

}  // namespace

std::unique_ptr<Pass> create_prune_nm() { return std::make_unique<PruneNM>(); }

}  // namespace kiln
