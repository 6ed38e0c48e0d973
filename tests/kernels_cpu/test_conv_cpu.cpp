// kiln_conv2d against the reference Conv kernel: pointwise, implicit-GEMM, direct (strides,
// asymmetric pads, dilations, groups) and depthwise paths, bias + ReLU epilogue, every ISA this
// CPU runs, and identical results for 1, 2 and 3 threads.
#include <algorithm>

#include "runtime/kernels/cpu/conv.h"
#include "runtime/kernels/cpu/conv_direct.h"
#include "runtime/kernels/cpu/conv_outvec.h"
#include "runtime/kernels/cpu/half_convert.h"
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
      // small planes (depthwise_flat.h on AVX-512): MobileNet's 7x7, 8x8 (four vectors), 10x10
      // (the largest), 11x10 (just past it), 5x5 taps, one-sided pads (output height != H)
      {2, 19, 7, 7, 19, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 19, true, true},
      {1, 6, 8, 8, 6, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 6},
      {1, 3, 10, 10, 3, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 3, false, true},
      {1, 3, 11, 10, 3, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 3},
      {1, 5, 9, 11, 5, 5, 5, 1, 1, 2, 2, 2, 2, 1, 1, 5, true, true},
      {1, 4, 6, 5, 4, 3, 3, 1, 1, 2, 0, 0, 2, 1, 1, 4},
      // ... and at stride 2 through parity sub-planes: MobileNet's 14x14 -> 7x7, odd sizes,
      // a 20x20 input (10x10 output), asymmetric and one-sided pads, 5x5 taps
      {2, 17, 14, 14, 17, 3, 3, 2, 2, 1, 1, 1, 1, 1, 1, 17, true, true},
      {1, 3, 13, 11, 3, 3, 3, 2, 2, 1, 1, 1, 1, 1, 1, 3},
      {1, 3, 20, 20, 3, 3, 3, 2, 2, 1, 1, 1, 1, 1, 1, 3, false, true},
      {1, 2, 9, 12, 2, 3, 3, 2, 2, 0, 1, 2, 1, 1, 1, 2},
      {1, 2, 11, 13, 2, 5, 5, 2, 2, 2, 2, 2, 2, 1, 1, 2, true, true},
  };
  for (const ConvCase& c : cases) check_case(c, rng, &pool);
}

// Random depthwise shapes around the fast paths' edges: 3x3 / 5x5 at stride 1 and 2 (the
// fixed kernels), 2x2, 3x1, 7x7, stride 3 and dilations (the generic one); planes narrower and
// wider than one vector, with partial vectors, heights around the row-block sizes and
// asymmetric pads, on every ISA, with no pool and 2 threads (identical results).
TEST(CpuConv, DepthwiseRandomShapesEveryIsa) {
  std::mt19937 rng(24);
  ThreadPool pool(2);
  auto pick = [&](int64_t lo, int64_t hi) {
    return std::uniform_int_distribution<int64_t>(lo, hi)(rng);
  };
  const int64_t kernels[][2] = {{3, 3}, {3, 3}, {3, 3}, {5, 5}, {5, 5}, {2, 2}, {3, 1}, {7, 7}};
  for (int i = 0; i < 48; ++i) {
    ConvCase c{};
    const int64_t* k = kernels[pick(0, 7)];
    c.KH = k[0];
    c.KW = k[1];
    c.C = c.M = c.group = pick(1, 4);
    c.N = pick(1, 2);
    c.sh = c.sw = i % 9 == 8 ? 3 : pick(1, 2);
    if (i % 11 == 10) c.sw = c.sh == 1 ? 2 : 1;
    c.dh = c.dw = i % 7 == 6 ? 2 : 1;
    c.pt = pick(0, c.KH - 1);
    c.pb = pick(0, c.KH - 1);
    c.pl = pick(0, c.KW - 1);
    c.pr = pick(0, c.KW - 1);
    c.H = pick(c.dh * (c.KH - 1) + 1, 24);
    c.W = pick(c.dw * (c.KW - 1) + 1, i % 2 ? 20 : 75);
    c.bias = i % 4 != 3;
    c.relu = i % 3 == 0;
    const ConvData d = make_data(c, rng);
    const Tensor want = reference(c, d);
    const double tol = 2e-6 * static_cast<double>(c.KH * c.KW + 8);
    for (cpu::Isa isa : supported_isas()) {
      ForceIsa force(isa);
      const std::vector<float> one = run_cpu(c, d, nullptr);
      ASSERT_EQ(static_cast<int64_t>(one.size()), want.numel()) << describe(c, isa);
      expect_all_close(one.data(), want.data<float>(), want.numel(), tol,
                       describe(c, isa) + " pads " + std::to_string(c.pt) + std::to_string(c.pl) +
                           std::to_string(c.pb) + std::to_string(c.pr) + " d" +
                           std::to_string(c.dh) + " " + std::to_string(c.H) + "x" +
                           std::to_string(c.W));
      EXPECT_EQ(one, run_cpu(c, d, &pool)) << describe(c, isa);
    }
  }
}

// The epilogue's `post` sees every finished depthwise plane after bias and ReLU.
// The second case has many small planes, which go to `post` several at a time (one row of
// consecutive planes), in batches that end inside the work items of 2 threads.
TEST(CpuConv, DepthwisePostEpilogueRunsOnEveryPlane) {
  std::mt19937 rng(25);
  const ConvCase cases[] = {{2, 3, 19, 37, 3, 3, 3, 2, 2, 1, 1, 1, 1, 1, 1, 3, true, true},
                            {3, 70, 9, 11, 70, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 70, true, true}};
  for (const ConvCase& c : cases) {
    const ConvData d = make_data(c, rng);
    const Tensor want = reference(c, d);
    const KilnConv2dShape s = shape_of(c);
    std::vector<float> packed(kiln_conv2d_packed_weights_size(&s) / sizeof(float));
    kiln_conv2d_pack_weights(&s, d.w.data<float>(), packed.data());
    struct Post {
      static void twice_plus_one(void*, float* y, int64_t ldc, int64_t rows, int64_t cols) {
        for (int64_t r = 0; r < rows; ++r) {
          for (int64_t j = 0; j < cols; ++j) y[r * ldc + j] = 2.0f * y[r * ldc + j] + 1.0f;
        }
      }
    };
    ThreadPool pool(2);
    for (cpu::Isa isa : supported_isas()) {
      ForceIsa force(isa);
      for (ThreadPool* p : {static_cast<ThreadPool*>(nullptr), &pool}) {
        std::vector<float> y(static_cast<size_t>(want.numel()), -7.0f);
        const KilnGemmEpilogue ep{d.b.data<float>(), nullptr, 1, &Post::twice_plus_one, nullptr};
        kiln_conv2d_ex(&s, packed.data(), d.x.data<float>(), &ep, y.data(), p);
        std::vector<float> expect(want.data<float>(), want.data<float>() + want.numel());
        for (float& v : expect) v = 2.0f * v + 1.0f;
        expect_all_close(y.data(), expect.data(), want.numel(), 1e-4, describe(c, isa));
      }
    }
  }
}

// Random dense shapes around the direct path's edges (AVX-512: stride 1, or stride > 1 over
// few channels): output rows narrower and wider than one tile, so tiles cross rows and hold
// junk columns; channel counts that are not multiples of the 8-row panels; groups, dilations,
// asymmetric pads, strides 2 and 3, several images. Every ISA, every dense path (im2col GEMM,
// pixel direct, outvec, each forced), no pool and 2 threads.
TEST(CpuConv, DenseRandomShapesEveryIsa) {
  std::mt19937 rng(26);
  ThreadPool pool(2);
  auto pick = [&](int64_t lo, int64_t hi) {
    return std::uniform_int_distribution<int64_t>(lo, hi)(rng);
  };
  const int64_t kernels[][2] = {{3, 3}, {3, 3}, {3, 3}, {5, 5}, {7, 7}, {2, 2}, {3, 1}, {1, 3}};
  int direct_cases = 0;
  for (int i = 0; i < 40; ++i) {
    ConvCase c{};
    const int64_t* k = kernels[pick(0, 7)];
    c.KH = k[0];
    c.KW = k[1];
    c.group = i % 5 == 4 ? 2 : 1;
    c.C = c.group * pick(1, i % 3 ? 6 : 20);
    c.M = c.group * pick(1, 19);
    c.N = pick(1, 3);
    c.sh = c.sw = i % 4 == 3 ? pick(2, 3) : 1;
    c.dh = c.dw = i % 7 == 6 ? 2 : 1;
    c.pt = pick(0, c.KH - 1);
    c.pb = pick(0, c.KH - 1);
    c.pl = pick(0, c.KW - 1);
    c.pr = pick(0, c.KW - 1);
    c.H = pick(c.dh * (c.KH - 1) + 1, 20);
    c.W = pick(c.dw * (c.KW - 1) + 1, i % 2 ? 14 : 70);
    c.bias = i % 4 != 2;
    c.relu = i % 3 == 0;
    direct_cases += cpu::direct_conv_preferred(shape_of(c));
    const ConvData d = make_data(c, rng);
    const Tensor want = reference(c, d);
    const double tol = 2e-6 * static_cast<double>(c.C / c.group * c.KH * c.KW + 8);
    for (cpu::Isa isa : supported_isas()) {
      ForceIsa force(isa);
      // Each dense path in turn (one the shape or ISA cannot take falls back to the rule).
      for (cpu::DenseConvPath path : {cpu::DenseConvPath::Gemm, cpu::DenseConvPath::PixelDirect,
                                      cpu::DenseConvPath::OutVec}) {
        cpu::force_dense_conv_path(&path);
        const std::string what = describe(c, isa) + " path " +
                                 std::to_string(static_cast<int>(path)) + " " +
                                 std::to_string(c.H) + "x" + std::to_string(c.W);
        const std::vector<float> one = run_cpu(c, d, nullptr);
        ASSERT_EQ(static_cast<int64_t>(one.size()), want.numel()) << what;
        expect_all_close(one.data(), want.data<float>(), want.numel(), tol, what);
        EXPECT_EQ(one, run_cpu(c, d, &pool)) << what;
      }
      cpu::force_dense_conv_path(nullptr);
    }
  }
  EXPECT_GE(direct_cases, 20);  // most shapes exercise the direct path where AVX-512 runs
}

// Dense paths (direct and im2col GEMM): `post` sees each output element once, after bias and
// ReLU; fp16-packed weights give exactly what the same weights rounded to fp16 give packed as
// f32.
TEST(CpuConv, DensePostEpilogueAndHalfWeights) {
  std::mt19937 rng(27);
  ThreadPool pool(2);
  struct Post {
    static void twice_plus_one(void*, float* y, int64_t ldc, int64_t rows, int64_t cols) {
      for (int64_t r = 0; r < rows; ++r) {
        for (int64_t j = 0; j < cols; ++j) y[r * ldc + j] = 2.0f * y[r * ldc + j] + 1.0f;
      }
    }
  };
  const ConvCase cases[] = {
      {2, 5, 13, 37, 11, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 1, true, true},  // direct
      {1, 3, 30, 30, 16, 7, 7, 2, 2, 3, 3, 3, 3, 1, 1, 1, true, true},  // direct, stem-like
      {1, 24, 9, 9, 10, 3, 3, 2, 2, 1, 1, 1, 1, 1, 1, 1, true, true},   // GEMM (strided, deep)
  };
  for (const ConvCase& c : cases) {
    const ConvData d = make_data(c, rng);
    const Tensor want = reference(c, d);
    const KilnConv2dShape s = shape_of(c);
    for (cpu::Isa isa : supported_isas()) {
      ForceIsa force(isa);
      std::vector<float> packed(kiln_conv2d_packed_weights_size(&s) / sizeof(float));
      kiln_conv2d_pack_weights(&s, d.w.data<float>(), packed.data());
      for (ThreadPool* p : {static_cast<ThreadPool*>(nullptr), &pool}) {
        std::vector<float> y(static_cast<size_t>(want.numel()), -7.0f);
        const KilnGemmEpilogue ep{d.b.data<float>(), nullptr, 1, &Post::twice_plus_one, nullptr};
        kiln_conv2d_ex(&s, packed.data(), d.x.data<float>(), &ep, y.data(), p);
        std::vector<float> expect(want.data<float>(), want.data<float>() + want.numel());
        for (float& v : expect) v = 2.0f * v + 1.0f;
        expect_all_close(y.data(), expect.data(), want.numel(), 1e-4, describe(c, isa));
      }
      // fp16 weights: round them, then compare the two packings bit for bit.
      const int64_t nw = d.w.numel();
      std::vector<uint16_t> half(static_cast<size_t>(nw));
      std::vector<float> rounded(static_cast<size_t>(nw));
      cpu::narrow_to_half(d.w.data<float>(), half.data(), nw);
      cpu::widen_half(half.data(), rounded.data(), nw);
      std::vector<float> packed_f32(kiln_conv2d_packed_weights_size(&s) / sizeof(float));
      kiln_conv2d_pack_weights(&s, rounded.data(), packed_f32.data());
      std::vector<float> packed_f16(kiln_conv2d_packed_weights_half_size(&s) / sizeof(float) + 1);
      kiln_conv2d_pack_weights_half(&s, rounded.data(), packed_f16.data());
      std::vector<float> y32(static_cast<size_t>(want.numel())), y16(y32.size());
      kiln_conv2d(&s, packed_f32.data(), d.x.data<float>(), d.b.data<float>(), 0, y32.data(),
                  &pool);
      kiln_conv2d(&s, packed_f16.data(), d.x.data<float>(), d.b.data<float>(), 0, y16.data(),
                  &pool);
      EXPECT_EQ(y32, y16) << describe(c, isa);
    }
  }
}

TEST(CpuConv, ThreadCountsGiveIdenticalResults) {
  std::mt19937 rng(23);
  ThreadPool p2(2), p3(3);
  const ConvCase cases[] = {
      {1, 32, 28, 28, 48, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 1, true, true},
      {3, 16, 20, 20, 16, 1, 1},
      {1, 24, 30, 30, 24, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 24, true, true},
      {2, 8, 10, 10, 12, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 4},
      {9, 4, 12, 21, 20, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 1, true, true},  // images per thread
      {1, 3, 40, 40, 24, 7, 7, 2, 2, 3, 3, 3, 3},                       // strided direct
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
