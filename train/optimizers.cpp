#include "train/optimizers.h"

#include <cmath>

#include "ir/error.h"
#include "runtime/threadpool/thread_pool.h"

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

namespace {

// One kind's update of elements [b, e): p -= lr * update(g), with L2 weight decay added to the
// gradient, or (AdamW) decoupled. One plain loop per kind, so each vectorizes.
struct UpdateArgs {
  float* p;
  const float* g;
  float g_scale;  // the gradient is g * g_scale (in float: 1 / batch for a mean)
  float* s1;  // the kind's first state slot (momentum, sum, square_avg, exp_avg)
  float* s2;  // exp_avg_sq
  double lr, bc1, bc2;
};

// SGD, momentum, Adagrad, RMSprop: in double, then rounded once.
template <OptimizerKind K>
void update_range_double(const OptimizerConfig& c, const UpdateArgs& a, size_t b, size_t e);

template <OptimizerKind K>
void update_range(const OptimizerConfig& c, const UpdateArgs& a, size_t b, size_t e) {
  if constexpr (K == OptimizerKind::Adam || K == OptimizerKind::AdamW) {
    float* __restrict p = a.p;
    const float* __restrict gp = a.g;
    float* __restrict s1 = a.s1;
    float* __restrict s2 = a.s2;
    const double lr = a.lr;
    const float gs = a.g_scale;
    // Adam in float, as torch.optim does: the loop vectorizes (no double divide and square
    // root per element), which matters at a million parameters per step.
    const float b1 = static_cast<float>(c.beta1), b2 = static_cast<float>(c.beta2);
    const float ib1 = static_cast<float>(1 - c.beta1), ib2 = static_cast<float>(1 - c.beta2);
    const float inv_bc1 = static_cast<float>(1 / a.bc1), inv_bc2 = static_cast<float>(1 / a.bc2);
    const float eps = static_cast<float>(c.eps), flr = static_cast<float>(lr);
    const float wd = static_cast<float>(c.weight_decay);
    const float decay = static_cast<float>(1.0 - lr * c.weight_decay);
    for (size_t j = b; j < e; ++j) {
      float g = gp[j] * gs;
      if constexpr (K == OptimizerKind::Adam) g += wd * p[j];
      const float m = b1 * s1[j] + ib1 * g;
      const float v = b2 * s2[j] + ib2 * g * g;
      s1[j] = m;
      s2[j] = v;
      const float update = (m * inv_bc1) / (std::sqrt(v * inv_bc2) + eps);
      float pv = p[j];
      if constexpr (K == OptimizerKind::AdamW) pv *= decay;
      p[j] = pv - flr * update;
    }
  } else {
    update_range_double<K>(c, a, b, e);
  }
}

template <OptimizerKind K>
void update_range_double(const OptimizerConfig& c, const UpdateArgs& a, size_t b, size_t e) {
  float* __restrict p = a.p;
  const float* __restrict gp = a.g;
  float* __restrict s1 = a.s1;
  const double lr = a.lr;
  const float gs = a.g_scale;
  for (size_t j = b; j < e; ++j) {
    double g = gp[j] * gs;
    if constexpr (K != OptimizerKind::AdamW) g += c.weight_decay * p[j];
    double update = g;
    if constexpr (K == OptimizerKind::Momentum || K == OptimizerKind::Nesterov) {
      // PyTorch: the first step initializes the buffer to g (the same as 0*m + g).
      s1[j] = static_cast<float>(c.momentum * s1[j] + g);
      update = K == OptimizerKind::Nesterov ? g + c.momentum * s1[j] : s1[j];
    } else if constexpr (K == OptimizerKind::Adagrad) {
      s1[j] = static_cast<float>(s1[j] + g * g);
      update = g / (std::sqrt(static_cast<double>(s1[j])) + 1e-10);
    } else if constexpr (K == OptimizerKind::RmsProp) {
      s1[j] = static_cast<float>(c.rms_alpha * s1[j] + (1 - c.rms_alpha) * g * g);
      update = g / (std::sqrt(static_cast<double>(s1[j])) + c.eps);
    }
    p[j] = static_cast<float>(p[j] - lr * update);
  }
}

void update(const OptimizerConfig& c, const UpdateArgs& a, size_t b, size_t e) {
  switch (c.kind) {
    case OptimizerKind::Sgd: return update_range<OptimizerKind::Sgd>(c, a, b, e);
    case OptimizerKind::Momentum: return update_range<OptimizerKind::Momentum>(c, a, b, e);
    case OptimizerKind::Nesterov: return update_range<OptimizerKind::Nesterov>(c, a, b, e);
    case OptimizerKind::Adagrad: return update_range<OptimizerKind::Adagrad>(c, a, b, e);
    case OptimizerKind::RmsProp: return update_range<OptimizerKind::RmsProp>(c, a, b, e);
    case OptimizerKind::Adam: return update_range<OptimizerKind::Adam>(c, a, b, e);
    case OptimizerKind::AdamW: return update_range<OptimizerKind::AdamW>(c, a, b, e);
  }
}

}  // namespace

void Optimizer::step(std::vector<Tensor>& params, const std::vector<Tensor>& grads, double lr,
                     ThreadPool* pool, float grad_scale) {
  KILN_CHECK(params.size() == grads.size(), "optimizer: ", params.size(), " parameters but ",
             grads.size(), " gradients");
  ++t_;
  const OptimizerConfig& c = cfg_;
  UpdateArgs a{};
  a.lr = lr;
  a.g_scale = grad_scale;
  a.bc1 = 1.0 - std::pow(c.beta1, static_cast<double>(t_));
  a.bc2 = 1.0 - std::pow(c.beta2, static_cast<double>(t_));
  for (size_t i = 0; i < params.size(); ++i) {
    Tensor& pt = params[i];
    KILN_CHECK(pt.dims() == grads[i].dims(), "optimizer: gradient ", grads[i].describe(),
               " does not match parameter ", pt.describe());
    a.p = pt.data<float>();
    a.g = grads[i].data<float>();
    const size_t n = static_cast<size_t>(pt.numel());
    a.s1 = a.s2 = nullptr;
    switch (c.kind) {
      case OptimizerKind::Sgd: break;
      case OptimizerKind::Momentum:
      case OptimizerKind::Nesterov: a.s1 = slot(i, "momentum", n).data(); break;
      case OptimizerKind::Adagrad: a.s1 = slot(i, "sum", n).data(); break;
      case OptimizerKind::RmsProp: a.s1 = slot(i, "square_avg", n).data(); break;
      case OptimizerKind::Adam:
      case OptimizerKind::AdamW:
        a.s1 = slot(i, "exp_avg", n).data();
        a.s2 = slot(i, "exp_avg_sq", n).data();
        break;
    }
    constexpr size_t kMinParallel = size_t{1} << 14;  // below this, waking threads costs more
    if (pool && n >= kMinParallel) {
      pool->parallel_for(static_cast<int64_t>(n), [&](int64_t b, int64_t e) {
        update(c, a, static_cast<size_t>(b), static_cast<size_t>(e));
      });
    } else {
      update(c, a, 0, n);
    }
  }
}

std::map<std::string, std::vector<float>> Optimizer::state() const { return slots_; }

void Optimizer::load_state(int64_t steps, const std::map<std::string, std::vector<float>>& slots) {
  t_ = steps;
  slots_ = slots;
}

}  // namespace kiln::train
