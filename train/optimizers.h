// First-order optimizers with PyTorch's update rules (torch.optim), applied in place to f32
// parameters. Per-parameter state (momentum buffers, moment estimates) is kept in named slots
// so checkpoints can save and restore it exactly.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "ir/tensor.h"

namespace kiln {
class ThreadPool;
}

namespace kiln::train {

enum class OptimizerKind { Sgd, Momentum, Nesterov, Adagrad, RmsProp, Adam, AdamW };

OptimizerKind optimizer_from_name(const std::string& name);  // fails listing the valid names
const char* optimizer_name(OptimizerKind k);

struct OptimizerConfig {
  OptimizerKind kind = OptimizerKind::Adam;
  double weight_decay = 0;  // L2 added to the gradient; AdamW: decoupled decay
  double momentum = 0.9;    // Momentum, Nesterov
  double beta1 = 0.9, beta2 = 0.999;  // Adam, AdamW
  double rms_alpha = 0.99;  // RMSprop smoothing
  double eps = 1e-8;        // Adam, AdamW, RMSprop (Adagrad uses 1e-10 as PyTorch does)
};

class Optimizer {
 public:
  explicit Optimizer(OptimizerConfig cfg) : cfg_(cfg) {}
  const OptimizerConfig& config() const { return cfg_; }

  // One update of every parameter with learning rate `lr`. `grads[i] * grad_scale` is
  // params[i]'s gradient (same dims; the scale turns a batch sum into a mean in the same pass).
  // params are updated in place, elements split over `pool` when given (each element's update
  // is independent, so the result ignores the thread count).
  void step(std::vector<Tensor>& params, const std::vector<Tensor>& grads, double lr,
            ThreadPool* pool = nullptr, float grad_scale = 1.0f);

  int64_t steps() const { return t_; }
  // State for checkpoints: slot name ("param_index/slot") -> values.
  std::map<std::string, std::vector<float>> state() const;
  void load_state(int64_t steps, const std::map<std::string, std::vector<float>>& slots);

 private:
  std::vector<float>& slot(size_t param, const char* name, size_t n);
  OptimizerConfig cfg_;
  int64_t t_ = 0;
  std::map<std::string, std::vector<float>> slots_;
};

}  // namespace kiln::train
