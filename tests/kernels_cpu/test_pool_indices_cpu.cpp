// MaxPool with Indices (training's forward) on the 2x2 stride-2 fast path against the reference:
// odd sizes (the last row / column dropped by floor rounding), many ties (values on a coarse
// grid: the first maximum in row-major order must win), at 1 and 2 threads; and a geometry the
// fast path declines.
#include <gtest/gtest.h>

#include <cmath>

#include "runtime/kernels/cpu/pool_indices.h"
#include "tests/kernels/cpu_kernel_test_util.h"

namespace kiln::test {
namespace {

Attributes pool2x2() {
  Attributes a;
  a.set("kernel_shape", Attribute::of_ints({2, 2}));
  a.set("strides", Attribute::of_ints({2, 2}));
  return a;
}

TEST(PoolIndicesCpu, TwoByTwoMatchesReferenceWithTies) {
  for (const Dims& d : {Dims{1, 1, 2, 2}, Dims{2, 3, 7, 9}, Dims{3, 5, 24, 24}, Dims{1, 2, 5, 4}}) {
    Tensor x = random_f32(d, 7);
    float* p = x.data<float>();
    for (int64_t i = 0; i < x.numel(); ++i) p[i] = std::round(p[i] * 2.0f) / 2.0f;  // 5 levels: ties
    check_fast_matches_ref("MaxPool 2x2 " + dims_to_string(d), OpKind::MaxPool, {&x}, pool2x2(), 2,
                           0.0, 0.0, 12);
  }
}

TEST(PoolIndicesCpu, DeclinesOtherGeometries) {
  float x[9] = {}, y[4] = {};
  int64_t ind[4] = {};
  // 3x3 input, 2x2 window, stride 1: not the fast path's geometry.
  EXPECT_FALSE(cpu::max_pool_2x2_with_indices({1, 3, 3, 2, 2, 2, 2, 1, 1, 1, 1, 0, 0}, x, y, ind, nullptr));
  // Padding: also declined.
  EXPECT_FALSE(cpu::max_pool_2x2_with_indices({1, 3, 3, 2, 2, 2, 2, 2, 2, 1, 1, 1, 1}, x, y, ind, nullptr));
  // A padded 2x2 pool still matches the reference through the generic loop.
  Attributes a = pool2x2();
  a.set("pads", Attribute::of_ints({1, 1, 1, 1}));
  const Tensor t = random_f32({2, 3, 5, 6}, 3);
  check_fast_matches_ref("MaxPool 2x2 padded", OpKind::MaxPool, {&t}, a, 2, 0.0, 0.0, 12);
}

}  // namespace
}  // namespace kiln::test
