// Learning-rate schedules, evaluated per epoch (PyTorch's StepLR and CosineAnnealingLR).
#pragma once

#include <string>

namespace kiln::train {

struct LrSchedule {
  enum class Kind { Constant, Step, Cosine };
  Kind kind = Kind::Constant;
  int step_size = 1;     // Step: epochs between decays
  double gamma = 0.7;    // Step: decay factor (PyTorch's MNIST example uses 0.7 every epoch)
  double min_lr = 0.0;   // Cosine: the floor
  int total_epochs = 1;  // Cosine: T_max

  // The learning rate of 0-based `epoch`.
  double lr_at(double base_lr, int epoch) const;
};

LrSchedule::Kind lr_schedule_from_name(const std::string& name);  // none | step | cosine
const char* lr_schedule_name(LrSchedule::Kind k);

}  // namespace kiln::train
