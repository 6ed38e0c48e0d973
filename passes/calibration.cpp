#include "passes/calibration.h"

#include <algorithm>
#include <cmath>
#include <limits>

#include "codegen/ref/interpreter.h"
#include "runtime/threadpool/thread_pool.h"

namespace kiln {

CalibrationMethod parse_calibration_method(const std::string& name) {
  if (name == "minmax") return CalibrationMethod::MinMax;
  if (name == "percentile") return CalibrationMethod::Percentile;
  if (name == "entropy") return CalibrationMethod::Entropy;
  fail("--calib-method: '", name, "' is not one of minmax, percentile, entropy");
}

RangeObserver::RangeObserver(CalibrationMethod method, double percentile)
    : method_(method), percentile_(percentile) {}

void RangeObserver::observe(const float* x, int64_t n) {
  if (!second_ || method_ == CalibrationMethod::MinMax) {
    for (int64_t i = 0; i < n; ++i) {
      if (!std::isfinite(x[i])) continue;
      if (!seen_) min_ = max_ = x[i];
      seen_ = true;
      min_ = std::min(min_, x[i]);
      max_ = std::max(max_, x[i]);
    }
    return;
  }
  if (span_ <= 0) return;
  const bool absolute = method_ == CalibrationMethod::Entropy;
  const float lo = absolute ? 0.0f : min_;
  const double scale = kBins / static_cast<double>(span_);
  for (int64_t i = 0; i < n; ++i) {
    if (!std::isfinite(x[i])) continue;
    const float v = absolute ? std::fabs(x[i]) : x[i];
    const int bin = std::min(kBins - 1, static_cast<int>((v - lo) * scale));
    const auto b = static_cast<size_t>(std::max(bin, 0));
    // Entropy: point masses go to their own histogram (see entropy_threshold): exact zeros (ReLU)
    // and runs of one repeated value (a constant input region: image background, padding).
    const bool point = absolute && (x[i] == 0.0f || (i > 0 && x[i] == x[i - 1]));
    (point ? points_ : hist_)[b] += 1;
  }
}

void RangeObserver::begin_second_round() {
  second_ = true;
  span_ = method_ == CalibrationMethod::Entropy ? std::max(std::fabs(min_), std::fabs(max_))
                                                : max_ - min_;
  hist_.assign(kBins, 0.0);
  points_.assign(kBins, 0.0);
}

Range RangeObserver::range() const {
  if (!seen_) return {0, 0};
  if (method_ == CalibrationMethod::MinMax || span_ <= 0) return {min_, max_};
  if (method_ == CalibrationMethod::Entropy) {
    const float t = entropy_threshold(hist_, points_, span_, min_ >= 0 ? 255 : 128);
    return {std::max(min_, -t), std::min(max_, t)};
  }
  // Percentile: lower edge of the bin where the low tail ends, upper edge where the high one
  // starts.
  double total = 0;
  for (double h : hist_) total += h;
  const float bin = span_ / kBins;
  const double tail = total * (100.0 - percentile_) / 100.0;
  double acc = 0;
  int lo_bin = 0;
  while (lo_bin < kBins - 1 && acc + hist_[static_cast<size_t>(lo_bin)] <= tail)
    acc += hist_[static_cast<size_t>(lo_bin++)];
  acc = 0;
  int hi_bin = kBins - 1;
  while (hi_bin > lo_bin && acc + hist_[static_cast<size_t>(hi_bin)] <= tail)
    acc += hist_[static_cast<size_t>(hi_bin--)];
  return {min_ + lo_bin * bin, min_ + (hi_bin + 1) * bin};
}

float entropy_threshold(const std::vector<double>& hist, const std::vector<double>& points,
                        float span, int levels) {
  const int bins = static_cast<int>(hist.size());
  if (points.size() != hist.size())
    fail("entropy_threshold: ", points.size(), " point-mass bins for ", bins, " histogram bins");
  int best = bins;
  double best_kl = std::numeric_limits<double>::infinity();
  std::vector<double> p, q;
  double hist_tail = 0, points_tail = 0;  // mass in bins i and up, updated as i grows
  for (int b = levels; b < bins; ++b) {
    hist_tail += hist[static_cast<size_t>(b)];
    points_tail += points[static_cast<size_t>(b)];
  }
  for (int i = levels; i <= bins; ++i) {
    if (i > levels) {
      hist_tail -= hist[static_cast<size_t>(i - 1)];
      points_tail -= points[static_cast<size_t>(i - 1)];
    }
    // P: the first i bins, everything beyond folded into the last one (clipping).
    p.assign(hist.begin(), hist.begin() + i);
    p[static_cast<size_t>(i - 1)] += hist_tail;
    // Q: the first i bins merged into `levels` groups, each group's mass spread evenly over
    // the bins where P is non-empty (empty bins hold no values to represent; the last bin, which
    // holds the clipped values, does).
    q.assign(static_cast<size_t>(i), 0.0);
    for (int l = 0; l < levels; ++l) {
      const int b0 = static_cast<int>(static_cast<int64_t>(l) * i / levels);
      const int b1 = static_cast<int>(static_cast<int64_t>(l + 1) * i / levels);
      double mass = 0;
      int nonzero = 0;
      for (int b = b0; b < b1; ++b) {
        mass += hist[static_cast<size_t>(b)];
        nonzero += p[static_cast<size_t>(b)] > 0;
      }
      for (int b = b0; b < b1; ++b)
        if (p[static_cast<size_t>(b)] > 0) q[static_cast<size_t>(b)] = mass / nonzero;
    }
    // Point masses stay point masses under quantization (moved by under half a level, never
    // spread), so they enter P and Q alike; only their clipped part (in P's last bin) counts.
    // Spreading them like the rest made a spike look like lost information at every wide
    // threshold (MNIST conv1's background values: KL clipped 8% of that tensor).
    for (int b = 0; b < i; ++b) {
      p[static_cast<size_t>(b)] += points[static_cast<size_t>(b)];
      q[static_cast<size_t>(b)] += points[static_cast<size_t>(b)];
    }
    p[static_cast<size_t>(i - 1)] += points_tail;
    double ps = 0, qs = 0;
    for (int b = 0; b < i; ++b) {
      ps += p[static_cast<size_t>(b)];
      qs += q[static_cast<size_t>(b)];
    }
    if (ps <= 0 || qs <= 0) continue;
    double kl = 0;
    for (int b = 0; b < i; ++b) {
      const double pb = p[static_cast<size_t>(b)] / ps;
      if (pb <= 0) continue;
      const double qb = q[static_cast<size_t>(b)] / qs;
      // A clipped tail mass in the last bin that Q leaves empty: smooth instead of infinity.
      kl += pb * std::log(pb / std::max(qb, 1e-12));
    }
    if (kl < best_kl) {
      best_kl = kl;
      best = i;
    }
  }
  return span * static_cast<float>(best) / static_cast<float>(bins);
}

std::map<const Value*, Range> calibrate(const Graph& g,
                                        const std::vector<std::map<std::string, Tensor>>& batches,
                                        const std::vector<const Value*>& values,
                                        CalibrationMethod method) {
  // Observe values by making them extra graph outputs for the duration of the runs.
  Graph& mg = const_cast<Graph&>(g);
  const std::vector<Value*> saved = mg.outputs;
  // Entropy suits activations with long tails; model inputs are data whose full range matters
  // (MNIST pixels: a background spike and sparse strokes, which KL would clip), so they keep
  // min-max under it.
  std::vector<RangeObserver> obs;
  for (const Value* v : values) {
    const bool input = std::find(g.inputs.begin(), g.inputs.end(), v) != g.inputs.end();
    obs.emplace_back(method == CalibrationMethod::Entropy && input ? CalibrationMethod::MinMax
                                                                   : method);
  }
  for (const Value* v : values) {
    if (std::find(mg.outputs.begin(), mg.outputs.end(), v) == mg.outputs.end() &&
        std::find(mg.inputs.begin(), mg.inputs.end(), v) == mg.inputs.end())
      mg.outputs.push_back(const_cast<Value*>(v));
  }
  try {
    ThreadPool pool;
    InterpreterOptions opts;
    opts.cpu_kernels = true;
    opts.pool = &pool;
    const Interpreter interp(g, opts);
    const int rounds = method == CalibrationMethod::MinMax ? 1 : 2;
    for (int round = 0; round < rounds; ++round) {
      if (round == 1)
        for (auto& o : obs)
          if (o.needs_second_round()) o.begin_second_round();
      for (const auto& batch : batches) {
        const std::map<std::string, Tensor> out = interp.run(batch);
        for (size_t i = 0; i < values.size(); ++i) {
          // A graph input is observed from the batch itself.
          auto it = out.find(values[i]->name());
          const Tensor& t = it != out.end() ? it->second : batch.at(values[i]->name());
          obs[i].observe(t.data<float>(), t.numel());
        }
      }
    }
  } catch (...) {
    mg.outputs = saved;
    throw;
  }
  mg.outputs = saved;
  std::map<const Value*, Range> ranges;
  for (size_t i = 0; i < values.size(); ++i) ranges[values[i]] = obs[i].range();
  return ranges;
}

}  // namespace kiln
