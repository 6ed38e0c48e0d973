// kiln_max_pool2d and kiln_global_average_pool against the reference MaxPool and
// GlobalAveragePool kernels, with 1 and 2 threads.
#include "runtime/kernels/cpu/pool.h"
#include "runtime/threadpool/thread_pool.h"
#include "tests/kernels_cpu/cpu_kernel_test_util.h"

namespace kiln::test {
namespace {

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
    Attributes at;
    at.set("kernel_shape", Attribute::of_ints({s.KH, s.KW}));
    at.set("strides", Attribute::of_ints({s.stride_h, s.stride_w}));
    at.set("pads", Attribute::of_ints({s.pad_top, s.pad_left, s.pad_bottom, s.pad_right}));
    at.set("dilations", Attribute::of_ints({s.dilation_h, s.dilation_w}));
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

TEST(CpuPool, GlobalAveragePoolMatchesReference) {
  std::mt19937 rng(32);
  ThreadPool pool(2);
  for (const Dims& d : {Dims{2, 5, 7, 7}, Dims{1, 64, 56, 56}, Dims{3, 2, 1, 3}}) {
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
