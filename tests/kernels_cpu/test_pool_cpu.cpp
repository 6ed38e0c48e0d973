// kiln_max_pool2d and kiln_global_average_pool against the reference MaxPool and
// GlobalAveragePool kernels, with 1 and 2 threads and on every ISA.
#include <algorithm>
#include <limits>

#include "runtime/kernels/cpu/pool.h"
#include "runtime/threadpool/thread_pool.h"
#include "tests/kernels_cpu/cpu_kernel_test_util.h"

namespace kiln::test {
namespace {

// MaxPool's ONNX attributes for the geometry `s`.
Attributes pool_attrs(const KilnPool2dShape& s) {
  Attributes at;
  at.set("kernel_shape", Attribute::of_ints({s.KH, s.KW}));
  at.set("strides", Attribute::of_ints({s.stride_h, s.stride_w}));
  at.set("pads", Attribute::of_ints({s.pad_top, s.pad_left, s.pad_bottom, s.pad_right}));
  at.set("dilations", Attribute::of_ints({s.dilation_h, s.dilation_w}));
  return at;
}

TEST(CpuPool, MaxPoolMatchesReference) {
  std::mt19937 rng(31);
  ThreadPool pool(2);
  const KilnPool2dShape shapes[] = {
      {1, 3, 112, 112, 3, 3, 2, 2, 1, 1, 1, 1, 1, 1},  // ResNet stem pool
      {2, 4, 9, 13, 2, 2, 2, 2, 0, 0, 0, 0, 1, 1},
      {1, 2, 10, 11, 3, 2, 1, 1, 1, 0, 2, 1, 2, 1},  // stride 1, dilation, asymmetric pads
      {1, 1, 5, 5, 5, 5, 1, 1, 2, 2, 2, 2, 1, 1},
  };
  for (const KilnPool2dShape& s : shapes) {
    const Tensor x = random_tensor({s.N, s.C, s.H, s.W}, rng);
    const Attributes at = pool_attrs(s);
    const Tensor want = run_op1(OpKind::MaxPool, {&x}, at);
    for (ThreadPool* p : {static_cast<ThreadPool*>(nullptr), &pool}) {
      std::vector<float> y(static_cast<size_t>(want.numel()));
      ASSERT_EQ(s.N * s.C * kiln_pool2d_output_height(&s) * kiln_pool2d_output_width(&s),
                want.numel());
      kiln_max_pool2d(&s, x.data<float>(), y.data(), p);
      expect_all_close(y.data(), want.data<float>(), want.numel(), 0.0, "max pool");
    }
  }
}

// Random windows on every ISA: 3x3 at stride 1 and 2 and 2x2 at stride 2 (the fixed vector
// kernels), and other sizes, strides and dilations (the generic one), on planes narrower and
// wider than a vector, with pads up to the kernel size - 1.
TEST(CpuPool, MaxPoolRandomShapesEveryIsa) {
  std::mt19937 rng(33);
  ThreadPool pool(2);
  auto pick = [&](int64_t lo, int64_t hi) {
    return std::uniform_int_distribution<int64_t>(lo, hi)(rng);
  };
  const int64_t kernels[][2] = {{3, 3}, {3, 3}, {2, 2}, {2, 3}, {4, 4}, {1, 1}};
  for (int i = 0; i < 36; ++i) {
    const int64_t* k = kernels[pick(0, 5)];
    KilnPool2dShape s{};
    s.N = pick(1, 2);
    s.C = pick(1, 3);
    s.KH = k[0];
    s.KW = k[1];
    s.stride_h = s.stride_w = i % 8 == 7 ? 3 : pick(1, 2);
    s.dilation_h = s.dilation_w = i % 6 == 5 ? 2 : 1;
    s.pad_top = pick(0, s.KH - 1);
    s.pad_bottom = pick(0, s.KH - 1);
    s.pad_left = pick(0, s.KW - 1);
    s.pad_right = pick(0, s.KW - 1);
    s.H = pick(s.dilation_h * (s.KH - 1) + 1, 22);
    s.W = pick(s.dilation_w * (s.KW - 1) + 1, i % 2 ? 19 : 80);
    const Tensor x = random_tensor({s.N, s.C, s.H, s.W}, rng);
    const Attributes at = pool_attrs(s);
    const Tensor want = run_op1(OpKind::MaxPool, {&x}, at);
    // A window with no in-bounds tap (dilation can skip every column) is -inf here and
    // lowest() in the reference; op_pool never sends those to kiln_max_pool2d.
    const float* wp = want.data<float>();
    if (std::find(wp, wp + want.numel(), std::numeric_limits<float>::lowest()) != wp + want.numel()) {
      continue;
    }
    const std::string what = "max pool " + x.describe() + " k" + std::to_string(s.KH) +
                             std::to_string(s.KW) + " s" + std::to_string(s.stride_w) + " d" +
                             std::to_string(s.dilation_w);
    for (cpu::Isa isa : supported_isas()) {
      ForceIsa force(isa);
      std::vector<float> one(static_cast<size_t>(want.numel())), two(one.size());
      kiln_max_pool2d(&s, x.data<float>(), one.data(), nullptr);
      kiln_max_pool2d(&s, x.data<float>(), two.data(), &pool);
      expect_all_close(one.data(), want.data<float>(), want.numel(), 0.0,
                       what + " " + cpu::isa_name(isa));
      EXPECT_EQ(one, two) << what;
    }
  }
}

TEST(CpuPool, GlobalAveragePoolMatchesReference) {
  std::mt19937 rng(32);
  ThreadPool pool(2);
  // The last shape is big enough to be split over the pool.
  for (const Dims& d :
       {Dims{2, 5, 7, 7}, Dims{1, 64, 56, 56}, Dims{3, 2, 1, 3}, Dims{2, 70, 43, 45}}) {
    const Tensor x = random_tensor(d, rng);
    const Tensor want = run_op1(OpKind::GlobalAveragePool, {&x});
    std::vector<float> one(static_cast<size_t>(d[0] * d[1])), two(one.size());
    kiln_global_average_pool(d[0], d[1], d[2], d[3], x.data<float>(), one.data(), nullptr);
    kiln_global_average_pool(d[0], d[1], d[2], d[3], x.data<float>(), two.data(), &pool);
    EXPECT_EQ(one, two);
    expect_all_close(one.data(), want.data<float>(), want.numel(), 1e-5, "global average pool");
  }
}

}  // namespace
}  // namespace kiln::test
