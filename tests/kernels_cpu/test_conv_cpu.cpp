// kiln_conv2d against the reference Conv kernel: pointwise, implicit-GEMM (strides, asymmetric
// pads, dilations, groups) and depthwise paths, bias + ReLU epilogue, every ISA this CPU runs,
// and identical results for 1, 2 and 3 threads.
#include <algorithm>

#include "runtime/kernels/cpu/conv.h"
#include "runtime/threadpool/thread_pool.h"
#include "tests/kernels_cpu/cpu_kernel_test_util.h"

namespace kiln::test {
namespace {

struct ConvCase {
  int64_t N, C, H, W, M, KH, KW;
  int64_t sh = 1, sw = 1, pt = 0, pl = 0, pb = 0, pr = 0, dh = 1, dw = 1, group = 1;
  bool bias = true, relu = false;
};

KilnConv2dShape shape_of(const ConvCase& c) {
  return KilnConv2dShape{c.N,  c.C,  c.H,  c.W,  c.M,  c.KH, c.KW, c.sh,
                         c.sw, c.pt, c.pl, c.pb, c.pr, c.dh, c.dw, c.group};
}

struct ConvData {
  Tensor x, w, b;
};

ConvData make_data(const ConvCase& c, std::mt19937& rng) {
  return {random_tensor({c.N, c.C, c.H, c.W}, rng),
          random_tensor({c.M, c.C / c.group, c.KH, c.KW}, rng), random_tensor({c.M}, rng)};
}

Tensor reference(const ConvCase& c, const ConvData& d) {
  Attributes at;
  at.set("strides", Attribute::of_ints({c.sh, c.sw}));
  at.set("pads", Attribute::of_ints({c.pt, c.pl, c.pb, c.pr}));
  at.set("dilations", Attribute::of_ints({c.dh, c.dw}));
  at.set("group", Attribute::of_int(c.group));
  Tensor y = run_op1(OpKind::Conv, {&d.x, &d.w, c.bias ? &d.b : nullptr}, at);
  if (c.relu) {
    for (int64_t i = 0; i < y.numel(); ++i) y.data<float>()[i] = std::max(y.data<float>()[i], 0.0f);
  }
  return y;
}

std::vector<float> run_cpu(const ConvCase& c, const ConvData& d, ThreadPool* pool) {
  const KilnConv2dShape s = shape_of(c);
  std::vector<float> packed(kiln_conv2d_packed_weights_size(&s) / sizeof(float));
  kiln_conv2d_pack_weights(&s, d.w.data<float>(), packed.data());
  const int64_t oh = kiln_conv2d_output_height(&s), ow = kiln_conv2d_output_width(&s);
  std::vector<float> y(static_cast<size_t>(c.N * c.M * oh * ow), -7.0f);
  kiln_conv2d(&s, packed.data(), d.x.data<float>(), c.bias ? d.b.data<float>() : nullptr, c.relu,
              y.data(), pool);
  return y;
}

std::string describe(const ConvCase& c, cpu::Isa isa) {
  return std::string(cpu::isa_name(isa)) + " N" + std::to_string(c.N) + " C" + std::to_string(c.C) +
         " " + std::to_string(c.H) + "x" + std::to_string(c.W) + " M" + std::to_string(c.M) + " k" +
         std::to_string(c.KH) + "x" + std::to_string(c.KW) + " s" + std::to_string(c.sh) + "," +
         std::to_string(c.sw) + " g" + std::to_string(c.group);
}

void check_case(const ConvCase& c, std::mt19937& rng, ThreadPool* pool) {
  const ConvData d = make_data(c, rng);
  const Tensor want = reference(c, d);
  const double tol = 2e-6 * static_cast<double>(c.C / c.group * c.KH * c.KW + 8);
  for (cpu::Isa isa : supported_isas()) {
    ForceIsa force(isa);
    const std::vector<float> got = run_cpu(c, d, pool);
    ASSERT_EQ(static_cast<int64_t>(got.size()), want.numel()) << describe(c, isa);
    expect_all_close(got.data(), want.data<float>(), want.numel(), tol, describe(c, isa));
  }
}

TEST(CpuConv, PointwiseAndGeneralShapes) {
  std::mt19937 rng(21);
  ThreadPool pool(2);
  const ConvCase cases[] = {
      {1, 16, 9, 11, 20, 1, 1},                                       // pointwise
      {2, 3, 13, 17, 37, 3, 3, 1, 1, 1, 1, 1, 1},                     // 3x3 same
      {1, 5, 15, 14, 7, 3, 3, 2, 2, 1, 0, 0, 1},                      // stride 2, odd pads
      {1, 4, 12, 10, 6, 3, 2, 1, 2, 2, 1, 0, 3, 2, 2},                // dilations, stride_w
      {2, 8, 10, 10, 12, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 4},            // groups
      {1, 6, 7, 9, 6, 5, 5, 1, 1, 2, 2, 2, 2, 1, 1, 3, false, true},  // no bias, relu
      {1, 3, 40, 41, 33, 7, 7, 2, 2, 3, 3, 3, 3},                     // stem-like 7x7/2
      {1, 4, 6, 6, 8, 1, 1, 2, 2},                                    // strided 1x1
  };
  for (const ConvCase& c : cases) check_case(c, rng, &pool);
}

TEST(CpuConv, DepthwiseStridesPadsDilations) {
  std::mt19937 rng(22);
  ThreadPool pool(2);
  const ConvCase cases[] = {
      {1, 8, 23, 70, 8, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 8, true, true},
      {2, 5, 9, 9, 5, 3, 3, 2, 2, 1, 1, 1, 1, 1, 1, 5},
      {1, 3, 11, 19, 3, 5, 5, 1, 1, 4, 4, 4, 4, 2, 2, 3},
      {1, 4, 7, 8, 4, 3, 3, 1, 1, 0, 2, 1, 0, 1, 1, 4, false, false},
      {1, 4, 8, 8, 8, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 4},  // channel multiplier 2: GEMM path
  };
  for (const ConvCase& c : cases) check_case(c, rng, &pool);
}

TEST(CpuConv, ThreadCountsGiveIdenticalResults) {
  std::mt19937 rng(23);
  ThreadPool p2(2), p3(3);
  const ConvCase cases[] = {
      {1, 32, 28, 28, 48, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 1, true, true},
      {3, 16, 20, 20, 16, 1, 1},
      {1, 24, 30, 30, 24, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 24, true, true},
      {2, 8, 10, 10, 12, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 4},
  };
  for (const ConvCase& c : cases) {
    const ConvData d = make_data(c, rng);
    for (cpu::Isa isa : supported_isas()) {
      ForceIsa force(isa);
      const std::vector<float> one = run_cpu(c, d, nullptr);
      EXPECT_EQ(one, run_cpu(c, d, &p2)) << describe(c, isa);
      EXPECT_EQ(one, run_cpu(c, d, &p3)) << describe(c, isa);
    }
  }
}

TEST(CpuConv, RejectsInconsistentShapesAndForeignWeights) {
  KilnConv2dShape s{1, 6, 8, 8, 4, 3, 3, 1, 1, 0, 0, 0, 0, 1, 1, 4};  // group 4 does not divide 6
  EXPECT_THROW(kiln_conv2d_output_height(&s), std::invalid_argument);
  s.group = 2;
  std::vector<float> junk(kiln_conv2d_packed_weights_size(&s) / sizeof(float), 0.0f);
  std::vector<float> x(6 * 64), y(4 * 36);
  EXPECT_THROW(kiln_conv2d(&s, junk.data(), x.data(), nullptr, 0, y.data(), nullptr),
               std::invalid_argument);
}

}  // namespace
}  // namespace kiln::test
