// The few-taps convolution (conv_fewtaps.h, AVX-512) against the reference Conv: random shapes
// with at most 16 taps per output forced onto it (one or two input channels per group, odd
// planes, rows wider than one 32-pixel segment, asymmetric pads, height strides, dilations,
// groups, channel counts off the 4 / 8 channel blocks, several images), bias / ReLU, the
// residual added in the tiles against the same through a `post` epilogue (bit for bit, each
// element finished once), and bit-identical results for 1, 2 and 3 threads; plus the rule.
#include <algorithm>
#include <cstring>
#include <sstream>

#include "runtime/kernels/cpu/conv.h"
#include "runtime/kernels/cpu/conv_fewtaps.h"
#include "runtime/kernels/cpu/conv_outvec.h"
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
  const int64_t kg = s.C / s.group * s.KH * s.KW;
  ASSERT_LE(kg, cpu::kFewTapsMaxK) << describe_conv(s);
  const Tensor x = random_tensor({s.N, s.C, s.H, s.W}, rng);
  const Tensor w = random_tensor({s.M, s.C / s.group, s.KH, s.KW}, rng);
  const Tensor b = random_tensor({s.M}, rng);
  const Tensor res = random_tensor({s.N, s.M, oh, ow}, rng);
  const Tensor ref = reference_conv(s, x, w, c.bias ? &b : nullptr);
  std::vector<float> plain(ref.data<float>(), ref.data<float>() + ref.numel()), with_res = plain;
  for (size_t i = 0; i < plain.size(); ++i) {
    with_res[i] += res.data<float>()[i];
    if (c.relu) plain[i] = std::max(plain[i], 0.0f), with_res[i] = std::max(with_res[i], 0.0f);
  }
  const double tol = 2e-6 * static_cast<double>(kg + 8);
  ForceIsa force_isa(cpu::Isa::Avx512);
  ForceDenseConvPath force_path(DenseConvPath::FewTaps);
  ASSERT_EQ(cpu::pick_dense_conv_path(s, cpu::Isa::Avx512), DenseConvPath::FewTaps);
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
}

TEST(CpuConvFewTaps, RandomShapesMatchReferenceOnEveryThreadCount) {
  if (!cpu::isa_supported(cpu::Isa::Avx512)) GTEST_SKIP() << "the kernel is AVX-512 only";
  std::mt19937 rng(43);
  ThreadPool p2(2), p3(3);
  auto pick = [&](int64_t lo, int64_t hi) {
    return std::uniform_int_distribution<int64_t>(lo, hi)(rng);
  };
  // (KH, KW, input channels per group): 1 to 16 taps.
  const int64_t kernels[][3] = {{3, 3, 1}, {3, 3, 1}, {2, 2, 2}, {1, 3, 1}, {3, 5, 1},
                                {4, 4, 1}, {2, 3, 2}, {1, 1, 1}, {3, 2, 2}, {5, 3, 1}};
  for (int i = 0; i < 30; ++i) {
    Case c{};
    KilnConv2dShape& s = c.s;
    const int64_t* k = kernels[i % 10];
    s.KH = k[0];
    s.KW = k[1];
    s.group = i % 7 == 3 ? pick(2, 3) : 1;
    s.C = s.group * k[2];
    s.M = s.group * pick(1, i % 3 ? 13 : 45);
    s.N = pick(1, 3);
    s.stride_h = i % 4 == 3 ? pick(2, 3) : 1;
    s.stride_w = 1;
    s.dilation_h = i % 6 == 5 ? 2 : 1;
    s.dilation_w = i % 6 == 5 ? pick(1, 2) : 1;
    const bool pad = i % 2 == 1;
    s.pad_top = pad ? pick(0, s.KH - 1) : 0;
    s.pad_bottom = pad ? pick(0, s.KH - 1) : 0;
    s.pad_left = pad ? pick(0, s.KW - 1) : 0;
    s.pad_right = pad ? pick(0, s.KW - 1) : 0;
    s.H = pick(s.dilation_h * (s.KH - 1) + 1, 17);
    s.W = pick(s.dilation_w * (s.KW - 1) + 1, i % 3 == 1 ? 15 : 75);
    c.bias = i % 4 != 2;
    c.relu = i % 3 == 0;
    check(c, rng, &p2, &p3);
  }
}

// MNIST's first layer at batch 8: big enough to split over threads by image, then one image
// split by rows.
TEST(CpuConvFewTaps, ThreadedShapes) {
  if (!cpu::isa_supported(cpu::Isa::Avx512)) GTEST_SKIP() << "the kernel is AVX-512 only";
  std::mt19937 rng(44);
  ThreadPool p2(2), p3(3);
  check({{8, 1, 28, 28, 32, 3, 3, 1, 1, 0, 0, 0, 0, 1, 1, 1}, true, true}, rng, &p2, &p3);
  check({{1, 1, 90, 61, 37, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 1}, true, false}, rng, &p2, &p3);
}

// AVX-512 KxK convs with at most 16 taps take it; 1x1 convs, more taps (3x3 ones go to
// Winograd), width strides and AVX2 keep the other paths.
TEST(CpuConvFewTaps, PathRule) {
  auto shape = [](int64_t C, int64_t HW, int64_t M, int64_t k, int64_t stride) {
    return KilnConv2dShape{1, C, HW, HW, M, k, k, stride, stride, 0, 0, 0, 0, 1, 1, 1};
  };
  using cpu::Isa;
  EXPECT_EQ(cpu::pick_dense_conv_path(shape(1, 28, 32, 3, 1), Isa::Avx512), DenseConvPath::FewTaps);
  EXPECT_EQ(cpu::pick_dense_conv_path(shape(1, 28, 32, 4, 1), Isa::Avx512), DenseConvPath::FewTaps);
  EXPECT_EQ(cpu::pick_dense_conv_path(shape(2, 28, 32, 3, 1), Isa::Avx512),
            DenseConvPath::Winograd);
  EXPECT_EQ(cpu::pick_dense_conv_path(shape(2, 28, 32, 5, 1), Isa::Avx512), DenseConvPath::OutVec);
  EXPECT_EQ(cpu::pick_dense_conv_path(shape(1, 28, 32, 3, 2), Isa::Avx512), DenseConvPath::OutVec);
  EXPECT_EQ(cpu::pick_dense_conv_path(shape(3, 8, 16, 1, 1), Isa::Avx512), DenseConvPath::OutVec);
  EXPECT_EQ(cpu::pick_dense_conv_path(shape(1, 28, 32, 3, 1), Isa::Avx2), DenseConvPath::OutVec);
}

}  // namespace
}  // namespace kiln::test
