// max_pool_rows (the row-streaming stride-2 MaxPool) against window_plane_scalar, bit for bit,
// on random geometries: KW 2 and 3, any KH and vertical stride, padding on every side, planes
// narrower and wider than a vector, output extents past the floor formula (ceil_mode windows
// that run off the input, and windows with no in-bounds tap), several planes per call. Then
// kiln_max_pool2d on the network shapes, batch > 1, 1 and 2 threads, every ISA.
#include <algorithm>
#include <limits>

#include "runtime/kernels/cpu/pool.h"
#include "runtime/kernels/cpu/pool_rows.h"
#include "runtime/kernels/cpu/sliding_window.h"
#include "runtime/threadpool/thread_pool.h"
#include "tests/kernels_cpu/cpu_kernel_test_util.h"

namespace kiln::test {
namespace {

std::string describe(const cpu::PlaneWindow& g, int64_t planes) {
  return "planes " + std::to_string(planes) + " " + std::to_string(g.H) + "x" +
         std::to_string(g.W) + " -> " + std::to_string(g.OH) + "x" + std::to_string(g.OW) +
         " k" + std::to_string(g.KH) + "x" + std::to_string(g.KW) + " sh" +
         std::to_string(g.stride_h) + " pads " + std::to_string(g.pad_top) + "," +
         std::to_string(g.pad_left);
}

TEST(CpuPoolRows, MatchesWindowPlaneOnRandomGeometries) {
  if (!cpu::isa_supported(cpu::Isa::Avx512)) GTEST_SKIP() << "max_pool_rows needs AVX-512";
  std::mt19937 rng(51);
  auto pick = [&](int64_t lo, int64_t hi) {
    return std::uniform_int_distribution<int64_t>(lo, hi)(rng);
  };
  for (int i = 0; i < 120; ++i) {
    cpu::PlaneWindow g{};
    g.KW = pick(2, 3);
    g.KH = i % 5 == 0 ? pick(1, 5) : g.KW;
    g.stride_w = 2;
    g.stride_h = i % 7 == 0 ? pick(1, 3) : 2;
    g.dilation_h = g.dilation_w = 1;
    g.pad_top = pick(0, g.KH - 1);
    g.pad_left = pick(0, g.KW - 1);
    g.H = pick(1, 20);
    g.W = i % 3 == 0 ? pick(1, 15) : pick(16, 100);
    const int64_t pad_bottom = pick(0, g.KH - 1), pad_right = pick(0, g.KW - 1);
    g.OH = std::max<int64_t>(1, (g.H + g.pad_top + pad_bottom - g.KH) / g.stride_h + 1);
    g.OW = std::max<int64_t>(1, (g.W + g.pad_left + pad_right - g.KW) / 2 + 1);
    if (i % 4 == 1) g.OH += pick(0, 2);  // ceil_mode-like extents; some windows have no tap
    if (i % 4 == 2) g.OW += pick(1, 3);
    const int64_t planes = pick(1, 4);
    const int64_t in = g.H * g.W, out = g.OH * g.OW;
    std::vector<float> x(static_cast<size_t>(planes * in));
    std::uniform_real_distribution<float> d(-3.0f, 3.0f);
    for (float& v : x) v = d(rng);
    if (i % 6 == 3) std::fill(x.begin(), x.end(), -std::numeric_limits<float>::infinity());
    std::vector<float> want(static_cast<size_t>(planes * out)), got(want.size(), 1234.0f);
    for (int64_t p = 0; p < planes; ++p) {
      cpu::window_plane_scalar(g, cpu::WindowOp::Max, nullptr, 0.0f, false, x.data() + p * in,
                               want.data() + p * out);
    }
    ASSERT_TRUE(cpu::max_pool_rows(cpu::Isa::Avx512, g, planes, x.data(), got.data()))
        << describe(g, planes);
    for (size_t k = 0; k < want.size(); ++k) {
      ASSERT_EQ(got[k], want[k]) << describe(g, planes) << " at " << k;
    }
  }
}

TEST(CpuPoolRows, DeclinesOtherWindowsAndIsas) {
  float x[64] = {}, y[64] = {};
  const cpu::PlaneWindow s2{8, 8, 4, 4, 2, 2, 2, 2, 0, 0, 1, 1};
  cpu::PlaneWindow s1 = s2, dil = s2, k4 = s2;
  s1.stride_w = 1;
  dil.dilation_w = 2;
  k4.KW = 4;
  for (const cpu::PlaneWindow& g : {s1, dil, k4}) {
    EXPECT_FALSE(cpu::max_pool_rows(cpu::Isa::Avx512, g, 1, x, y));
  }
  EXPECT_FALSE(cpu::max_pool_rows(cpu::Isa::Avx2, s2, 1, x, y));
  EXPECT_FALSE(cpu::max_pool_rows(cpu::Isa::Scalar, s2, 1, x, y));
}

// The network shapes through kiln_max_pool2d (the row path on AVX-512, window_plane below it):
// the same values on every ISA and thread count.
TEST(CpuPoolRows, NetworkShapesEveryIsaAndThreadCount) {
  std::mt19937 rng(52);
  ThreadPool pool(2);
  const KilnPool2dShape shapes[] = {
      {3, 5, 24, 24, 2, 2, 2, 2, 0, 0, 0, 0, 1, 1},       // MNIST CNN, batch 3
      {2, 3, 56, 56, 3, 3, 2, 2, 1, 1, 1, 1, 1, 1},       // ResNet stem pool, batch 2
      {2, 3, 23, 37, 3, 3, 2, 2, 0, 1, 1, 0, 1, 1},       // odd sizes, asymmetric pads
      {1, 7, 9, 13, 2, 3, 3, 2, 1, 2, 0, 0, 1, 1},        // KH != KW, vertical stride 3
  };
  for (const KilnPool2dShape& s : shapes) {
    const int64_t oh = kiln_pool2d_output_height(&s), ow = kiln_pool2d_output_width(&s);
    std::vector<float> x(static_cast<size_t>(s.N * s.C * s.H * s.W));
    std::uniform_real_distribution<float> d(-3.0f, 3.0f);
    for (float& v : x) v = d(rng);
    const size_t n = static_cast<size_t>(s.N * s.C * oh * ow);
    std::vector<float> want(n);
    {
      ForceIsa force(cpu::Isa::Scalar);
      kiln_max_pool2d(&s, x.data(), want.data(), nullptr);
    }
    for (cpu::Isa isa : supported_isas()) {
      ForceIsa force(isa);
      for (ThreadPool* p : {static_cast<ThreadPool*>(nullptr), &pool}) {
        std::vector<float> got(n, 1234.0f);
        kiln_max_pool2d(&s, x.data(), got.data(), p);
        EXPECT_EQ(got, want) << cpu::isa_name(isa) << " threads " << (p ? 2 : 1) << " "
                             << s.N << "x" << s.C << "x" << s.H << "x" << s.W;
      }
    }
  }
}

}  // namespace
}  // namespace kiln::test
