// One training step (forward + backward) on a batch, and batched inference. The batch is cut
// into fixed-size shards whose gradients are added in shard order, so the result depends on
// the shard size and the kernels, never on the thread count:
//   - Kernels::Cpu: the optimized CPU kernels (runtime/kernels/cpu/kernel_table.h); whole
//     rounds of one shard per pool thread run side by side with single-threaded kernels, the
//     shards left over one after another with each kernel splitting its work over the pool;
//   - Kernels::Reference: the reference kernels, shards in parallel over the pool.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "ir/graph.h"
#include "runtime/threadpool/thread_pool.h"
#include "train/training_graph.h"

namespace kiln::train {

enum class Kernels { Reference, Cpu };

Kernels kernels_from_name(const std::string& name);  // "ref" | "cpu"; fails otherwise
const char* kernels_name(Kernels k);

// Where steps run: the kernels, the pool, and (optional) per-op seconds added up across runs.
struct StepExec {
  Kernels kernels = Kernels::Cpu;
  ThreadPool* pool = nullptr;  // null: everything on the calling thread
  std::map<std::string, double>* op_seconds = nullptr;
};

struct StepOutput {
  double loss_sum = 0;        // cross-entropy summed over the batch
  int64_t correct = 0;        // samples whose arg-max log-probability is the label
  std::vector<Tensor> grads;  // gradients of loss_sum, in TrainingGraph::params order
};

class TrainStep {
 public:
  TrainStep(const TrainingGraph& tg, StepExec exec, int64_t shard_size);
  // images [B, ...], labels i64 [B], masks[i] [B, masks[i].sample_dims...], params in
  // TrainingGraph::params order.
  StepOutput run(const Tensor& images, const Tensor& labels, const std::vector<Tensor>& masks,
                 const std::vector<Tensor>& params) const;

 private:
  const TrainingGraph& tg_;
  StepExec exec_;
  int64_t shard_size_;
};

// Rows [begin, end) of `t` along axis 0 (a copy).
Tensor slice_rows(const Tensor& t, int64_t begin, int64_t end);

// Index of the largest value in each row of a [B, C] f32 tensor.
std::vector<int64_t> argmax_rows(const Tensor& t);

// Runs an inference graph (one input, one [B, C] output) on `images` in shards of
// `shard_size` and returns the output rows for all of them.
Tensor run_inference(const Graph& model, const Tensor& images, StepExec exec, int64_t shard_size);

}  // namespace kiln::train
