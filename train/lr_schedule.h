// Learning-rate schedules: per epoch (PyTorch's StepLR and CosineAnnealingLR), or per step
// (one-cycle: a linear warm-up from base/10 to base over the first `warmup` of the run, then a
// cosine down to 0 at its last step, as PyTorch's OneCycleLR with anneal_strategy "cos").
#pragma once

#include <cstdint>
#include <string>

namespace kiln::train {

struct LrSchedule {
  enum class Kind { Constant, Step, Cosine, OneCycle };
  Kind kind = Kind::Constant;
  int step_size = 1;     // Step: epochs between decays
  double gamma = 0.7;    // Step: decay factor (PyTorch's MNIST example uses 0.7 every epoch)
  double min_lr = 0.0;   // Cosine: the floor
  int total_epochs = 1;  // Cosine: T_max; OneCycle: the run's length
  double warmup = 0.15;  // OneCycle: fraction of the run's steps spent warming up

  // The learning rate of 0-based `epoch` (per-epoch kinds; OneCycle: its first step).
  double lr_at(double base_lr, int epoch) const;
  // The learning rate of 0-based global `step` with `steps_per_epoch` steps in each epoch.
  double lr_at_step(double base_lr, int64_t step, int64_t steps_per_epoch) const;
};

LrSchedule::Kind lr_schedule_from_name(const std::string& name);  // none|step|cosine|onecycle
const char* lr_schedule_name(LrSchedule::Kind k);

}  // namespace kiln::train
