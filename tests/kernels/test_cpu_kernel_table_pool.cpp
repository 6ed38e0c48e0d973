// The optimized CPU kernels behind cpu_kernel() against the reference kernels: pooling (on
// every ISA) and its gradient, the elementwise ops of training graphs, ReduceSum, and the
// softmax cross-entropy gradient; every case on 1 and 2 threads, which must agree bit for bit.
#include <gtest/gtest.h>

#include "runtime/kernels/cpu/cpu_isa.h"
#include "tests/kernels/cpu_kernel_test_util.h"

namespace kiln::test {
namespace {

Attributes pool_attrs(std::vector<int64_t> k, std::vector<int64_t> s, std::vector<int64_t> pads,
                      std::vector<int64_t> d, int64_t ceil_mode) {
  Attributes a;
  a.set("kernel_shape", Attribute::of_ints(std::move(k)));
  a.set("strides", Attribute::of_ints(std::move(s)));
  a.set("pads", Attribute::of_ints(std::move(pads)));
  a.set("dilations", Attribute::of_ints(std::move(d)));
  a.set("ceil_mode", Attribute::of_int(ceil_mode));
  return a;
}

TEST(CpuKernelTablePool, MaxPoolRandomWindows) {
  std::mt19937 gen(21);
  auto pick = [&](int64_t lo, int64_t hi) {
    return std::uniform_int_distribution<int64_t>(lo, hi)(gen);
  };
  for (int i = 0; i < 40; ++i) {
    const int64_t kh = pick(1, 3), kw = pick(1, 3);
    const Attributes a = pool_attrs({kh, kw}, {pick(1, 3), pick(1, 3)},
                                    {pick(0, kh - 1), pick(0, kw - 1), pick(0, kh - 1), pick(0, kw - 1)},
                                    {pick(1, 2), pick(1, 2)}, pick(0, 1));
    const Tensor x = random_f32({pick(1, 3), pick(1, 4), pick(6, 12), pick(6, 12)}, 900 + i);
    const std::string what = "MaxPool " + std::to_string(i) + " " + x.describe();
    check_fast_matches_ref(what + " Y", OpKind::MaxPool, {&x}, a, 1, 0, 0);
    check_fast_matches_ref(what + " Y+Indices", OpKind::MaxPool, {&x}, a, 2, 0, 0);
  }
  // Ties (Relu outputs are often 0): the first maximum in row-major order wins, as in the
  // reference.
  const Tensor zeros(DType::F32, {2, 3, 8, 8});
  check_fast_matches_ref("MaxPool ties", OpKind::MaxPool, {&zeros},
                         pool_attrs({2, 2}, {1, 1}, {0, 0, 0, 0}, {1, 1}, 0), 2, 0, 0);
}

TEST(CpuKernelTablePool, AveragePoolPadsAndCeilMode) {
  std::mt19937 gen(22);
  auto pick = [&](int64_t lo, int64_t hi) {
    return std::uniform_int_distribution<int64_t>(lo, hi)(gen);
  };
  for (int i = 0; i < 30; ++i) {
    const int64_t kh = pick(1, 3), kw = pick(1, 3);
    Attributes a = pool_attrs({kh, kw}, {pick(1, 2), pick(1, 2)},
                              {pick(0, kh - 1), pick(0, kw - 1), pick(0, kh - 1), pick(0, kw - 1)},
                              {1, 1}, pick(0, 1));
    a.set("count_include_pad", Attribute::of_int(pick(0, 1)));
    const Tensor x = random_f32({pick(1, 3), pick(1, 4), pick(5, 10), pick(5, 10)}, 950 + i);
    check_fast_matches_ref("AveragePool " + std::to_string(i), OpKind::AveragePool, {&x}, a, 1,
                           1e-5, 1e-6);
  }
  const Tensor x = random_f32({3, 5, 7, 6}, 990);
  check_fast_matches_ref("GlobalAveragePool", OpKind::GlobalAveragePool, {&x}, {}, 1, 1e-5, 1e-6);
}

// MaxPool and AveragePool on planes wider than a vector, through every ISA's window kernels:
// the network shapes (3x3 stride 2 pad 1, 3x3 stride 1, 2x2 stride 2) and ceil_mode windows
// that run past the input.
TEST(CpuKernelTablePool, PoolsEveryIsaWidePlanes) {
  struct Case {
    std::vector<int64_t> k, s, pads;
    int64_t ceil_mode;
    Dims x;
  };
  const std::vector<Case> cases = {
      {{3, 3}, {2, 2}, {1, 1, 1, 1}, 0, {1, 3, 45, 67}},
      {{3, 3}, {1, 1}, {1, 1, 1, 1}, 0, {2, 2, 18, 37}},
      {{2, 2}, {2, 2}, {0, 0, 0, 0}, 0, {1, 4, 28, 28}},
      {{3, 3}, {2, 2}, {0, 0, 0, 0}, 1, {1, 2, 20, 35}},
      {{5, 5}, {1, 1}, {2, 2, 2, 2}, 0, {1, 2, 9, 40}},
  };
  for (cpu::Isa isa : {cpu::Isa::Scalar, cpu::Isa::Avx2, cpu::Isa::Avx512}) {
    if (!cpu::isa_supported(isa)) continue;
    cpu::force_isa(isa);
    for (size_t i = 0; i < cases.size(); ++i) {
      const Case& c = cases[i];
      const Tensor x = random_f32(c.x, 700 + static_cast<uint32_t>(i));
      const std::string what = std::string(cpu::isa_name(isa)) + " case " + std::to_string(i);
      const Attributes a = pool_attrs(c.k, c.s, c.pads, {1, 1}, c.ceil_mode);
      check_fast_matches_ref(what + " MaxPool", OpKind::MaxPool, {&x}, a, 1, 0, 0);
      for (int64_t include_pad : {0, 1}) {
        Attributes avg = a;
        avg.set("count_include_pad", Attribute::of_int(include_pad));
        check_fast_matches_ref(what + " AveragePool pad " + std::to_string(include_pad),
                               OpKind::AveragePool, {&x}, avg, 1, 1e-6, 1e-6);
      }
    }
    cpu::reset_isa();
  }
}

TEST(CpuKernelTablePool, MaxPoolGradScattersToArgmax) {
  // Overlapping windows (stride 1): several dY elements add into one dX element.
  for (const Attributes& a : {pool_attrs({2, 2}, {2, 2}, {0, 0, 0, 0}, {1, 1}, 0),
                              pool_attrs({3, 3}, {1, 1}, {1, 1, 1, 1}, {1, 1}, 0)}) {
    const Tensor x = random_f32({3, 4, 10, 9}, 31);
    const std::vector<Tensor> y = run_op(OpKind::MaxPool, {&x}, a, 2);
    const Tensor dy = random_f32(y[0].dims(), 32);
    check_fast_matches_ref("KilnMaxPoolGrad", OpKind::KilnMaxPoolGrad, {&dy, &y[1], &x}, {}, 1,
                           1e-6, 1e-6);
  }
  // Indices that cross planes are legal for the op; the fast kernel hands them to the reference.
  const Tensor x = random_f32({2, 2, 2, 2}, 33);
  const Tensor dy = random_f32({2, 2, 1, 1}, 34);
  const Tensor ind = make<int64_t>({2, 2, 1, 1}, {15, 0, 3, -1});
  check_fast_matches_ref("KilnMaxPoolGrad cross-plane", OpKind::KilnMaxPoolGrad, {&dy, &ind, &x},
                         {}, 1, 0, 0);
  const Tensor bad = make<int64_t>({2, 2, 1, 1}, {0, 99, 1, 2});
  EXPECT_THROW(run_fast(OpKind::KilnMaxPoolGrad, {&dy, &bad, &x}, {}, 1, nullptr), Error);
}

TEST(CpuKernelTablePool, ElementwiseOps) {
  const Tensor a = random_f32({3, 70000}, 41), b = random_f32({3, 70000}, 42);
  const Tensor s = make<float>({}, {0.25f}), s1 = make<float>({1}, {-0.5f});
  for (OpKind op : {OpKind::Add, OpKind::Sub, OpKind::Mul, OpKind::Div, OpKind::Greater}) {
    const std::string name(op_name(op));
    check_fast_matches_ref(name + " same shape", op, {&a, &b}, {}, 1, 0, 0);
    check_fast_matches_ref(name + " scalar right", op, {&a, &s}, {}, 1, 0, 0);
    check_fast_matches_ref(name + " scalar left", op, {&s1, &b}, {}, 1, 0, 0);
  }
  // General broadcasting goes to the reference.
  const Tensor row = random_f32({70000}, 43);
  check_fast_matches_ref("Add broadcast row", OpKind::Add, {&a, &row}, {}, 1, 0, 0);
  check_fast_matches_ref("Relu", OpKind::Relu, {&a}, {}, 1, 0, 0);
  const Tensor zero = make<float>({}, {0.0f});
  const Tensor cond = run_op1(OpKind::Greater, {&a, &zero});
  check_fast_matches_ref("Where(c, x, 0)", OpKind::Where, {&cond, &b, &zero}, {}, 1, 0, 0);
  check_fast_matches_ref("Where(c, 0, y)", OpKind::Where, {&cond, &zero, &b}, {}, 1, 0, 0);
  check_fast_matches_ref("Where(c, x, y)", OpKind::Where, {&cond, &a, &b}, {}, 1, 0, 0);
}

TEST(CpuKernelTablePool, ReduceSumAxes) {
  const Tensor x = random_f32({16, 8, 12, 12}, 51);
  const Tensor m = random_f32({64, 128}, 52);
  struct Case {
    const Tensor* x;
    std::vector<int64_t> axes;
    int64_t keepdims;
  };
  const std::vector<Case> cases = {
      {&x, {0, 2, 3}, 0}, {&x, {0, 2, 3}, 1}, {&x, {-1, -2}, 0}, {&x, {0}, 1},
      {&x, {0, 1}, 0},    {&x, {}, 0},         {&m, {0}, 0},      {&m, {1}, 1},
      {&x, {1, 3}, 0},  // kept axes on both sides of a reduced one: the reference
  };
  for (const Case& c : cases) {
    Attributes a;
    a.set("keepdims", Attribute::of_int(c.keepdims));
    const Tensor axes = Tensor::from_vector<int64_t>(c.axes, {static_cast<int64_t>(c.axes.size())});
    std::vector<const Tensor*> in = {c.x};
    if (!c.axes.empty()) in.push_back(&axes);
    check_fast_matches_ref("ReduceSum " + c.x->describe() + " axes " + axes.describe(),
                           OpKind::ReduceSum, in, a, 1, 1e-5, 1e-4);
  }
  // Opset 11: axes as an attribute.
  Attributes a11;
  a11.set("axes", Attribute::of_ints({0, 2, 3}));
  a11.set("keepdims", Attribute::of_int(0));
  check_fast_matches_ref("ReduceSum opset 11", OpKind::ReduceSum, {&x}, a11, 1, 1e-5, 1e-4, 11);
}

TEST(CpuKernelTablePool, SoftmaxCrossEntropyGrad) {
  const Tensor scores = random_f32({37, 10}, 61);
  std::vector<int64_t> labels;
  for (int64_t i = 0; i < 37; ++i) labels.push_back((i * 7) % 10);
  labels[5] = -100;
  const Tensor t = Tensor::from_vector<int64_t>(labels, {37});
  const Tensor one = make<float>({}, {1.5f});
  const Tensor per_row = random_f32({37}, 62);
  for (const char* reduction : {"mean", "sum", "none"}) {
    Attributes a;
    a.set("reduction", Attribute::of_string(reduction));
    a.set("ignore_index", Attribute::of_int(-100));
    const Tensor& dl = std::string(reduction) == "none" ? per_row : one;
    check_fast_matches_ref(std::string("KilnSoftmaxCrossEntropyGrad ") + reduction,
                           OpKind::KilnSoftmaxCrossEntropyGrad, {&dl, &scores, &t}, a, 1, 0, 0);
  }
  const Tensor bad = make<int64_t>({2}, {0, 10});
  const Tensor s2 = random_f32({2, 10}, 63);
  EXPECT_THROW(run_fast(OpKind::KilnSoftmaxCrossEntropyGrad, {&one, &s2, &bad}, {}, 1, nullptr),
               Error);
}

}  // namespace
}  // namespace kiln::test
