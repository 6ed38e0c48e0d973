// Summary of benchmark latencies: mean and nearest-rank percentiles.
#pragma once

#include <algorithm>
#include <cmath>
#include <numeric>
#include <vector>

namespace kiln::tools {

struct LatencyStats {
  double mean_ms = 0, p50_ms = 0, p90_ms = 0, p99_ms = 0, runs_per_s = 0;
};

// `samples_ms` must be non-empty. Percentile p is the ceil(p/100 * n)-th smallest sample.
inline LatencyStats latency_stats(std::vector<double> samples_ms) {
  std::sort(samples_ms.begin(), samples_ms.end());
  const size_t n = samples_ms.size();
  auto pct = [&](double p) {
    const size_t rank = static_cast<size_t>(std::ceil(p / 100.0 * static_cast<double>(n)));
    return samples_ms[std::clamp<size_t>(rank, 1, n) - 1];
  };
  LatencyStats s;
  s.mean_ms = std::accumulate(samples_ms.begin(), samples_ms.end(), 0.0) / static_cast<double>(n);
  s.p50_ms = pct(50);
  s.p90_ms = pct(90);
  s.p99_ms = pct(99);
  s.runs_per_s = s.mean_ms > 0 ? 1000.0 / s.mean_ms : 0;
  return s;
}

}  // namespace kiln::tools
