// KilnConvGradWeight's fast paths against the reference kernel on every ISA level this CPU has
// (AVX-512: dot products over output pixels, conv_grad_weight.h; below it: im2col + SGEMM), on
// random shapes with strides, pads, dilations and groups and pixel counts that leave a masked
// tail, at 1 and 2 threads (bit-identical).
#include <gtest/gtest.h>

#include "runtime/kernels/cpu/conv_grad_weight.h"
#include "tests/kernels/cpu_kernel_test_util.h"
#include "tests/kernels_cpu/cpu_kernel_test_util.h"

namespace kiln::test {
namespace {

using GradCase = ConvGeom;

GradCase random_case(std::mt19937& gen) {
  auto pick = [&](int64_t lo, int64_t hi) { return std::uniform_int_distribution<int64_t>(lo, hi)(gen); };
  for (;;) {
    GradCase c{};
    c.group = pick(1, 3);
    c.C = c.group * pick(1, 5);
    c.M = c.group * pick(1, 9);  // 4-row tiles with a partial last one
    c.N = pick(1, 5);            // odd counts leave a one-image block
    c.H = pick(3, 13), c.W = pick(3, 21);
    c.KH = pick(1, 3), c.KW = pick(1, 4);
    c.sh = pick(1, 2), c.sw = pick(1, 2);
    c.dh = pick(1, 2), c.dw = pick(1, 2);
    c.pt = pick(0, 2), c.pl = pick(0, 2), c.pb = pick(0, 2), c.pr = pick(0, 2);
    if (c.H + c.pt + c.pb >= c.dh * (c.KH - 1) + 1 && c.W + c.pl + c.pr >= c.dw * (c.KW - 1) + 1) {
      return c;
    }
  }
}

TEST(ConvGradWeightCpu, RandomShapesEveryIsa) {
  for (cpu::Isa isa : supported_isas()) {
    ForceIsa force(isa);
    std::mt19937 gen(29);
    for (int i = 0; i < 30; ++i) {
      const GradCase c = random_case(gen);
      const Tensor x = random_f32({c.N, c.C, c.H, c.W}, 100 + i);
      const Tensor dy = random_f32({c.N, c.M, c.out_h(), c.out_w()}, 200 + i);
      check_fast_matches_ref(std::string(cpu::isa_name(isa)) + " case " + std::to_string(i),
                             OpKind::KilnConvGradWeight, {&x, &dy}, c.attrs(), 1, 1e-4, 2e-4);
    }
  }
}

// The MNIST CNN's two weight gradients (676 pixels: a masked tail; 576: none), and a batch
// split over more image blocks than one.
TEST(ConvGradWeightCpu, CnnShapesEveryIsa) {
  Attributes k3;
  k3.set("kernel_shape", Attribute::of_ints({3, 3}));
  const Tensor x1 = random_f32({7, 1, 28, 28}, 1), dy1 = random_f32({7, 32, 26, 26}, 2);
  const Tensor x2 = random_f32({3, 32, 26, 26}, 3), dy2 = random_f32({3, 64, 24, 24}, 4);
  for (cpu::Isa isa : supported_isas()) {
    ForceIsa force(isa);
    check_fast_matches_ref(std::string("conv1 ") + cpu::isa_name(isa), OpKind::KilnConvGradWeight,
                           {&x1, &dy1}, k3, 1, 1e-4, 2e-4);
    check_fast_matches_ref(std::string("conv2 ") + cpu::isa_name(isa), OpKind::KilnConvGradWeight,
                           {&x2, &dy2}, k3, 1, 1e-4, 2e-4);
  }
}

TEST(ConvGradWeightCpu, DotPathOnlyOnAvx512) {
  for (cpu::Isa isa : supported_isas()) {
    ForceIsa force(isa);
    EXPECT_EQ(cpu::conv_grad_weight_dot_available(), isa == cpu::Isa::Avx512) << cpu::isa_name(isa);
  }
}

}  // namespace
}  // namespace kiln::test
