// The optimized CPU kernels behind cpu_kernel() against the reference kernels: convolution
// (forward, input gradient via ConvTranspose, weight gradient), Gemm and MatMul, on random
// shapes with strides, pads, dilations and groups; every case on 1 and 2 threads, which must
// agree bit for bit.
#include <gtest/gtest.h>

#include "tests/kernels/cpu_kernel_test_util.h"

namespace kiln::test {
namespace {

// A random 2-D convolution geometry whose output is at least 1 x 1.
struct ConvCase : ConvGeom {
  std::string describe() const {
    return "N" + std::to_string(N) + " C" + std::to_string(C) + " M" + std::to_string(M) + " " +
           std::to_string(H) + "x" + std::to_string(W) + " k" + std::to_string(KH) + "x" +
           std::to_string(KW) + " s" + std::to_string(sh) + "," + std::to_string(sw) + " d" +
           std::to_string(dh) + "," + std::to_string(dw) + " p" + std::to_string(pt) + "," +
           std::to_string(pl) + "," + std::to_string(pb) + "," + std::to_string(pr) + " g" +
           std::to_string(group);
  }
};

ConvCase random_conv(std::mt19937& gen) {
  auto pick = [&](int64_t lo, int64_t hi) {
    return std::uniform_int_distribution<int64_t>(lo, hi)(gen);
  };
  ConvCase c{};
  for (;;) {
    c.group = pick(1, 3);
    const bool depthwise = pick(0, 3) == 0;
    c.C = c.group * pick(1, 4);
    c.M = depthwise ? c.C : c.group * pick(1, 5);
    if (depthwise) c.group = c.C;
    c.N = pick(1, 3);
    c.H = pick(3, 11), c.W = pick(3, 11);
    c.KH = pick(1, 3), c.KW = pick(1, 3);
    c.sh = pick(1, 2), c.sw = pick(1, 2);
    c.dh = pick(1, 2), c.dw = pick(1, 2);
    c.pt = pick(0, 2), c.pl = pick(0, 2), c.pb = pick(0, 2), c.pr = pick(0, 2);
    if (c.out_h() >= 1 && c.out_w() >= 1 && c.H + c.pt + c.pb >= c.dh * (c.KH - 1) + 1 &&
        c.W + c.pl + c.pr >= c.dw * (c.KW - 1) + 1) {
      return c;
    }
  }
}

TEST(CpuKernelTable, ConvRandomShapes) {
  std::mt19937 gen(11);
  for (int i = 0; i < 40; ++i) {
    const ConvCase c = random_conv(gen);
    const Tensor x = random_f32({c.N, c.C, c.H, c.W}, 100 + i);
    const Tensor w = random_f32({c.M, c.C / c.group, c.KH, c.KW}, 200 + i);
    const Tensor b = random_f32({c.M}, 300 + i);
    const bool with_bias = i % 2 == 0;
    check_fast_matches_ref("Conv " + c.describe(), OpKind::Conv,
                           with_bias ? std::vector<const Tensor*>{&x, &w, &b}
                                     : std::vector<const Tensor*>{&x, &w},
                           c.attrs(), 1, 1e-4, 1e-4);
  }
}

TEST(CpuKernelTable, ConvAutoPadAndTheCnnShape) {
  const Tensor x = random_f32({3, 4, 9, 7}, 1), w = random_f32({6, 4, 3, 3}, 2);
  Attributes same;
  same.set("kernel_shape", Attribute::of_ints({3, 3}));
  same.set("strides", Attribute::of_ints({2, 2}));
  same.set("auto_pad", Attribute::of_string("SAME_LOWER"));
  check_fast_matches_ref("Conv SAME_LOWER", OpKind::Conv, {&x, &w}, same, 1, 1e-4, 1e-4);
  // The MNIST CNN's second convolution: 32 -> 64 channels, 3x3, 26x26 input.
  const Tensor x2 = random_f32({4, 32, 26, 26}, 3), w2 = random_f32({64, 32, 3, 3}, 4);
  const Tensor b2 = random_f32({64}, 5);
  Attributes k3;
  k3.set("kernel_shape", Attribute::of_ints({3, 3}));
  check_fast_matches_ref("Conv cnn conv2", OpKind::Conv, {&x2, &w2, &b2}, k3, 1, 1e-4, 1e-4);
}

TEST(CpuKernelTable, ConvTransposeRandomShapes) {
  std::mt19937 gen(12);
  for (int i = 0; i < 40; ++i) {
    const ConvCase c = random_conv(gen);
    // ConvTranspose maps the convolution's output shape back to its input shape: X is
    // [N, M, OH, OW], W is [M, C/group, KH, KW], output_padding restores dropped rows.
    Attributes a = c.attrs();
    const int64_t oh = c.out_h(), ow = c.out_w();
    const int64_t ph = c.H - ((oh - 1) * c.sh + c.dh * (c.KH - 1) + 1 - c.pt - c.pb);
    const int64_t pw = c.W - ((ow - 1) * c.sw + c.dw * (c.KW - 1) + 1 - c.pl - c.pr);
    if (ph >= std::max(c.sh, c.dh) || pw >= std::max(c.sw, c.dw)) continue;  // not allowed by ONNX
    a.set("output_padding", Attribute::of_ints({ph, pw}));
    const Tensor x = random_f32({c.N, c.M, oh, ow}, 400 + i);
    const Tensor w = random_f32({c.M, c.C / c.group, c.KH, c.KW}, 500 + i);
    const Tensor b = random_f32({c.C}, 600 + i);
    const bool with_bias = i % 2 == 1;
    check_fast_matches_ref("ConvTranspose " + c.describe(), OpKind::ConvTranspose,
                           with_bias ? std::vector<const Tensor*>{&x, &w, &b}
                                     : std::vector<const Tensor*>{&x, &w},
                           a, 1, 1e-4, 1e-4);
  }
}

TEST(CpuKernelTable, ConvTransposeOutputShapeAndAutoPad) {
  const Tensor x = random_f32({2, 3, 4, 5}, 7), w = random_f32({3, 2, 3, 3}, 8);
  Attributes a;
  a.set("strides", Attribute::of_ints({2, 2}));
  a.set("output_shape", Attribute::of_ints({10, 12}));
  check_fast_matches_ref("ConvTranspose output_shape", OpKind::ConvTranspose, {&x, &w}, a, 1,
                         1e-4, 1e-4);
  Attributes s;
  s.set("strides", Attribute::of_ints({2, 1}));
  s.set("auto_pad", Attribute::of_string("SAME_UPPER"));
  check_fast_matches_ref("ConvTranspose SAME_UPPER", OpKind::ConvTranspose, {&x, &w}, s, 1, 1e-4,
                         1e-4);
}

TEST(CpuKernelTable, ConvGradWeightRandomShapes) {
  std::mt19937 gen(13);
  for (int i = 0; i < 40; ++i) {
    ConvCase c = random_conv(gen);
    if (i % 5 == 0) c.N = 19;  // more images than weight-gradient chunks: partial sums added
    const Tensor x = random_f32({c.N, c.C, c.H, c.W}, 700 + i);
    const Tensor dy = random_f32({c.N, c.M, c.out_h(), c.out_w()}, 800 + i);
    check_fast_matches_ref("KilnConvGradWeight " + c.describe(), OpKind::KilnConvGradWeight,
                           {&x, &dy}, c.attrs(), 1, 1e-4, 2e-4);
  }
}

// The MNIST CNN's weight gradients: more output pixels per image than one SGEMM depth block.
TEST(CpuKernelTable, ConvGradWeightCnnShapes) {
  Attributes k3;
  k3.set("kernel_shape", Attribute::of_ints({3, 3}));
  const Tensor x1 = random_f32({5, 1, 28, 28}, 1), dy1 = random_f32({5, 32, 26, 26}, 2);
  check_fast_matches_ref("KilnConvGradWeight conv1", OpKind::KilnConvGradWeight, {&x1, &dy1}, k3,
                         1, 1e-4, 1e-4);
  const Tensor x2 = random_f32({3, 32, 26, 26}, 3), dy2 = random_f32({3, 64, 24, 24}, 4);
  check_fast_matches_ref("KilnConvGradWeight conv2", OpKind::KilnConvGradWeight, {&x2, &dy2}, k3,
                         1, 1e-4, 1e-4);
}

TEST(CpuKernelTable, GemmTransposesAndBiasShapes) {
  const int64_t M = 7, N = 37, K = 19;
  const Tensor c_full = random_f32({M, N}, 1), c_col = random_f32({N}, 2),
               c_col2 = random_f32({1, N}, 3), c_row = random_f32({M, 1}, 4),
               c_scalar = random_f32({}, 5);
  for (int ta = 0; ta < 2; ++ta) {
    for (int tb = 0; tb < 2; ++tb) {
      const Tensor a = random_f32(ta ? Dims{K, M} : Dims{M, K}, 10 + ta);
      const Tensor b = random_f32(tb ? Dims{N, K} : Dims{K, N}, 20 + tb);
      for (const Tensor* c : {static_cast<const Tensor*>(nullptr), &c_full, &c_col, &c_col2,
                              &c_row, &c_scalar}) {
        Attributes at;
        at.set("transA", Attribute::of_int(ta));
        at.set("transB", Attribute::of_int(tb));
        at.set("alpha", Attribute::of_float(0.75f));
        at.set("beta", Attribute::of_float(c == &c_row ? 1.0f : -1.5f));
        std::vector<const Tensor*> in = {&a, &b};
        if (c) in.push_back(c);
        check_fast_matches_ref("Gemm ta=" + std::to_string(ta) + " tb=" + std::to_string(tb) +
                                   " C=" + (c ? c->describe() : "none"),
                               OpKind::Gemm, in, at, 1, 1e-4, 1e-5);
      }
    }
  }
  // A shape large enough to run on both threads (the SGEMM splits above 2^20 multiply-adds).
  const Tensor a = random_f32({64, 900}, 30), w = random_f32({128, 900}, 31), bias = random_f32({128}, 32);
  Attributes fc;
  fc.set("transB", Attribute::of_int(1));
  check_fast_matches_ref("Gemm fc", OpKind::Gemm, {&a, &w, &bias}, fc, 1, 1e-4, 1e-4);
}

TEST(CpuKernelTable, MatMulBatchesAndBroadcast) {
  struct Case {
    Dims a, b;
  };
  const std::vector<Case> cases = {
      {{5, 7}, {7, 3}},             {{2, 3, 5, 7}, {7, 4}},       {{2, 1, 5, 7}, {3, 7, 4}},
      {{5, 7}, {2, 7, 4}},          {{4, 1, 3, 6}, {1, 5, 6, 2}}, {{1, 6, 40}, {3, 40, 33}},
      {{70, 130}, {130, 90}},  // large: threads split the product
  };
  uint32_t seed = 40;
  for (const Case& c : cases) {
    const Tensor a = random_f32(c.a, seed++), b = random_f32(c.b, seed++);
    check_fast_matches_ref("MatMul " + a.describe() + " x " + b.describe(), OpKind::MatMul,
                           {&a, &b}, {}, 1, 1e-4, 1e-4);
  }
}

// Outside the fast paths the kernels run the reference: same bytes, same errors.
TEST(CpuKernelTable, FallsBackToReference) {
  const Tensor x64 = make<double>({1, 1, 3, 3}, {1, 2, 3, 4, 5, 6, 7, 8, 9});
  const Tensor w64 = make<double>({1, 1, 2, 2}, {1, 0, 0, -1});
  const Tensor ref = run_op1(OpKind::Conv, {&x64, &w64});
  const Tensor fast = run_fast(OpKind::Conv, {&x64, &w64}, {}, 1, nullptr)[0];
  EXPECT_TRUE(fast.bytes_equal(ref));
  // 1-D convolution and 1-D MatMul operands.
  const Tensor x1 = random_f32({2, 3, 8}, 1), w1 = random_f32({4, 3, 3}, 2);
  check_fast_matches_ref("Conv 1-D", OpKind::Conv, {&x1, &w1}, {}, 1, 0, 0);
  const Tensor v = random_f32({8}, 3), m = random_f32({8, 5}, 4);
  check_fast_matches_ref("MatMul 1-D", OpKind::MatMul, {&v, &m}, {}, 1, 0, 0);
  // Bad input: the reference's one-line error, not a crash.
  const Tensor a = random_f32({3, 4}, 5), b = random_f32({5, 6}, 6);
  EXPECT_THROW(run_fast(OpKind::Gemm, {&a, &b}, {}, 1, nullptr), Error);
  const Tensor bad_w = random_f32({4, 5, 3, 3}, 7), img = random_f32({1, 3, 8, 8}, 8);
  EXPECT_THROW(run_fast(OpKind::Conv, {&img, &bad_w}, {}, 1, nullptr), Error);
  EXPECT_EQ(cpu_kernel(OpKind::Hardmax), nullptr);
}

}  // namespace
}  // namespace kiln::test

namespace kiln::test {
namespace {

// Depthwise rows wide enough (>= 8 outputs) for the strided path that splits rows into phases.
TEST(CpuKernelTable, DepthwiseStridedWideRows) {
  int i = 0;
  for (int64_t stride : {2, 3})
    for (int64_t k : {3, 5})
      for (int64_t dil : {1, 2}) {
        ConvCase c{};
        c.N = 2, c.C = 5, c.M = 5, c.group = 5, c.H = 9, c.W = 47;
        c.KH = k, c.KW = k, c.sh = stride, c.sw = stride, c.dh = dil, c.dw = dil;
        c.pt = 1, c.pl = 2, c.pb = 0, c.pr = 1;
        const Tensor x = random_f32({c.N, c.C, c.H, c.W}, 500 + i);
        const Tensor w = random_f32({c.M, 1, c.KH, c.KW}, 600 + i);
        const Tensor b = random_f32({c.M}, 700 + i);
        ++i;
        check_fast_matches_ref("depthwise " + c.describe(), OpKind::Conv, {&x, &w, &b}, c.attrs(), 1,
                               1e-4, 1e-4);
      }
}

}  // namespace
}  // namespace kiln::test
