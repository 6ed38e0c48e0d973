// KilnReluGrad: the reference kernel on values chosen by hand (zero passes nothing, as in
// PyTorch), the fast kernel against it on random odd sizes at 1 and 2 threads, and the
// one-line errors for mismatched inputs.
#include <gtest/gtest.h>

#include "tests/kernels/cpu_kernel_test_util.h"

namespace kiln::test {
namespace {

TEST(ReluGradCpu, ReferencePassesGradientWhereOutputIsPositive) {
  const Tensor dy = Tensor::from_vector<float>({1.5f, -2.0f, 3.0f, 4.0f, -5.0f}, {5});
  const Tensor y = Tensor::from_vector<float>({0.5f, 2.0f, 0.0f, -1.0f, 1e-30f}, {5});
  const std::vector<Tensor> out = run_op(OpKind::KilnReluGrad, {&dy, &y}, {}, 1, 17);
  EXPECT_EQ(out.at(0).to_float_vector(), (std::vector<float>{1.5f, -2.0f, 0.0f, 0.0f, -5.0f}));
}

TEST(ReluGradCpu, FastMatchesReference) {
  for (const Dims& d : {Dims{1}, Dims{3, 7, 5}, Dims{2, 64, 13, 11}, Dims{40001}}) {
    const Tensor dy = random_f32(d, 1), y = random_f32(d, 2);
    check_fast_matches_ref("KilnReluGrad", OpKind::KilnReluGrad, {&dy, &y}, {}, 1, 0.0, 0.0);
  }
}

TEST(ReluGradCpu, MismatchedInputsFail) {
  const Tensor dy = random_f32({2, 3}, 1), y = random_f32({3, 2}, 2);
  EXPECT_THROW(run_op(OpKind::KilnReluGrad, {&dy, &y}, {}, 1, 17), Error);
  EXPECT_THROW(run_fast(OpKind::KilnReluGrad, {&dy, &y}, {}, 1, nullptr), Error);
}

}  // namespace
}  // namespace kiln::test
