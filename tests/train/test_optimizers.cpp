// Each optimizer's update against steps computed by hand (PyTorch's formulas), and the
// learning-rate schedules.
#include <gtest/gtest.h>

#include <cmath>

#include "train/lr_schedule.h"
#include "train/optimizers.h"

namespace kiln::train {
namespace {

// Two steps on p = [1, -2] with gradients g1 = [0.5, -1], g2 = [0.25, 2]; returns p after each.
std::vector<std::vector<float>> two_steps(OptimizerConfig c, double lr) {
  Optimizer opt(c);
  std::vector<Tensor> p = {Tensor::from_vector<float>({1.0f, -2.0f}, {2})};
  std::vector<std::vector<float>> out;
  for (const auto& g : {std::vector<float>{0.5f, -1.0f}, std::vector<float>{0.25f, 2.0f}}) {
    opt.step(p, {Tensor::from_vector<float>(g, {2})}, lr);
    out.push_back(p[0].to_float_vector());
  }
  return out;
}

void expect(const std::vector<float>& got, std::vector<double> want) {
  ASSERT_EQ(got.size(), want.size());
  for (size_t i = 0; i < got.size(); ++i) EXPECT_NEAR(got[i], want[i], 1e-6) << "element " << i;
}

OptimizerConfig of(OptimizerKind k) {
  OptimizerConfig c;
  c.kind = k;
  return c;
}

TEST(Optimizers, Sgd) {
  auto r = two_steps(of(OptimizerKind::Sgd), 0.1);
  expect(r[0], {1 - 0.05, -2 + 0.1});
  expect(r[1], {0.95 - 0.025, -1.9 - 0.2});
}

TEST(Optimizers, SgdWeightDecay) {
  OptimizerConfig c = of(OptimizerKind::Sgd);
  c.weight_decay = 0.1;
  auto r = two_steps(c, 0.1);
  expect(r[0], {1 - 0.1 * (0.5 + 0.1 * 1), -2 - 0.1 * (-1 + 0.1 * -2)});
}

TEST(Optimizers, MomentumAndNesterov) {
  // buf1 = g1, buf2 = 0.9 g1 + g2.
  const double b2a = 0.9 * 0.5 + 0.25, b2b = 0.9 * -1 + 2;
  auto m = two_steps(of(OptimizerKind::Momentum), 0.1);
  expect(m[0], {1 - 0.05, -2 + 0.1});
  expect(m[1], {0.95 - 0.1 * b2a, -1.9 - 0.1 * b2b});
  // Nesterov steps along g + 0.9 buf.
  auto n = two_steps(of(OptimizerKind::Nesterov), 0.1);
  expect(n[0], {1 - 0.1 * (0.5 + 0.9 * 0.5), -2 - 0.1 * (-1 + 0.9 * -1)});
  const double p1a = 1 - 0.1 * 0.95, p1b = -2 + 0.1 * 1.9;
  expect(n[1], {p1a - 0.1 * (0.25 + 0.9 * b2a), p1b - 0.1 * (2 + 0.9 * b2b)});
}

TEST(Optimizers, Adagrad) {
  auto r = two_steps(of(OptimizerKind::Adagrad), 0.1);
  expect(r[0], {1 - 0.1 * 0.5 / (0.5 + 1e-10), -2 + 0.1 * 1 / (1 + 1e-10)});
  expect(r[1], {0.9 - 0.1 * 0.25 / std::sqrt(0.25 + 0.0625), -1.9 - 0.1 * 2 / std::sqrt(1 + 4.0)});
}

TEST(Optimizers, RmsProp) {
  auto r = two_steps(of(OptimizerKind::RmsProp), 0.01);
  const double s1a = 0.01 * 0.25, s1b = 0.01 * 1;
  expect(r[0], {1 - 0.01 * 0.5 / (std::sqrt(s1a) + 1e-8), -2 + 0.01 * 1 / (std::sqrt(s1b) + 1e-8)});
  const double s2a = 0.99 * s1a + 0.01 * 0.0625, s2b = 0.99 * s1b + 0.01 * 4;
  expect(r[1], {r[0][0] - 0.01 * 0.25 / (std::sqrt(s2a) + 1e-8),
                r[0][1] - 0.01 * 2 / (std::sqrt(s2b) + 1e-8)});
}

TEST(Optimizers, AdamAndAdamW) {
  // Adam's first bias-corrected step is lr * g / (|g| + eps) = lr * sign(g).
  auto a = two_steps(of(OptimizerKind::Adam), 0.01);
  expect(a[0], {1 - 0.01, -2 + 0.01});
  const double m2 = 0.9 * 0.05 + 0.1 * 0.25, v2 = 0.999 * 0.001 * 0.25 + 0.001 * 0.0625;
  const double step2 = 0.01 * (m2 / (1 - 0.81)) / (std::sqrt(v2 / (1 - 0.999 * 0.999)) + 1e-8);
  expect({a[1][0]}, {0.99 - step2});
  // AdamW decays the weight directly: p *= 1 - lr * wd before the Adam step.
  OptimizerConfig c = of(OptimizerKind::AdamW);
  c.weight_decay = 0.5;
  auto w = two_steps(c, 0.01);
  expect(w[0], {1 * (1 - 0.005) - 0.01, -2 * (1 - 0.005) + 0.01});
}

TEST(Optimizers, StateRoundTrips) {
  Optimizer a(of(OptimizerKind::Adam));
  std::vector<Tensor> p = {Tensor::from_vector<float>({1.0f, 2.0f}, {2})};
  a.step(p, {Tensor::from_vector<float>({0.1f, 0.2f}, {2})}, 0.01);
  Optimizer b(of(OptimizerKind::Adam));
  b.load_state(a.steps(), a.state());
  std::vector<Tensor> q = {p[0].clone()};
  a.step(p, {Tensor::from_vector<float>({0.3f, -0.2f}, {2})}, 0.01);
  b.step(q, {Tensor::from_vector<float>({0.3f, -0.2f}, {2})}, 0.01);
  EXPECT_TRUE(p[0].bytes_equal(q[0]));
}

TEST(Optimizers, UnknownNameFails) {
  EXPECT_THROW(optimizer_from_name("lbfgs"), Error);
  EXPECT_EQ(optimizer_from_name("nesterov"), OptimizerKind::Nesterov);
}

TEST(LrSchedule, OneCyclePerStep) {
  LrSchedule s;
  s.kind = LrSchedule::Kind::OneCycle;
  s.total_epochs = 2;
  s.warmup = 0.25;  // 2 epochs of 10 steps: 5 warm-up steps, then 14 down to 0 at step 19
  EXPECT_DOUBLE_EQ(s.lr_at_step(0.1, 0, 10), 0.01);
  EXPECT_NEAR(s.lr_at_step(0.1, 2, 10), 0.01 + 0.09 * 2 / 5, 1e-12);
  EXPECT_DOUBLE_EQ(s.lr_at_step(0.1, 5, 10), 0.1);
  EXPECT_NEAR(s.lr_at_step(0.1, 12, 10), 0.05, 1e-12);
  EXPECT_NEAR(s.lr_at_step(0.1, 19, 10), 0.0, 1e-12);
  EXPECT_EQ(lr_schedule_from_name("onecycle"), LrSchedule::Kind::OneCycle);
  EXPECT_STREQ(lr_schedule_name(LrSchedule::Kind::OneCycle), "onecycle");
  // The per-epoch kinds give their epoch's rate at every step of it.
  s.kind = LrSchedule::Kind::Step;
  s.gamma = 0.5;
  EXPECT_DOUBLE_EQ(s.lr_at_step(0.1, 9, 10), 0.1);
  EXPECT_DOUBLE_EQ(s.lr_at_step(0.1, 10, 10), 0.05);
}

TEST(LrSchedule, StepAndCosine) {
  LrSchedule s;
  EXPECT_DOUBLE_EQ(s.lr_at(0.1, 5), 0.1);
  s.kind = LrSchedule::Kind::Step;
  s.step_size = 2;
  s.gamma = 0.5;
  EXPECT_DOUBLE_EQ(s.lr_at(0.1, 1), 0.1);
  EXPECT_DOUBLE_EQ(s.lr_at(0.1, 2), 0.05);
  EXPECT_DOUBLE_EQ(s.lr_at(0.1, 5), 0.025);
  s.kind = LrSchedule::Kind::Cosine;
  s.total_epochs = 4;
  EXPECT_DOUBLE_EQ(s.lr_at(0.1, 0), 0.1);
  EXPECT_NEAR(s.lr_at(0.1, 2), 0.05, 1e-12);
  EXPECT_NEAR(s.lr_at(0.1, 1), 0.05 * (1 + std::cos(M_PI / 4)), 1e-12);
}

}  // namespace
}  // namespace kiln::train
