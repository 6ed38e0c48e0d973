// The Winograd F(2x2, 3x3) convolution (conv_winograd.h, AVX-512) against the reference Conv:
// random 3x3 stride-1 shapes forced onto it (odd and even output sizes, planes narrower and
// wider than one 16-tile vector, asymmetric pads, channel counts off the 8-channel blocks,
// several images), bias / ReLU, the residual added in the output transform against the same
// through a `post` epilogue (bit for bit, each element finished once), residual == Y, and
// bit-identical results for 1, 2 and 3 threads.
#include <algorithm>
#include <cstring>
#include <sstream>

#include "runtime/kernels/cpu/conv.h"
#include "runtime/kernels/cpu/conv_outvec.h"
#include "runtime/kernels/cpu/conv_winograd.h"
#include "runtime/threadpool/thread_pool.h"
#include "tests/kernels_cpu/conv_test_util.h"

namespace kiln::test {
namespace {

using cpu::DenseConvPath;

struct Case {
  KilnConv2dShape s;
  bool bias, relu;
};

void check(const Case& c, std::mt19937& rng, ThreadPool* p2, ThreadPool* p3) {
  const KilnConv2dShape& s = c.s;
  const int64_t oh = kiln_conv2d_output_height(&s), ow = kiln_conv2d_output_width(&s);
  const Tensor x = random_tensor({s.N, s.C, s.H, s.W}, rng);
  const Tensor w = random_tensor({s.M, s.C, 3, 3}, rng);
  const Tensor b = random_tensor({s.M}, rng);
  const Tensor res = random_tensor({s.N, s.M, oh, ow}, rng);
  const Tensor ref = reference_conv(s, x, w, c.bias ? &b : nullptr);
  std::vector<float> plain(ref.data<float>(), ref.data<float>() + ref.numel()), with_res = plain;
  for (size_t i = 0; i < plain.size(); ++i) {
    with_res[i] += res.data<float>()[i];
    if (c.relu) plain[i] = std::max(plain[i], 0.0f), with_res[i] = std::max(with_res[i], 0.0f);
  }
  // The transforms add up to 16 terms more than direct summation does.
  const double tol = 4e-6 * static_cast<double>(s.C * 9 + 16);
  ForceIsa force_isa(cpu::Isa::Avx512);
  ForceDenseConvPath force_path(DenseConvPath::Winograd);
  ASSERT_EQ(cpu::pick_dense_conv_path(s, cpu::Isa::Avx512), DenseConvPath::Winograd);
  std::vector<float> packed(kiln_conv2d_packed_weights_size(&s) / sizeof(float) + 1);
  kiln_conv2d_pack_weights(&s, w.data<float>(), packed.data());
  const std::vector<float> one = run_conv_residual(c.s, c.bias, c.relu, packed, x, b, nullptr, false, nullptr);
  expect_all_close(one.data(), plain.data(), static_cast<int64_t>(plain.size()), tol, describe_conv(s));
  const std::vector<float> tiles = run_conv_residual(c.s, c.bias, c.relu, packed, x, b, &res, true, nullptr);
  expect_all_close(tiles.data(), with_res.data(), static_cast<int64_t>(with_res.size()), tol,
                   describe_conv(s) + " residual");
  EXPECT_TRUE(same_bits(tiles, run_conv_residual(c.s, c.bias, c.relu, packed, x, b, &res, false, nullptr)))
      << describe_conv(s) << ": residual in the tiles vs in post";
  for (ThreadPool* p : {p2, p3}) {
    EXPECT_TRUE(same_bits(one, run_conv_residual(c.s, c.bias, c.relu, packed, x, b, nullptr, false, p))) << describe_conv(s);
    EXPECT_TRUE(same_bits(tiles, run_conv_residual(c.s, c.bias, c.relu, packed, x, b, &res, true, p))) << describe_conv(s);
  }
  // In place: the residual is Y itself.
  std::vector<float> y(res.data<float>(), res.data<float>() + res.numel());
  const KilnGemmEpilogue ep{c.bias ? b.data<float>() : nullptr, nullptr, c.relu ? 1 : 0, nullptr,
                            nullptr};
  kiln_conv2d_residual(&s, packed.data(), x.data<float>(), &ep, y.data(), y.data(), p2);
  EXPECT_TRUE(same_bits(tiles, y)) << describe_conv(s) << ": residual == Y";
}

TEST(CpuConvWinograd, RandomShapesMatchReferenceOnEveryThreadCount) {
  if (!cpu::isa_supported(cpu::Isa::Avx512)) GTEST_SKIP() << "the kernel is AVX-512 only";
  std::mt19937 rng(45);
  ThreadPool p2(2), p3(3);
  auto pick = [&](int64_t lo, int64_t hi) {
    return std::uniform_int_distribution<int64_t>(lo, hi)(rng);
  };
  for (int i = 0; i < 16; ++i) {
    Case c{};
    KilnConv2dShape& s = c.s;
    s.KH = s.KW = 3;
    s.stride_h = s.stride_w = s.dilation_h = s.dilation_w = s.group = 1;
    s.N = pick(1, 3);
    s.C = pick(1, i % 4 == 3 ? 40 : 11);
    s.M = pick(1, i % 3 == 2 ? 37 : 17);
    const bool pad = i % 2 == 0;
    s.pad_top = pad ? pick(0, 2) : 0;
    s.pad_bottom = pad ? pick(0, 2) : 0;
    s.pad_left = pad ? pick(0, 2) : 0;
    s.pad_right = pad ? pick(0, 2) : 0;
    s.H = pick(3, 21);
    s.W = pick(3, i % 3 == 1 ? 13 : 71);
    c.bias = i % 4 != 1;
    c.relu = i % 3 == 0;
    check(c, rng, &p2, &p3);
  }
}

// MNIST's second layer at batch 2 (split by image and tile rows over threads), and a padded
// plane wider than two tile vectors.
TEST(CpuConvWinograd, ThreadedShapes) {
  if (!cpu::isa_supported(cpu::Isa::Avx512)) GTEST_SKIP() << "the kernel is AVX-512 only";
  std::mt19937 rng(46);
  ThreadPool p2(2), p3(3);
  check({{2, 32, 26, 26, 64, 3, 3, 1, 1, 0, 0, 0, 0, 1, 1, 1}, true, true}, rng, &p2, &p3);
  check({{1, 8, 9, 67, 19, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 1}, true, false}, rng, &p2, &p3);
}

// Transformed weights past L2 (winograd_streams_weights): whole-image items, the 8-channel
// blocks split over the threads (unevenly at 3 threads; 161 channels end in a partial block),
// the input transform kept for a thread's next block; two images, padded and unpadded; the
// last 2 of 18 tiles and the last 1 of 49 (ResNet's 14x14) in gemm_narrow, over 8, 4, 2 and 1
// blocks at a time.
TEST(CpuConvWinograd, StreamedWeightsSplitByChannels) {
  if (!cpu::isa_supported(cpu::Isa::Avx512)) GTEST_SKIP() << "the kernel is AVX-512 only";
  std::mt19937 rng(47);
  ThreadPool p2(2), p3(3);
  const Case cases[] = {
      {{2, 160, 13, 14, 161, 3, 3, 1, 1, 1, 1, 0, 1, 1, 1, 1}, true, true},
      {{1, 150, 7, 13, 176, 3, 3, 1, 1, 0, 0, 0, 0, 1, 1, 1}, false, false},
      {{1, 160, 14, 14, 160, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 1}, true, false},
  };
  for (const Case& c : cases) {
    ASSERT_TRUE(cpu::winograd_streams_weights(c.s)) << describe_conv(c.s);
    check(c, rng, &p2, &p3);
  }
  EXPECT_FALSE(cpu::winograd_streams_weights(
      KilnConv2dShape{1, 64, 56, 56, 64, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 1}));
}

// The transformed weights G g G^T of a known filter.
TEST(CpuConvWinograd, WeightTransform) {
  const KilnConv2dShape s{1, 1, 8, 8, 1, 3, 3, 1, 1, 0, 0, 0, 0, 1, 1, 1};
  const float g[9] = {1, 2, 3, 4, 5, 6, 7, 8, 9};
  std::vector<float> u(cpu::winograd_packed_floats(s));
  cpu::pack_winograd_weights(s, g, u.data());
  // Row 1 of G g: (g0 + g1 + g2) / 2 = (6, 7.5, 9); then column 1: (6 + 7.5 + 9) / 2.
  EXPECT_FLOAT_EQ(u[(4 * 1 + 1) * 8], 11.25f);
  EXPECT_FLOAT_EQ(u[0], 1.0f);                    // xi (0, 0): g[0][0]
  EXPECT_FLOAT_EQ(u[(4 * 3 + 3) * 8], 9.0f);      // xi (3, 3): g[2][2]
  EXPECT_FLOAT_EQ(u[(4 * 0 + 2) * 8], 1.0f);      // xi (0, 2): (1 - 2 + 3) / 2
  EXPECT_EQ(u[1], 0.0f);                          // channel 1 of the 8-block: padding
}

}  // namespace
}  // namespace kiln::test
