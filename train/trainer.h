// The MNIST training loop: seeded shuffling and dropout, forward+backward steps on the optimized
// CPU kernels (or the reference ones), optimizer updates with a per-epoch learning-rate
// schedule, evaluation on the test set after each epoch, checkpoints every epoch (and on
// interruption), exact resume.
//
// Every random choice is a pure function of (seed, epoch, step), so a run resumed from a
// checkpoint, at an epoch boundary or mid-epoch, ends with bit-identical weights.
#pragma once

#include <atomic>
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "models/mnist/dataset.h"
#include "train/checkpoint.h"
#include "train/lr_schedule.h"
#include "train/optimizers.h"
#include "train/train_step.h"
#include "train/training_graph.h"

namespace kiln::train {

struct TrainConfig {
  std::string model = "cnn";
  int epochs = 1;
  int64_t batch = 64;
  OptimizerConfig optimizer;
  double lr = 1e-3;
  LrSchedule schedule;
  uint64_t seed = 1;
  int threads = 2;
  Kernels kernels = Kernels::Cpu;  // optimized CPU kernels, or the reference ones
  // Samples per shard (fixed, so results ignore --threads): the default batch of 64 makes two
  // shards, which run side by side on two threads (train_step.h).
  int64_t shard_size = 32;
  int64_t eval_shard = 250;  // samples per shard when evaluating
  bool profile = false;      // add up the seconds spent in each op (Trainer::op_seconds)
  std::filesystem::path checkpoint_dir;  // empty = no checkpoints
  bool progress = true;
};

// Default learning rate per optimizer (Adam-family 1e-3, Adagrad / RMSprop 1e-2 / 1e-3,
// SGD-family 1e-2); with the one-cycle schedule, the Adam family's peak is 3e-3.
double default_lr(OptimizerKind k, LrSchedule::Kind schedule = LrSchedule::Kind::Constant);

struct EvalResult {
  double loss = 0;      // mean negative log-likelihood
  double accuracy = 0;  // in [0, 1]
  std::vector<int64_t> confusion;  // kNumClasses x kNumClasses, row = true label, col = predicted
};

struct EpochSummary {
  int epoch = 0;  // 1-based
  double loss = 0, train_accuracy = 0, test_accuracy = 0, seconds = 0;
};

class Trainer {
 public:
  Trainer(TrainConfig cfg, const mnist::MnistSplits& data);

  // Restores weights, optimizer state and the position in the run. Training-defining settings
  // (model, batch, optimizer, seed, ...) come from the checkpoint; a mismatch with the
  // training set size fails.
  void resume(const Checkpoint& c);
  Checkpoint checkpoint() const;

  // Trains until cfg.epochs are done (true) or `stop` is set (false: a checkpoint
  // "interrupted.ckpt" was written if there is a checkpoint dir). Logs to `log`.
  // `after_step` (optional) is called with the global step number after each update.
  // With `until_epoch` > 0 it returns (true) once that many epochs are done, so a caller can
  // change the model between epochs (kiln-train --prune).
  bool train(std::FILE* log, const std::atomic<bool>* stop = nullptr,
             const std::function<void(int64_t)>& after_step = {}, int until_epoch = 0);

  // Continues training `model` (the same inputs, outputs and parameter names, e.g. after
  // channel pruning shrank them) from the current position; the optimizer state restarts.
  void replace_model(std::unique_ptr<Graph> model);

  EvalResult evaluate(const mnist::Dataset& d) const;
  const std::vector<EpochSummary>& history() const { return history_; }
  // Seconds per op over all training steps and evaluations so far (with cfg.profile).
  const std::map<std::string, double>& op_seconds() const { return op_seconds_; }
  const Graph& model() const { return *model_; }
  const TrainConfig& config() const { return cfg_; }
  // The live parameters (aliasing the model's constants), in training-graph order.
  const std::vector<Tensor>& params() const { return params_; }
  std::filesystem::path last_checkpoint() const { return last_checkpoint_; }

  // The dropout masks of global step `step` for a batch of `batch` samples.
  std::vector<Tensor> dropout_masks(int64_t step, int64_t batch) const;
  // The sample order of `epoch`.
  std::vector<int64_t> epoch_order(int epoch) const;

 private:
  void save(const std::string& file_name);
  int64_t batches_per_epoch() const;
  StepExec exec() const;

  TrainConfig cfg_;
  const mnist::MnistSplits& data_;
  std::unique_ptr<ThreadPool> pool_;  // cfg_.threads threads: kernels, shards, optimizer
  mutable std::map<std::string, double> op_seconds_;
  std::unique_ptr<Graph> model_;
  TrainingGraph tg_;
  std::vector<Tensor> params_;
  Optimizer opt_;
  // Position: the next batch to run is (epoch_, batch_) (0-based); epoch partial statistics.
  int epoch_ = 0;
  int64_t batch_ = 0;
  double epoch_loss_ = 0;
  int64_t epoch_correct_ = 0, epoch_seen_ = 0;
  std::vector<EpochSummary> history_;
  std::filesystem::path last_checkpoint_;
};

// `base` with the training-defining settings (model, seed, batch, optimizer, learning rate,
// weight decay, momentum, schedule, kernels, shard size) replaced by a checkpoint's.
TrainConfig config_from_checkpoint(const Checkpoint& c, TrainConfig base);

// Prints the confusion matrix as a table.
void print_confusion(std::FILE* out, const std::vector<int64_t>& confusion);

// Prints seconds per op, largest first, with each op's share of the total.
void print_op_seconds(std::FILE* out, const std::map<std::string, double>& op_seconds);

}  // namespace kiln::train
