#include "runtime/kernels/cpu/softmax_rows.h"

#include <bit>
#include <cmath>
#include <cstring>
#include <limits>

#include "runtime/kernels/cpu/cpu_isa.h"

namespace kiln::cpu {

namespace {

constexpr int kLanes = 16;

inline float exp_approx(float x) {
  constexpr float kLog2e = 1.44269504088896341f;
  constexpr float kLn2Hi = 0.693359375f, kLn2Lo = -2.12194440e-4f;
  constexpr float kRound = 12582912.0f;  // 1.5 * 2^23: adding it rounds to an integer
  // Clamped with selects, not std::fmin/fmax, so the loops calling this vectorize (NaN is
  // restored at the end either way).
  float xc = x > -87.3f ? x : -87.3f;
  xc = xc < 88.37f ? xc : 88.37f;
  const float n = (xc * kLog2e + kRound) - kRound;
  const float r = (xc - n * kLn2Hi) - n * kLn2Lo;
  float p = 1.0f / 720.0f;
  p = p * r + 1.0f / 120.0f;
  p = p * r + 1.0f / 24.0f;
  p = p * r + 1.0f / 6.0f;
  p = p * r + 0.5f;
  p = p * r + 1.0f;
  p = p * r + 1.0f;
  const int32_t e = (static_cast<int32_t>(n) + 127) << 23;
  float scale;
  std::memcpy(&scale, &e, sizeof scale);
  float y = p * scale;
  y = x < -87.3f ? 0.0f : y;
  y = x > 88.37f ? std::numeric_limits<float>::infinity() : y;
  return x != x ? x : y;
}

// std::fmax(m, v) for a non-NaN m (a NaN v is skipped), as a select the loops can vectorize.
inline float greater_of(float m, float v) { return v > m ? v : m; }

float max_of(const float* x, int64_t n) {
  float part[kLanes];
  for (int j = 0; j < kLanes; ++j) part[j] = -std::numeric_limits<float>::infinity();
  int64_t i = 0;
  for (; i + kLanes <= n; i += kLanes)
    for (int j = 0; j < kLanes; ++j) part[j] = greater_of(part[j], x[i + j]);
  float m = -std::numeric_limits<float>::infinity();
  for (float v : part) m = greater_of(m, v);
  for (; i < n; ++i) m = greater_of(m, x[i]);
  return m;
}

double sum_of(const float* x, int64_t n) {
  float part[kLanes] = {};
  int64_t i = 0;
  for (; i + kLanes <= n; i += kLanes)
    for (int j = 0; j < kLanes; ++j) part[j] += x[i + j];
  double s = 0;
  for (float v : part) s += v;
  for (; i < n; ++i) s += x[i];
  return s;
}

}  // namespace

void exp_row(const float* x, float* y, int64_t n) {
  for (int64_t i = 0; i < n; ++i) y[i] = exp_approx(x[i]);
}

void softmax_row(const float* x, float* y, int64_t n) {
  if (active_isa() == Isa::Avx512) return softmax_row_avx512(x, y, n);
  const float m = max_of(x, n);
  // A row of -inf (everything masked) gives NaN, as the unfused exp(x - max) / sum does.
  for (int64_t i = 0; i < n; ++i) y[i] = exp_approx(x[i] - m);
  const float inv = static_cast<float>(1.0 / sum_of(y, n));
  for (int64_t i = 0; i < n; ++i) y[i] *= inv;
}

void layernorm_row(const float* x, const float* gamma, const float* beta, float* y, int64_t n,
                   float eps) {
  const float mean = static_cast<float>(sum_of(x, n) / static_cast<double>(n));
  float part[kLanes] = {};
  int64_t i = 0;
  for (; i + kLanes <= n; i += kLanes)
    for (int j = 0; j < kLanes; ++j) {
      const float d = x[i + j] - mean;
      part[j] += d * d;
    }
  double ss = 0;
  for (float v : part) ss += v;
  for (; i < n; ++i) ss += static_cast<double>(x[i] - mean) * (x[i] - mean);
  const float inv = static_cast<float>(1.0 / std::sqrt(ss / static_cast<double>(n) + eps));
  if (beta) {
    for (int64_t k = 0; k < n; ++k) y[k] = (x[k] - mean) * inv * gamma[k] + beta[k];
  } else {
    for (int64_t k = 0; k < n; ++k) y[k] = (x[k] - mean) * inv * gamma[k];
  }
}

}  // namespace kiln::cpu
