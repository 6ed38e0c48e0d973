// Shared helpers for the optimized CPU kernel tests: random data, the ISA levels to test, and a
// guard that forces one of them for the duration of a scope.
#pragma once

#include <cstdint>
#include <random>
#include <vector>

#include "runtime/kernels/cpu/cpu_isa.h"
#include "tests/test_util.h"

namespace kiln::test {

// Every ISA level this CPU can run, lowest first.
inline std::vector<cpu::Isa> supported_isas() {
  std::vector<cpu::Isa> v;
  for (cpu::Isa isa : {cpu::Isa::Scalar, cpu::Isa::Avx2, cpu::Isa::Avx512}) {
    if (cpu::isa_supported(isa)) v.push_back(isa);
  }
  return v;
}

class ForceIsa {
 public:
  explicit ForceIsa(cpu::Isa isa) { cpu::force_isa(isa); }
  ~ForceIsa() { cpu::reset_isa(); }
  ForceIsa(const ForceIsa&) = delete;
  ForceIsa& operator=(const ForceIsa&) = delete;
};

inline Tensor random_tensor(Dims dims, std::mt19937& rng, float lo = -1.0f, float hi = 1.0f) {
  Tensor t(DType::F32, std::move(dims));
  std::uniform_real_distribution<float> dist(lo, hi);
  for (int64_t i = 0; i < t.numel(); ++i) t.data<float>()[i] = dist(rng);
  return t;
}

inline std::vector<float> random_floats(size_t n, std::mt19937& rng) {
  std::vector<float> v(n);
  std::uniform_real_distribution<float> dist(-1.0f, 1.0f);
  for (float& x : v) x = dist(rng);
  return v;
}

// |actual - expected| <= tol elementwise, reporting the first few mismatches only.
inline void expect_all_close(const float* actual, const float* expected, int64_t n, double tol,
                             const std::string& what) {
  int reported = 0;
  for (int64_t i = 0; i < n; ++i) {
    const double d = std::fabs(static_cast<double>(actual[i]) - expected[i]);
    if (!(d <= tol) && reported++ < 5) {
      ADD_FAILURE() << what << ": element " << i << ": " << actual[i] << " vs " << expected[i]
                    << " (tol " << tol << ")";
    }
  }
}

// A conv epilogue `post` that adds a residual at the same place of Y and counts the visits
// of each element (every element must be finished exactly once).
struct ResidualPost {
  const float* y0;
  const float* res;
  std::vector<int>* visits;
  static void add(void* closure, float* y, int64_t ldc, int64_t rows, int64_t cols) {
    auto* r = static_cast<ResidualPost*>(closure);
    for (int64_t i = 0; i < rows; ++i) {
      for (int64_t j = 0; j < cols; ++j) {
        const int64_t at = (y - r->y0) + i * ldc + j;
        y[i * ldc + j] += r->res[at];
        ++(*r->visits)[static_cast<size_t>(at)];
      }
    }
  }
};

}  // namespace kiln::test
