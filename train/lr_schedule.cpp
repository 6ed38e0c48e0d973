#include "train/lr_schedule.h"

#include <algorithm>
#include <cmath>
#include <numbers>

#include "ir/error.h"

namespace kiln::train {

double LrSchedule::lr_at(double base_lr, int epoch) const {
  switch (kind) {
    case Kind::Constant: return base_lr;
    case Kind::Step: return base_lr * std::pow(gamma, epoch / std::max(step_size, 1));
    case Kind::Cosine: {
      const double t = static_cast<double>(epoch) / static_cast<double>(std::max(total_epochs, 1));
      return min_lr + (base_lr - min_lr) * (1.0 + std::cos(std::numbers::pi * t)) / 2.0;
    }
    case Kind::OneCycle: return lr_at_step(base_lr, 0, 1);
  }
  return base_lr;
}

double LrSchedule::lr_at_step(double base_lr, int64_t step, int64_t steps_per_epoch) const {
  steps_per_epoch = std::max<int64_t>(steps_per_epoch, 1);
  if (kind != Kind::OneCycle) return lr_at(base_lr, static_cast<int>(step / steps_per_epoch));
  const double total = static_cast<double>(std::max(total_epochs, 1)) * static_cast<double>(steps_per_epoch);
  const double up = std::max(1.0, std::floor(warmup * total));
  const double t = static_cast<double>(step);
  if (t < up) return base_lr * (0.1 + 0.9 * t / up);
  const double down = std::max(1.0, total - 1.0 - up);  // the last step reaches 0
  const double u = std::min(1.0, (t - up) / down);
  return base_lr * (1.0 + std::cos(std::numbers::pi * u)) / 2.0;
}

LrSchedule::Kind lr_schedule_from_name(const std::string& name) {
  if (name == "none" || name == "constant") return LrSchedule::Kind::Constant;
  if (name == "step") return LrSchedule::Kind::Step;
  if (name == "cosine") return LrSchedule::Kind::Cosine;
  if (name == "onecycle") return LrSchedule::Kind::OneCycle;
  fail("unknown learning-rate schedule '", name, "' (expected none, step, cosine or onecycle)");
}

const char* lr_schedule_name(LrSchedule::Kind k) {
  switch (k) {
    case LrSchedule::Kind::Constant: return "none";
    case LrSchedule::Kind::Step: return "step";
    case LrSchedule::Kind::Cosine: return "cosine";
    case LrSchedule::Kind::OneCycle: return "onecycle";
  }
  return "?";
}

}  // namespace kiln::train
