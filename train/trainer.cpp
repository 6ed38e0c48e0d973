#include "train/trainer.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstring>

#include "models/mnist/model_builders.h"
#include "models/mnist/rng.h"
#include "train/progress.h"

namespace kiln::train {

namespace {

std::string num(double v) {
  char buf[40];
  std::snprintf(buf, sizeof buf, "%.17g", v);
  return buf;
}

double parse_num(const Checkpoint& c, const std::string& key) {
  const std::string& s = c.get(key);
  char* end = nullptr;
  const double v = std::strtod(s.c_str(), &end);
  KILN_CHECK(end && *end == '\0' && !s.empty(), "checkpoint entry '", key, "' is not a number: '", s, "'");
  return v;
}

int64_t parse_int(const Checkpoint& c, const std::string& key) {
  const std::string& s = c.get(key);
  try {
    size_t used = 0;
    const long long v = std::stoll(s, &used);
    if (used == s.size()) return v;
  } catch (const std::exception&) {
  }
  fail("checkpoint entry '", key, "' is not an integer: '", s, "'");
}

}  // namespace

double default_lr(OptimizerKind k, LrSchedule::Kind schedule) {
  const bool adam = k == OptimizerKind::Adam || k == OptimizerKind::AdamW;
  if (adam && schedule == LrSchedule::Kind::OneCycle) return 3e-3;
  switch (k) {
    case OptimizerKind::Sgd:
    case OptimizerKind::Momentum:
    case OptimizerKind::Nesterov:
    case OptimizerKind::Adagrad: return 1e-2;
    case OptimizerKind::RmsProp:
    case OptimizerKind::Adam:
    case OptimizerKind::AdamW: return 1e-3;
  }
  return 1e-3;
}

Trainer::Trainer(TrainConfig cfg, const mnist::MnistSplits& data)
    : cfg_(std::move(cfg)), data_(data), pool_(std::make_unique<ThreadPool>(std::max(cfg_.threads, 1))),
      model_(mnist::build_model(cfg_.model, cfg_.seed)), tg_(make_training_graph(*model_)),
      opt_(cfg_.optimizer) {
  KILN_CHECK(cfg_.batch >= 1, "batch size must be >= 1");
  KILN_CHECK(cfg_.epochs >= 1, "epochs must be >= 1");
  KILN_CHECK(data_.train.count >= 1, "the training set is empty");
  for (const std::string& name : tg_.params) {
    const Value* v = model_->find_value(name);
    KILN_CHECK(v && v->constant, "parameter '", name, "' is not a model constant");
    params_.push_back(*v->constant);  // aliases the model's bytes: updates show in the model
  }
}

StepExec Trainer::exec() const {
  return StepExec{cfg_.kernels, pool_.get(), cfg_.profile ? &op_seconds_ : nullptr};
}

int64_t Trainer::batches_per_epoch() const { return (data_.train.count + cfg_.batch - 1) / cfg_.batch; }

std::vector<int64_t> Trainer::epoch_order(int epoch) const {
  std::vector<int64_t> order(static_cast<size_t>(data_.train.count));
  for (size_t i = 0; i < order.size(); ++i) order[i] = static_cast<int64_t>(i);
  mnist::Rng rng = mnist::Rng::stream(cfg_.seed, mnist::kRngShuffle, static_cast<uint64_t>(epoch));
  for (size_t i = order.size(); i > 1; --i) std::swap(order[i - 1], order[rng.below(i)]);
  return order;
}

std::vector<Tensor> Trainer::dropout_masks(int64_t step, int64_t batch) const {
  std::vector<Tensor> masks;
  for (size_t m = 0; m < tg_.masks.size(); ++m) {
    const DropoutMask& spec = tg_.masks[m];
    Dims dims = {batch};
    dims.insert(dims.end(), spec.sample_dims.begin(), spec.sample_dims.end());
    Tensor t(DType::F32, dims);
    const float keep = spec.ratio < 1 ? 1.0f / (1.0f - spec.ratio) : 0.0f;
    // An element is dropped when a 16-bit draw is below ratio * 2^16 (each 64-bit draw gives
    // four). One stream per sample, so the samples fill in parallel with the same result.
    const uint64_t below = static_cast<uint64_t>(std::llround(std::clamp(spec.ratio, 0.0f, 1.0f) * 65536.0));
    const int64_t per_sample = batch == 0 ? 0 : t.numel() / batch;
    float* p = t.data<float>();
    auto fill = [&](int64_t b0, int64_t b1) {
      for (int64_t b = b0; b < b1; ++b) {
        mnist::Rng rng = mnist::Rng::stream(cfg_.seed, mnist::kRngDropout,
                                            (static_cast<uint64_t>(step) * 64 + m) << 20 | static_cast<uint64_t>(b));
        float* row = p + b * per_sample;
        for (int64_t i = 0; i < per_sample; i += 4) {
          const uint64_t bits = rng.next_u64();
          for (int64_t k = 0; k < std::min<int64_t>(4, per_sample - i); ++k) {
            row[i + k] = ((bits >> (16 * k)) & 0xffff) < below ? 0.0f : keep;
          }
        }
      }
    };
    if (batch >= 2 && pool_->num_threads() > 1) {
      pool_->parallel_for(batch, fill);
    } else {
      fill(0, batch);
    }
    masks.push_back(t);
  }
  return masks;
}

EvalResult Trainer::evaluate(const mnist::Dataset& d) const {
  EvalResult r;
  r.confusion.assign(static_cast<size_t>(mnist::kNumClasses * mnist::kNumClasses), 0);
  if (d.count == 0) return r;
  constexpr int64_t kChunk = 2000;  // bounds the memory of the normalized images
  double nll = 0;
  int64_t correct = 0;
  for (int64_t b0 = 0; b0 < d.count; b0 += kChunk) {
    std::vector<int64_t> idx;
    for (int64_t i = b0; i < std::min(d.count, b0 + kChunk); ++i) idx.push_back(i);
    const Tensor lp = run_inference(*model_, d.images(idx), exec(), cfg_.eval_shard);
    const std::vector<int64_t> pred = argmax_rows(lp);
    for (size_t i = 0; i < idx.size(); ++i) {
      const int64_t label = d.labels[static_cast<size_t>(idx[i])];
      nll -= lp.data<float>()[static_cast<int64_t>(i) * mnist::kNumClasses + label];
      correct += pred[i] == label;
      ++r.confusion[static_cast<size_t>(label * mnist::kNumClasses + pred[i])];
    }
  }
  r.loss = nll / static_cast<double>(d.count);
  r.accuracy = static_cast<double>(correct) / static_cast<double>(d.count);
  return r;
}

void Trainer::replace_model(std::unique_ptr<Graph> model) {
  TrainingGraph tg = make_training_graph(*model);
  std::vector<Tensor> params;
  for (const std::string& name : tg.params) {
    const Value* v = model->find_value(name);
    KILN_CHECK(v && v->constant, "parameter '", name, "' is not a model constant");
    params.push_back(*v->constant);
  }
  model_ = std::move(model);
  tg_ = std::move(tg);
  params_ = std::move(params);
  opt_ = Optimizer(cfg_.optimizer);
}

bool Trainer::train(std::FILE* log, const std::atomic<bool>* stop,
                    const std::function<void(int64_t)>& after_step, int until_epoch) {
  const int64_t per_epoch = batches_per_epoch();
  const bool tty = ProgressBar::is_terminal(log);
  const int end = until_epoch > 0 ? std::min(until_epoch, cfg_.epochs) : cfg_.epochs;
  for (; epoch_ < end; ++epoch_, batch_ = 0) {
    const auto t0 = std::chrono::steady_clock::now();
    const std::vector<int64_t> order = epoch_order(epoch_);
    char title[64];
    std::snprintf(title, sizeof title, "epoch %d/%d", epoch_ + 1, cfg_.epochs);
    ProgressBar bar(log, title, per_epoch, tty);
    for (; batch_ < per_epoch; ++batch_) {
      if (stop && stop->load()) {
        if (cfg_.progress) bar.finish();
        if (!cfg_.checkpoint_dir.empty()) save("interrupted.ckpt");
        return false;
      }
      const int64_t b0 = batch_ * cfg_.batch;
      const int64_t b1 = std::min(data_.train.count, b0 + cfg_.batch);
      const std::vector<int64_t> idx(order.begin() + b0, order.begin() + b1);
      const int64_t n = b1 - b0;
      const Tensor images = data_.train.images(idx);
      const Tensor labels = data_.train.label_tensor(idx);
      const std::vector<Tensor> masks = dropout_masks(epoch_ * per_epoch + batch_, n);
      const TrainStep step(tg_, exec(), cfg_.shard_size);
      StepOutput out = step.run(images, labels, masks, params_);
      // Mean over the batch, as PyTorch's cross-entropy with reduction "mean" (the optimizer
      // scales the summed gradients as it reads them).
      const double lr = cfg_.schedule.lr_at_step(cfg_.lr, epoch_ * per_epoch + batch_, per_epoch);
      opt_.step(params_, out.grads, lr, pool_.get(), 1.0f / static_cast<float>(n));
      epoch_loss_ += out.loss_sum;
      epoch_correct_ += out.correct;
      epoch_seen_ += n;
      if (after_step) after_step(epoch_ * per_epoch + batch_);
      if (cfg_.progress) {
        bar.update(batch_ + 1, epoch_loss_ / static_cast<double>(epoch_seen_),
                   static_cast<double>(epoch_correct_) / static_cast<double>(epoch_seen_), n);
      }
    }
    if (cfg_.progress) bar.finish();
    EpochSummary s;
    s.epoch = epoch_ + 1;
    s.loss = epoch_loss_ / static_cast<double>(std::max<int64_t>(epoch_seen_, 1));
    s.train_accuracy = static_cast<double>(epoch_correct_) / static_cast<double>(std::max<int64_t>(epoch_seen_, 1));
    s.test_accuracy = evaluate(data_.test).accuracy;
    s.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    history_.push_back(s);
    std::fprintf(log, "epoch %d/%d: loss=%.4f train_acc=%.2f%% test_acc=%.2f%% time=%.1f s\n",
                 s.epoch, cfg_.epochs, s.loss, s.train_accuracy * 100.0, s.test_accuracy * 100.0,
                 s.seconds);
    std::fflush(log);
    epoch_loss_ = 0;
    epoch_correct_ = epoch_seen_ = 0;
    if (!cfg_.checkpoint_dir.empty()) {
      epoch_ += 1;  // the checkpoint resumes at the next epoch
      batch_ = 0;
      save("epoch-" + std::to_string(epoch_) + ".ckpt");
      epoch_ -= 1;
    }
  }
  return true;
}

void Trainer::save(const std::string& file_name) {
  std::error_code ec;
  std::filesystem::create_directories(cfg_.checkpoint_dir, ec);
  if (ec) fail("cannot create checkpoint folder '", cfg_.checkpoint_dir.string(), "': ", ec.message());
  last_checkpoint_ = cfg_.checkpoint_dir / file_name;
  save_checkpoint(last_checkpoint_, checkpoint());
}

Checkpoint Trainer::checkpoint() const {
  Checkpoint c;
  c.meta["format"] = "kiln-train";
  c.meta["model"] = cfg_.model;
  c.meta["seed"] = std::to_string(cfg_.seed);
  c.meta["batch"] = std::to_string(cfg_.batch);
  c.meta["epochs"] = std::to_string(cfg_.epochs);
  c.meta["train_count"] = std::to_string(data_.train.count);
  c.meta["optimizer"] = optimizer_name(cfg_.optimizer.kind);
  c.meta["lr"] = num(cfg_.lr);
  c.meta["weight_decay"] = num(cfg_.optimizer.weight_decay);
  c.meta["momentum"] = num(cfg_.optimizer.momentum);
  c.meta["schedule"] = lr_schedule_name(cfg_.schedule.kind);
  c.meta["schedule_step"] = std::to_string(cfg_.schedule.step_size);
  c.meta["schedule_gamma"] = num(cfg_.schedule.gamma);
  c.meta["shard_size"] = std::to_string(cfg_.shard_size);
  c.meta["kernels"] = kernels_name(cfg_.kernels);
  c.meta["epoch"] = std::to_string(epoch_);
  c.meta["batch_in_epoch"] = std::to_string(batch_);
  c.meta["epoch_loss"] = num(epoch_loss_);
  c.meta["epoch_correct"] = std::to_string(epoch_correct_);
  c.meta["epoch_seen"] = std::to_string(epoch_seen_);
  c.meta["optimizer_steps"] = std::to_string(opt_.steps());
  for (size_t i = 0; i < params_.size(); ++i) c.tensors["param/" + tg_.params[i]] = params_[i].clone();
  for (const auto& [slot, values] : opt_.state()) {
    c.tensors["opt/" + slot] = Tensor::from_vector<float>(values, {static_cast<int64_t>(values.size())});
  }
  return c;
}

TrainConfig config_from_checkpoint(const Checkpoint& c, TrainConfig base) {
  KILN_CHECK(c.get("format") == "kiln-train", "not a kiln-train checkpoint");
  base.model = c.get("model");
  base.seed = static_cast<uint64_t>(parse_int(c, "seed"));
  base.batch = parse_int(c, "batch");
  base.optimizer.kind = optimizer_from_name(c.get("optimizer"));
  base.lr = parse_num(c, "lr");
  base.optimizer.weight_decay = parse_num(c, "weight_decay");
  base.optimizer.momentum = parse_num(c, "momentum");
  base.schedule.kind = lr_schedule_from_name(c.get("schedule"));
  base.schedule.step_size = static_cast<int>(parse_int(c, "schedule_step"));
  base.schedule.gamma = parse_num(c, "schedule_gamma");
  base.shard_size = parse_int(c, "shard_size");
  // Checkpoints from before the optimized kernels were trained on the reference ones.
  base.kernels = c.meta.count("kernels") ? kernels_from_name(c.get("kernels")) : Kernels::Reference;
  return base;
}

void Trainer::resume(const Checkpoint& c) {
  const TrainConfig saved = config_from_checkpoint(c, cfg_);
  KILN_CHECK(saved.model == cfg_.model && saved.seed == cfg_.seed && saved.batch == cfg_.batch &&
                 saved.optimizer.kind == cfg_.optimizer.kind && saved.shard_size == cfg_.shard_size &&
                 saved.kernels == cfg_.kernels,
             "checkpoint was made with --model ", saved.model, " --seed ", saved.seed, " --batch ",
             saved.batch, " --optimizer ", optimizer_name(saved.optimizer.kind), " --kernels ",
             kernels_name(saved.kernels),
             "; the trainer was set up differently");
  KILN_CHECK(parse_int(c, "train_count") == data_.train.count, "checkpoint was trained on ",
             c.get("train_count"), " samples, this run has ", data_.train.count,
             " (use the same --limit-train)");
  for (size_t i = 0; i < params_.size(); ++i) {
    const Tensor& t = c.tensor("param/" + tg_.params[i]);
    KILN_CHECK(t.dtype() == DType::F32 && t.dims() == params_[i].dims(), "checkpoint parameter '",
               tg_.params[i], "' is ", t.describe(), ", the model's is ", params_[i].describe());
    std::memcpy(params_[i].raw(), t.raw(), t.nbytes());
  }
  std::map<std::string, std::vector<float>> slots;
  for (const auto& [name, t] : c.tensors) {
    if (name.rfind("opt/", 0) != 0) continue;
    KILN_CHECK(t.dtype() == DType::F32, "checkpoint tensor '", name, "' is not f32");
    slots[name.substr(4)] = std::vector<float>(t.data<float>(), t.data<float>() + t.numel());
  }
  opt_.load_state(parse_int(c, "optimizer_steps"), slots);
  epoch_ = static_cast<int>(parse_int(c, "epoch"));
  batch_ = parse_int(c, "batch_in_epoch");
  KILN_CHECK(batch_ >= 0 && batch_ <= batches_per_epoch(), "checkpoint batch position ", batch_,
             " is out of range");
  epoch_loss_ = parse_num(c, "epoch_loss");
  epoch_correct_ = parse_int(c, "epoch_correct");
  epoch_seen_ = parse_int(c, "epoch_seen");
}

void print_confusion(std::FILE* out, const std::vector<int64_t>& confusion) {
  const int64_t k = mnist::kNumClasses;
  std::fprintf(out, "confusion matrix (rows: true digit, columns: predicted)\n      ");
  for (int64_t j = 0; j < k; ++j) std::fprintf(out, "%6lld", static_cast<long long>(j));
  std::fputc('\n', out);
  for (int64_t i = 0; i < k; ++i) {
    std::fprintf(out, "%6lld", static_cast<long long>(i));
    for (int64_t j = 0; j < k; ++j) {
      std::fprintf(out, "%6lld", static_cast<long long>(confusion[static_cast<size_t>(i * k + j)]));
    }
    std::fputc('\n', out);
  }
}

void print_op_seconds(std::FILE* out, const std::map<std::string, double>& op_seconds) {
  std::vector<std::pair<double, std::string>> rows;
  double total = 0;
  for (const auto& [op, secs] : op_seconds) {
    rows.emplace_back(secs, op);
    total += secs;
  }
  std::sort(rows.rbegin(), rows.rend());
  std::fprintf(out, "time per op (training steps and evaluations): %.2f s in all\n", total);
  for (const auto& [secs, op] : rows) {
    std::fprintf(out, "  %-30s %9.2f s %5.1f%%\n", op.c_str(), secs,
                 total > 0 ? 100.0 * secs / total : 0.0);
  }
}

}  // namespace kiln::train
