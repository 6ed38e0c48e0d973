// One training step (forward + backward) on a batch, and batched inference, both through the
// reference interpreter. The batch is cut into fixed-size shards that run in parallel; shard
// gradients are added in shard order, so the result does not depend on the thread count.
#pragma once

#include <cstdint>
#include <vector>

#include "ir/graph.h"
#include "train/training_graph.h"

namespace kiln::train {

struct StepOutput {
  double loss_sum = 0;        // cross-entropy summed over the batch
  int64_t correct = 0;        // samples whose arg-max log-probability is the label
  std::vector<Tensor> grads;  // gradients of loss_sum, in TrainingGraph::params order
};

class TrainStep {
 public:
  TrainStep(const TrainingGraph& tg, int threads, int64_t shard_size);
  // images [B, ...], labels i64 [B], masks[i] [B, masks[i].sample_dims...], params in
  // TrainingGraph::params order.
  StepOutput run(const Tensor& images, const Tensor& labels, const std::vector<Tensor>& masks,
                 const std::vector<Tensor>& params) const;

 private:
  const TrainingGraph& tg_;
  int threads_;
  int64_t shard_size_;
};

// Rows [begin, end) of `t` along axis 0 (a copy).
Tensor slice_rows(const Tensor& t, int64_t begin, int64_t end);

// Index of the largest value in each row of a [B, C] f32 tensor.
std::vector<int64_t> argmax_rows(const Tensor& t);

// Runs an inference graph (one input, one [B, C] output) on `images` in shards of
// `shard_size` on `threads` threads and returns the output rows for all of them.
Tensor run_inference(const Graph& model, const Tensor& images, int threads, int64_t shard_size);

}  // namespace kiln::train
