#include "train/prune_training.h"

#include <cmath>

#include "ir/infer.h"
#include "passes/prune_channel.h"
#include "passes/prune_weights.h"
#include "train/graph_copy.h"

namespace kiln::train {
namespace {

struct Masks {
  std::vector<Tensor> weights;  // alias the model's (and so the trainer's) parameter bytes
  std::vector<KeepMask> keep;
  void apply() {
    for (size_t i = 0; i < weights.size(); ++i) apply_mask(weights[i], keep[i]);
  }
};

// Masks for the pruning step reaching `ratio` (N:M ignores it: the pattern is all or nothing).
Masks choose_masks(const Graph& model, const PruneSpec& spec, double ratio) {
  Masks m;
  std::vector<PrunableWeight> ws = prunable_weights(model);
  std::vector<const Tensor*> ptrs;
  for (const PrunableWeight& w : ws) {
    if (spec.kind == PruneKind::NM && !nm_applicable(w, spec.m)) continue;
    m.weights.push_back(*w.value->constant);
    ptrs.push_back(&*w.value->constant);
    if (spec.kind == PruneKind::NM) m.keep.push_back(nm_mask(*w.value->constant, w, spec.n, spec.m));
  }
  if (spec.kind == PruneKind::Magnitude) m.keep = magnitude_masks(ptrs, ratio, spec.global);
  return m;
}

// Removes channels so that the fraction `target` of the original channels is gone, given
// that `done` already is.
std::string shrink_channels(Trainer& trainer, const PruneSpec& spec, double done, double target) {
  auto model = std::make_unique<Graph>();
  copy_graph(trainer.model(), *model);
  model->opset = trainer.model().opset;
  const int64_t before = model->num_parameters();
  const double step_ratio = 1.0 - (1.0 - target) / (1.0 - done);
  const ChannelPlan plan = plan_channel_pruning(*model, step_ratio, spec.l2);
  int64_t total = 0, kept = 0;
  for (const ChannelGroup& g : plan.groups) {
    total += g.channels;
    kept += static_cast<int64_t>(g.keep.size());
  }
  apply_channel_plan(*model, plan, ChannelApply::Remove);
  const int64_t after = model->num_parameters();
  trainer.replace_model(std::move(model));
  return cat("removed ", total - kept, " of ", total, " channels; params ", before, " -> ", after);
}

}  // namespace

void check_prune_schedule(int steps, int epochs) {
  if (steps < 1) fail("--prune-steps must be >= 1, got ", steps);
  if (steps >= epochs)
    fail("--prune-steps ", steps, " needs --epochs > ", steps,
         " (the model trains one epoch first and every pruning step is fine-tuned)");
}

double weight_sparsity(const Graph& model) {
  int64_t zeros = 0, total = 0;
  for (const PrunableWeight& w : prunable_weights(model)) {
    zeros += count_zeros(*w.value->constant);
    total += w.value->constant->numel();
  }
  return total ? static_cast<double>(zeros) / static_cast<double>(total) : 0.0;
}

bool train_with_pruning(Trainer& trainer, const PruneSpec& spec, int steps,
                        const mnist::Dataset& test, std::FILE* log, const std::atomic<bool>* stop) {
  check_prune_schedule(steps, trainer.config().epochs);
  Masks masks;
  auto reapply = [&](int64_t) { masks.apply(); };
  double done = 0;
  for (int k = 1; k <= steps; ++k) {
    if (!trainer.train(log, stop, reapply, k)) return false;
    const double target = spec.ratio * k / steps;
    std::string what;
    if (spec.kind == PruneKind::Channel) {
      what = shrink_channels(trainer, spec, done, target);
    } else {
      masks = choose_masks(trainer.model(), spec, target);
      masks.apply();
      char buf[64];
      std::snprintf(buf, sizeof buf, "weight sparsity %.1f%%", 100.0 * weight_sparsity(trainer.model()));
      what = buf;
    }
    done = target;
    const double acc = trainer.evaluate(test).accuracy;
    const std::string at = spec.kind == PruneKind::NM ? "full pattern" : cat("ratio now ", target);
    std::fprintf(log, "prune step %d/%d (%s, %s): %s; test_acc=%.2f%% before fine-tuning\n", k,
                 steps, prune_spec_text(spec).c_str(), at.c_str(), what.c_str(), 100.0 * acc);
    std::fflush(log);
  }
  return trainer.train(log, stop, reapply);
}

}  // namespace kiln::train
