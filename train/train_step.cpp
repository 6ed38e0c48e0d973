#include "train/train_step.h"

#include <cstring>

#include "codegen/ref/interpreter.h"

namespace kiln::train {

namespace {

// Runs shard(s, interpreter) for s in [0, shards); each shard writes only its own results.
//   - CPU kernels: whole rounds of one shard per thread run side by side, each shard on its
//     own thread with single-threaded kernels (no hand-over inside a step: the kernels of one
//     small shard are too short to split well); the shards left over run one after another
//     with the kernels splitting their work over the pool. A kernel's result never depends on
//     its thread count, so which way a shard ran does not show in its results.
//   - Reference kernels: shards in parallel over the pool.
template <typename Fn>
void for_shards(const Graph& g, const StepExec& exec, int64_t shards, Fn&& shard) {
  if (exec.kernels == Kernels::Cpu) {
    const int threads = exec.pool ? exec.pool->num_threads() : 1;
    const int64_t side_by_side = threads > 1 ? shards / threads * threads : 0;
    if (side_by_side > 0) {
      // Per-thread profiles, merged after: one map must not be written by two threads.
      std::vector<std::map<std::string, double>> secs(static_cast<size_t>(threads));
      exec.pool->parallel_for(threads, [&](int64_t b, int64_t e) {
        for (int64_t t = b; t < e; ++t) {
          InterpreterOptions o;
          o.cpu_kernels = true;
          o.op_seconds = exec.op_seconds ? &secs[static_cast<size_t>(t)] : nullptr;
          const Interpreter interp(g, o);
          for (int64_t s = t; s < side_by_side; s += threads) shard(s, interp);
        }
      });
      if (exec.op_seconds) {
        for (const auto& m : secs)
          for (const auto& [op, sec] : m) (*exec.op_seconds)[op] += sec;
      }
    }
    if (side_by_side == shards) return;
    InterpreterOptions o;
    o.cpu_kernels = true;
    o.pool = exec.pool;
    o.op_seconds = exec.op_seconds;
    const Interpreter interp(g, o);
    for (int64_t s = side_by_side; s < shards; ++s) shard(s, interp);
    return;
  }
  const Interpreter interp(g);
  auto range = [&](int64_t b, int64_t e) {
    for (int64_t s = b; s < e; ++s) shard(s, interp);
  };
  if (exec.pool) {
    exec.pool->parallel_for(shards, range);
  } else {
    range(0, shards);
  }
}

}  // namespace

Kernels kernels_from_name(const std::string& name) {
  if (name == "cpu") return Kernels::Cpu;
  if (name == "ref") return Kernels::Reference;
  fail("unknown kernels '", name, "' (expected cpu or ref)");
}

const char* kernels_name(Kernels k) { return k == Kernels::Cpu ? "cpu" : "ref"; }

Tensor slice_rows(const Tensor& t, int64_t begin, int64_t end) {
  KILN_CHECK(t.rank() >= 1 && begin >= 0 && begin <= end && end <= t.dim(0), "slice_rows: rows [",
             begin, ", ", end, ") of ", t.describe());
  Dims d = t.dims();
  d[0] = end - begin;
  Tensor out(t.dtype(), d);
  const size_t row = t.dim(0) == 0 ? 0 : t.nbytes() / static_cast<size_t>(t.dim(0));
  std::memcpy(out.raw(), static_cast<const char*>(t.raw()) + row * static_cast<size_t>(begin),
              out.nbytes());
  return out;
}

std::vector<int64_t> argmax_rows(const Tensor& t) {
  KILN_CHECK(t.rank() == 2 && t.dtype() == DType::F32, "argmax_rows: expected f32 [B, C], got ",
             t.describe());
  std::vector<int64_t> out;
  const float* p = t.data<float>();
  const int64_t c = t.dim(1);
  for (int64_t b = 0; b < t.dim(0); ++b) {
    int64_t best = 0;
    for (int64_t j = 1; j < c; ++j)
      if (p[b * c + j] > p[b * c + best]) best = j;
    out.push_back(best);
  }
  return out;
}

TrainStep::TrainStep(const TrainingGraph& tg, StepExec exec, int64_t shard_size)
    : tg_(tg), exec_(exec), shard_size_(std::max<int64_t>(shard_size, 1)) {}

StepOutput TrainStep::run(const Tensor& images, const Tensor& labels,
                          const std::vector<Tensor>& masks,
                          const std::vector<Tensor>& params) const {
  KILN_CHECK(params.size() == tg_.params.size(), "train step: ", params.size(),
             " parameters given, the model has ", tg_.params.size());
  KILN_CHECK(masks.size() == tg_.masks.size(), "train step: ", masks.size(),
             " dropout masks given, the model has ", tg_.masks.size());
  const int64_t batch = images.dim(0);
  const int64_t shards = (batch + shard_size_ - 1) / shard_size_;
  std::vector<std::map<std::string, Tensor>> results(static_cast<size_t>(shards));
  for_shards(*tg_.graph, exec_, shards, [&](int64_t s, const Interpreter& interp) {
    const int64_t b0 = s * shard_size_, b1 = std::min(batch, b0 + shard_size_);
    const bool whole = b0 == 0 && b1 == batch;  // one shard: bind the batch as it is
    std::map<std::string, Tensor> in;
    in[tg_.input_name] = whole ? images : slice_rows(images, b0, b1);
    in[kLabelsName] = whole ? labels : slice_rows(labels, b0, b1);
    for (size_t i = 0; i < masks.size(); ++i) {
      in[tg_.masks[i].input_name] = whole ? masks[i] : slice_rows(masks[i], b0, b1);
    }
    for (size_t i = 0; i < params.size(); ++i) in[tg_.params[i]] = params[i];
    results[static_cast<size_t>(s)] = interp.run(in);
  });

  StepOutput out;
  int64_t row = 0;
  for (size_t s = 0; s < results.size(); ++s) {  // fixed shard order
    const auto& r = results[s];
    out.loss_sum += r.at(kLossName).as_double(0);
    const std::vector<int64_t> pred = argmax_rows(r.at(tg_.output_name));
    for (int64_t p : pred) out.correct += p == labels.data<int64_t>()[row++];
    for (size_t i = 0; i < params.size(); ++i) {
      const Tensor& g = r.at(tg_.grads[i]);
      KILN_CHECK(g.dtype() == DType::F32 && g.dims() == params[i].dims(), "gradient of '",
                 tg_.params[i], "' is ", g.describe(), ", the parameter is ", params[i].describe());
    }
  }
  // Shard gradients added element by element in shard order (the elements split over the pool:
  // each element's sum is the same whichever thread does it).
  for (size_t i = 0; i < params.size(); ++i) {
    out.grads.push_back(results[0].at(tg_.grads[i]));  // the step's own tensor: nothing else holds it
    if (results.size() == 1) continue;
    float* acc = out.grads[i].data<float>();
    std::vector<const float*> parts;
    for (size_t s = 1; s < results.size(); ++s) parts.push_back(results[s].at(tg_.grads[i]).data<float>());
    auto add = [&](int64_t b, int64_t e) {
      for (const float* gp : parts)
        for (int64_t j = b; j < e; ++j) acc[j] += gp[j];
    };
    const int64_t n = out.grads[i].numel();
    if (exec_.pool && n >= (int64_t{1} << 15)) {
      exec_.pool->parallel_for(n, add);
    } else {
      add(0, n);
    }
  }
  return out;
}

Tensor run_inference(const Graph& model, const Tensor& images, StepExec exec, int64_t shard_size) {
  KILN_CHECK(model.inputs.size() == 1 && model.outputs.size() == 1,
             "inference: the model must have one input and one output");
  const int64_t batch = images.dim(0);
  shard_size = std::max<int64_t>(shard_size, 1);
  const int64_t shards = (batch + shard_size - 1) / shard_size;
  std::vector<Tensor> parts(static_cast<size_t>(shards));
  for_shards(model, exec, shards, [&](int64_t s, const Interpreter& interp) {
    const int64_t b0 = s * shard_size, b1 = std::min(batch, b0 + shard_size);
    auto r = interp.run({{model.inputs[0]->name(), slice_rows(images, b0, b1)}});
    parts[static_cast<size_t>(s)] = r.at(model.outputs[0]->name());
  });
  KILN_CHECK(!parts.empty(), "inference: empty batch");
  Dims d = parts[0].dims();
  d[0] = batch;
  Tensor out(parts[0].dtype(), d);
  size_t off = 0;
  for (const Tensor& p : parts) {
    std::memcpy(static_cast<char*>(out.raw()) + off, p.raw(), p.nbytes());
    off += p.nbytes();
  }
  return out;
}

}  // namespace kiln::train
