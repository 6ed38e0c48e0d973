// The training loop on a small synthetic IDX data set: it learns, it is deterministic, its
// results ignore the thread count, and resuming from a checkpoint (at an epoch boundary or
// mid-epoch) ends with the same weights as an uninterrupted run.
#include <gtest/gtest.h>

#include <unistd.h>

#include <cmath>
#include <filesystem>
#include <map>
#include <span>

#include "models/mnist/idx_reader.h"
#include "models/mnist/model_builders.h"
#include "models/mnist/rng.h"
#include "tests/train/synthetic_mnist.h"
#include "train/trainer.h"

namespace kiln::train {
namespace {

using test::write_synthetic;

namespace fs = std::filesystem;

class TrainerTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = new fs::path(fs::temp_directory_path() / ("kiln_train_test_" + std::to_string(::getpid())));
    fs::create_directories(*dir_);
    write_synthetic(*dir_, "train", 256, 1);
    write_synthetic(*dir_, "t10k", 100, 2);
    data_ = new mnist::MnistSplits(mnist::load_mnist(*dir_));
  }
  static void TearDownTestSuite() {
    fs::remove_all(*dir_);
    delete data_;
    delete dir_;
  }
  static TrainConfig mlp_config() {
    TrainConfig c;
    c.model = "mlp";
    c.batch = 32;
    c.lr = 1e-3;
    c.seed = 7;
    c.progress = false;
    return c;
  }
  static fs::path* dir_;
  static mnist::MnistSplits* data_;
};
fs::path* TrainerTest::dir_ = nullptr;
mnist::MnistSplits* TrainerTest::data_ = nullptr;

std::FILE* null_log() {
  static std::FILE* f = std::fopen("/dev/null", "w");
  return f;
}

TEST_F(TrainerTest, MlpLearnsSyntheticDigits) {
  TrainConfig c = mlp_config();
  c.epochs = 2;
  Trainer t(c, *data_);
  ASSERT_TRUE(t.train(null_log()));
  ASSERT_EQ(t.history().size(), 2u);
  EXPECT_LT(t.history()[1].loss, t.history()[0].loss);
  EXPECT_GT(t.history()[1].test_accuracy, 0.9);
  const EvalResult e = t.evaluate(data_->test);
  int64_t total = 0;
  for (int64_t v : e.confusion) total += v;
  EXPECT_EQ(total, data_->test.count);
}

TEST_F(TrainerTest, ResumeMatchesUninterruptedRun) {
  TrainConfig c = mlp_config();
  c.epochs = 2;
  c.optimizer.kind = OptimizerKind::Momentum;
  c.lr = 0.01;
  c.schedule.kind = LrSchedule::Kind::Cosine;
  c.schedule.total_epochs = 2;
  // 96 samples: 3 steps per epoch.
  mnist::MnistSplits small = *data_;
  small.train.count = 96;
  small.train.pixels.resize(96 * 28 * 28);
  small.train.labels.resize(96);
  Trainer straight(c, small);
  ASSERT_TRUE(straight.train(null_log()));

  c.checkpoint_dir = *dir_ / "ckpt";
  std::atomic<bool> stop{false};
  Trainer first(c, small);
  // Interrupt in the middle of epoch 2.
  EXPECT_FALSE(first.train(null_log(), &stop, [&](int64_t step) { stop = step == 3; }));
  ASSERT_TRUE(fs::exists(c.checkpoint_dir / "epoch-1.ckpt"));
  ASSERT_TRUE(fs::exists(c.checkpoint_dir / "interrupted.ckpt"));

  for (const char* ckpt : {"interrupted.ckpt", "epoch-1.ckpt"}) {
    const Checkpoint saved = load_checkpoint(c.checkpoint_dir / ckpt);
    Trainer resumed(config_from_checkpoint(saved, c), small);
    resumed.resume(saved);
    ASSERT_TRUE(resumed.train(null_log()));
    ASSERT_EQ(resumed.params().size(), straight.params().size());
    for (size_t i = 0; i < straight.params().size(); ++i) {
      EXPECT_TRUE(resumed.params()[i].bytes_equal(straight.params()[i])) << ckpt << ": param " << i;
    }
    EXPECT_DOUBLE_EQ(resumed.history().back().loss, straight.history().back().loss) << ckpt;
  }
}

TEST_F(TrainerTest, ResultsIgnoreThreadCount) {
  for (const char* model : {"mlp", "cnn"}) {
    TrainConfig c = mlp_config();
    c.model = model;
    Trainer t(c, *data_);
    const TrainingGraph tg = make_training_graph(t.model());
    std::vector<int64_t> idx;
    for (int64_t i = 0; i < 70; ++i) idx.push_back(i);
    const Tensor images = data_->train.images(idx), labels = data_->train.label_tensor(idx);
    const std::vector<Tensor> masks = t.dropout_masks(0, 70);
    for (Kernels k : {Kernels::Cpu, Kernels::Reference}) {
      ThreadPool p1(1), p3(3);
      const StepOutput one = TrainStep(tg, StepExec{k, &p1}, 32).run(images, labels, masks, t.params());
      const StepOutput three = TrainStep(tg, StepExec{k, &p3}, 32).run(images, labels, masks, t.params());
      EXPECT_EQ(one.loss_sum, three.loss_sum) << model << " " << kernels_name(k);
      EXPECT_EQ(one.correct, three.correct) << model << " " << kernels_name(k);
      for (size_t i = 0; i < one.grads.size(); ++i) {
        EXPECT_TRUE(one.grads[i].bytes_equal(three.grads[i])) << model << " " << kernels_name(k) << " grad " << i;
      }
      if (k != Kernels::Cpu) continue;
      // Two threads: shards 0 and 1 side by side, shard 2 alone with the kernels on the pool.
      ThreadPool p2(2);
      const StepOutput two = TrainStep(tg, StepExec{k, &p2}, 32).run(images, labels, masks, t.params());
      EXPECT_EQ(one.loss_sum, two.loss_sum) << model;
      for (size_t i = 0; i < one.grads.size(); ++i) {
        EXPECT_TRUE(one.grads[i].bytes_equal(two.grads[i])) << model << " 2 threads, grad " << i;
      }
    }
  }
}

// Conv + Relu pairs run as one KilnFusedConv in the training graph (the fc layer's Relu stays).
TEST_F(TrainerTest, TrainingGraphFusesConvRelu) {
  auto model = mnist::build_model("cnn", 1);
  const TrainingGraph tg = make_training_graph(*model);
  std::map<OpKind, int> count;
  for (const auto& n : tg.graph->nodes()) ++count[n->op];
  EXPECT_EQ(count[OpKind::KilnFusedConv], 2);
  EXPECT_EQ(count[OpKind::Conv], 0);
  EXPECT_EQ(count[OpKind::Relu], 1);
  EXPECT_EQ(count[OpKind::KilnReluGrad], 3);
}

// The optimized kernels compute the same training step as the reference kernels, up to float
// rounding, for every model (dropout masks included).
TEST_F(TrainerTest, CpuKernelsMatchReferenceStep) {
  for (const char* model : {"mlp", "lenet5", "cnn"}) {
    TrainConfig c = mlp_config();
    c.model = model;
    Trainer t(c, *data_);
    const TrainingGraph tg = make_training_graph(t.model());
    std::vector<int64_t> idx;
    for (int64_t i = 0; i < 40; ++i) idx.push_back(i);
    // Random pixels, not the synthetic digits: their flat regions make exact and near ties in
    // MaxPool windows, and a tie that rounding breaks the other way moves a gradient to another
    // pixel (both answers are right, but they are not close).
    Tensor images(DType::F32, {40, 1, 28, 28});
    mnist::Rng rng(5);
    for (float& v : std::span<float>(images.data<float>(), 40 * 784)) v = static_cast<float>(rng.uniform(-0.4, 2.8));
    const Tensor labels = data_->train.label_tensor(idx);
    const std::vector<Tensor> masks = t.dropout_masks(3, 40);
    ThreadPool pool(2);
    const StepOutput ref = TrainStep(tg, StepExec{Kernels::Reference, &pool}, 64).run(images, labels, masks, t.params());
    const StepOutput fast = TrainStep(tg, StepExec{Kernels::Cpu, &pool}, 64).run(images, labels, masks, t.params());
    EXPECT_NEAR(fast.loss_sum, ref.loss_sum, 1e-4 * std::fabs(ref.loss_sum)) << model;
    EXPECT_EQ(fast.correct, ref.correct) << model;
    ASSERT_EQ(fast.grads.size(), ref.grads.size());
    // Largest difference relative to the gradient's largest element (the reference sums in
    // double, the optimized kernels in float).
    for (size_t i = 0; i < ref.grads.size(); ++i) {
      double scale = 0, diff = 0;
      for (int64_t j = 0; j < ref.grads[i].numel(); ++j) {
        const double r = ref.grads[i].data<float>()[j], f = fast.grads[i].data<float>()[j];
        scale = std::max(scale, std::fabs(r));
        diff = std::max(diff, std::fabs(f - r));
      }
      EXPECT_LE(diff, 1e-5 * scale) << model << " " << tg.params[i] << ": max difference " << diff
                                    << ", largest element " << scale;
    }
  }
}

TEST_F(TrainerTest, SameSeedSameModelAndMasks) {
  auto a = mnist::build_model("cnn", 3), b = mnist::build_model("cnn", 3), c = mnist::build_model("cnn", 4);
  EXPECT_TRUE(a->find_value("fc1.weight")->constant->bytes_equal(*b->find_value("fc1.weight")->constant));
  EXPECT_FALSE(a->find_value("fc1.weight")->constant->bytes_equal(*c->find_value("fc1.weight")->constant));
  // PyTorch's bound: 1/sqrt(fan_in) = 1/sqrt(9216).
  for (float w : a->find_value("fc1.weight")->constant->span<float>()) {
    ASSERT_LE(std::fabs(w), 1.0f / 96.0f);
  }
  TrainConfig cfg = mlp_config();
  cfg.model = "cnn";
  Trainer t(cfg, *data_);
  const std::vector<Tensor> m1 = t.dropout_masks(5, 4), m2 = t.dropout_masks(5, 4);
  ASSERT_EQ(m1.size(), 2u);  // dropout 0.25 after pooling, 0.5 after fc1
  EXPECT_EQ(m1[0].dims(), (Dims{4, 64, 12, 12}));
  EXPECT_EQ(m1[1].dims(), (Dims{4, 128}));
  EXPECT_TRUE(m1[0].bytes_equal(m2[0]));
  int64_t zeros = 0;
  for (float v : m1[0].span<float>()) {
    zeros += v == 0.0f;
    if (v != 0.0f) {
      ASSERT_FLOAT_EQ(v, 1.0f / 0.75f);
    }
  }
  EXPECT_NEAR(static_cast<double>(zeros) / static_cast<double>(m1[0].numel()), 0.25, 0.02);
  EXPECT_FALSE(m1[0].bytes_equal(t.dropout_masks(6, 4)[0]));
}

// The whole backward graph of each convolutional model (dropout masks included), checked
// against a central finite difference of the loss along the gradient direction.
TEST_F(TrainerTest, ConvModelsTrainingStepIsConsistent) {
  for (const char* model : {"lenet5", "cnn"}) {
    TrainConfig cfg = mlp_config();
    cfg.model = model;
    Trainer t(cfg, *data_);
    const TrainingGraph tg = make_training_graph(t.model());
    const std::vector<int64_t> idx = {0, 1};
    const Tensor images = data_->train.images(idx), labels = data_->train.label_tensor(idx);
    const std::vector<Tensor> masks = t.dropout_masks(0, 2);
    ThreadPool pool(2);
    const StepOutput base = TrainStep(tg, StepExec{Kernels::Cpu, &pool}, 64).run(images, labels, masks, t.params());
    // Central difference along g: (loss(p + h g) - loss(p - h g)) / (2 h) ~ |g|^2.
    double g2 = 0;
    for (const Tensor& g : base.grads)
      for (float v : g.span<float>()) g2 += static_cast<double>(v) * v;
    const double h = 2e-3 / std::sqrt(g2);
    auto moved = [&](double sign) {
      std::vector<Tensor> ps;
      for (size_t i = 0; i < base.grads.size(); ++i) {
        Tensor p = t.params()[i].clone();
        for (int64_t j = 0; j < p.numel(); ++j) {
          p.data<float>()[j] += static_cast<float>(sign * h * base.grads[i].data<float>()[j]);
        }
        ps.push_back(p);
      }
      return TrainStep(tg, StepExec{Kernels::Cpu, &pool}, 64).run(images, labels, masks, ps).loss_sum;
    };
    const double slope = (moved(+1) - moved(-1)) / (2 * h);
    EXPECT_NEAR(slope / g2, 1.0, 0.02) << model;
  }
}

}  // namespace
}  // namespace kiln::train
