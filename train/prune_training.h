// kiln-train --prune: iterative pruning with fine-tuning. The model trains dense for the first
// epoch; at the end of epochs 1..K (--prune-steps K) the pruning is raised to k/K of the
// target, and the remaining epochs fine-tune.
//   magnitude, N:M: zeros chosen from the current weights by the same rule as the compile-time
//     passes (passes/prune_weights.h); the masks stay fixed until the next pruning step, the
//     pruned weights being re-zeroed after every optimizer update.
//   channel: the model is physically shrunk (passes/prune_channel.h) and training continues on
//     the smaller model, so the export is the small model.
#pragma once

#include <cstdio>

#include "passes/prune_spec.h"
#include "train/trainer.h"

namespace kiln::train {

// Fails with one line unless 1 <= steps < epochs (every pruning step gets fine-tuning).
void check_prune_schedule(int steps, int epochs);

// Trains `trainer` to its configured epochs with the pruning schedule, logging each pruning
// step to `log`. Returns false when `stop` interrupted it.
// `test` is evaluated after each pruning step.
bool train_with_pruning(Trainer& trainer, const PruneSpec& spec, int steps,
                        const mnist::Dataset& test, std::FILE* log,
                        const std::atomic<bool>* stop = nullptr);

// Sparsity of the model's prunable weights (passes/prune_weights.h), in [0, 1].
double weight_sparsity(const Graph& model);

}  // namespace kiln::train
