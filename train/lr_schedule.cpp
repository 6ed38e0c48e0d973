#include "train/lr_schedule.h"

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
  }
  return base_lr;
}

LrSchedule::Kind lr_schedule_from_name(const std::string& name) {
  if (name == "none" || name == "constant") return LrSchedule::Kind::Constant;
  if (name == "step") return LrSchedule::Kind::Step;
  if (name == "cosine") return LrSchedule::Kind::Cosine;
  fail("unknown learning-rate schedule '", name, "' (expected none, step or cosine)");
}

const char* lr_schedule_name(LrSchedule::Kind k) {
  switch (k) {
    case LrSchedule::Kind::Constant: return "none";
    case LrSchedule::Kind::Step: return "step";
    case LrSchedule::Kind::Cosine: return "cosine";
  }
  return "?";
}

}  // namespace kiln::train
