#include "train/optimizers.h"

#include <cmath>

#include "ir/error.h"

namespace kiln::train {

namespace {
struct NamedKind {
  const char* name;
  OptimizerKind kind;
};
constexpr NamedKind kKinds[] = {
    {"sgd", OptimizerKind::Sgd},         {"momentum", OptimizerKind::Momentum},
    {"nesterov", OptimizerKind::Nesterov}, {"adagrad", OptimizerKind::Adagrad},
    {"rmsprop", OptimizerKind::RmsProp}, {"adam", OptimizerKind::Adam},
    {"adamw", OptimizerKind::AdamW},
};
}  // namespace

OptimizerKind optimizer_from_name(const std::string& name) {
  for (const auto& k : kKinds)
    if (name == k.name) return k.kind;
  fail("unknown optimizer '", name, "' (expected adam, sgd, momentum, nesterov, adagrad, rmsprop or adamw)");
}

const char* optimizer_name(OptimizerKind kind) {
  for (const auto& k : kKinds)
    if (kind == k.kind) return k.name;
  return "?";
}

std::vector<float>& Optimizer::slot(size_t param, const char* name, size_t n) {
  std::vector<float>& s = slots_[std::to_string(param) + "/" + name];
  if (s.empty()) s.assign(n, 0.0f);
  KILN_CHECK(s.size() == n, "optimizer state '", param, "/", name, "' has ", s.size(),
             " values, the parameter has ", n);
  return s;
}

void Optimizer::step(std::vector<Tensor>& params, const std::vector<Tensor>& grads, double lr) {
  KILN_CHECK(params.size() == grads.size(), "optimizer: ", params.size(), " parameters but ",
             grads.size(), " gradients");
  ++t_;
  const OptimizerConfig& c = cfg_;
  const double bc1 = 1.0 - std::pow(c.beta1, static_cast<double>(t_));
  const double bc2 = 1.0 - std::pow(c.beta2, static_cast<double>(t_));
  for (size_t i = 0; i < params.size(); ++i) {
    Tensor& pt = params[i];
    KILN_CHECK(pt.dims() == grads[i].dims(), "optimizer: gradient ", grads[i].describe(),
               " does not match parameter ", pt.describe());
    float* p = pt.data<float>();
    const float* gp = grads[i].data<float>();
    const size_t n = static_cast<size_t>(pt.numel());
    const bool decoupled = c.kind == OptimizerKind::AdamW;
    float* s1 = nullptr;  // the kind's first state slot (momentum, sum, square_avg, exp_avg)
    float* s2 = nullptr;  // exp_avg_sq
    switch (c.kind) {
      case OptimizerKind::Sgd: break;
      case OptimizerKind::Momentum:
      case OptimizerKind::Nesterov: s1 = slot(i, "momentum", n).data(); break;
      case OptimizerKind::Adagrad: s1 = slot(i, "sum", n).data(); break;
      case OptimizerKind::RmsProp: s1 = slot(i, "square_avg", n).data(); break;
      case OptimizerKind::Adam:
      case OptimizerKind::AdamW:
        s1 = slot(i, "exp_avg", n).data();
        s2 = slot(i, "exp_avg_sq", n).data();
        break;
    }
    for (size_t j = 0; j < n; ++j) {
      double g = gp[j];
      if (!decoupled) g += c.weight_decay * p[j];
      double update = 0;
      switch (c.kind) {
        case OptimizerKind::Sgd: update = g; break;
        case OptimizerKind::Momentum:
        case OptimizerKind::Nesterov: {
          float& buf = s1[j];
          // PyTorch: the first step initializes the buffer to g (the same as 0*m + g).
          buf = static_cast<float>(c.momentum * buf + g);
          update = c.kind == OptimizerKind::Nesterov ? g + c.momentum * buf : buf;
          break;
        }
        case OptimizerKind::Adagrad: {
          float& sum = s1[j];
          sum = static_cast<float>(sum + g * g);
          update = g / (std::sqrt(static_cast<double>(sum)) + 1e-10);
          break;
        }
        case OptimizerKind::RmsProp: {
          float& sq = s1[j];
          sq = static_cast<float>(c.rms_alpha * sq + (1 - c.rms_alpha) * g * g);
          update = g / (std::sqrt(static_cast<double>(sq)) + c.eps);
          break;
        }
        case OptimizerKind::Adam:
        case OptimizerKind::AdamW: {
          float& m = s1[j];
          float& v = s2[j];
          m = static_cast<float>(c.beta1 * m + (1 - c.beta1) * g);
          v = static_cast<float>(c.beta2 * v + (1 - c.beta2) * g * g);
          update = (m / bc1) / (std::sqrt(v / bc2) + c.eps);
          break;
        }
      }
      double pv = p[j];
      if (decoupled) pv *= 1.0 - lr * c.weight_decay;
      p[j] = static_cast<float>(pv - lr * update);
    }
  }
}

std::map<std::string, std::vector<float>> Optimizer::state() const { return slots_; }

void Optimizer::load_state(int64_t steps, const std::map<std::string, std::vector<float>>& slots) {
  t_ = steps;
  slots_ = slots;
}

}  // namespace kiln::train
