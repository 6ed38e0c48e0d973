// softmax_row's ISA paths: the AVX-512 row kernel must give the same bits as the portable one
// (same exp polynomial and summation order) on rows of every tail length, with large, tiny,
// -inf and NaN entries; and both must be a softmax (checked against double precision).
#include <cmath>
#include <cstring>
#include <limits>

#include "runtime/kernels/cpu/softmax_rows.h"
#include "tests/kernels_cpu/cpu_kernel_test_util.h"

namespace kiln::test {
namespace {

std::vector<float> softmax_with(cpu::Isa isa, const std::vector<float>& x) {
  ForceIsa force(isa);
  std::vector<float> y(x.size());
  cpu::softmax_row(x.data(), y.data(), static_cast<int64_t>(x.size()));
  return y;
}

bool same_bits(const std::vector<float>& a, const std::vector<float>& b) {
  return a.size() == b.size() && std::memcmp(a.data(), b.data(), a.size() * sizeof(float)) == 0;
}

TEST(CpuSoftmaxRow, IsaPathsGiveIdenticalBits) {
  std::mt19937 rng(8);
  const std::vector<cpu::Isa> isas = supported_isas();
  for (int64_t n : {1, 5, 15, 16, 17, 31, 32, 33, 128, 1000}) {
    for (float spread : {0.5f, 8.0f, 120.0f}) {
      std::vector<float> x = random_floats(static_cast<size_t>(n), rng);
      for (float& v : x) v *= spread;
      if (n > 3) x[static_cast<size_t>(n / 2)] = -std::numeric_limits<float>::infinity();
      const std::vector<float> first = softmax_with(isas.front(), x);
      double sum = 0;
      double mx = -INFINITY;
      for (float v : x) mx = std::max(mx, static_cast<double>(v));
      for (float v : x) sum += std::exp(static_cast<double>(v) - mx);
      for (size_t i = 0; i < x.size(); ++i) {
        const double want = std::exp(static_cast<double>(x[i]) - mx) / sum;
        ASSERT_NEAR(first[i], want, 1e-6 + 4e-6 * want) << "n=" << n << " i=" << i;
      }
      for (cpu::Isa isa : isas) {
        EXPECT_TRUE(same_bits(first, softmax_with(isa, x)))
            << cpu::isa_name(isa) << " n=" << n << " spread=" << spread;
      }
    }
  }
  // A NaN anywhere makes the whole row NaN on every path.
  std::vector<float> x(37, 0.25f);
  x[20] = std::numeric_limits<float>::quiet_NaN();
  for (cpu::Isa isa : isas) {
    for (float v : softmax_with(isa, x)) EXPECT_TRUE(std::isnan(v)) << cpu::isa_name(isa);
  }
}

}  // namespace
}  // namespace kiln::test
