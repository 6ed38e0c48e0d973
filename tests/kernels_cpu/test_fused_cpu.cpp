// KilnFusedConv / KilnFusedMatMul on the optimized kernels (runtime/kernels/cpu/op_fused.cpp)
// against their reference kernels: the conv / product differs by float summation order only.
#include <gtest/gtest.h>

#include "runtime/kernels/cpu/kernel_table.h"
#include "runtime/kernels/ref/evaluate.h"
#include "runtime/threadpool/thread_pool.h"
#include "tests/kernels_cpu/cpu_kernel_test_util.h"

namespace kiln::test {
namespace {

Tensor run(OpKind op, const Attributes& attrs, std::vector<const Tensor*> in, bool fast,
           ThreadPool* pool) {
  OpCall call;
  call.op = op;
  call.opset = 17;
  call.attrs = &attrs;
  call.node_name = "fused";
  call.inputs = std::move(in);
  call.kernel = fast ? cpu_kernel(op) : nullptr;
  call.pool = pool;
  return evaluate_op(call).at(0);
}

TEST(FusedCpu, ConvAndMatMulMatchTheReference) {
  ASSERT_NE(cpu_kernel(OpKind::KilnFusedConv), nullptr);
  ASSERT_NE(cpu_kernel(OpKind::KilnFusedMatMul), nullptr);
  std::mt19937 rng(9);
  ThreadPool pool(2);
  const Tensor x = random_tensor({2, 3, 9, 9}, rng), w = random_tensor({5, 3, 3, 3}, rng);
  const Tensor b = random_tensor({5}, rng), z = random_tensor({2, 5, 9, 9}, rng);
  Attributes ca;
  ca.set("pads", Attribute::of_ints({1, 1, 1, 1}));
  ca.set("activation", Attribute::of_string("LeakyRelu"));
  const Tensor want = run(OpKind::KilnFusedConv, ca, {&x, &w, &b, &z}, false, nullptr);
  const Tensor got = run(OpKind::KilnFusedConv, ca, {&x, &w, &b, &z}, true, &pool);
  expect_all_close(got.data<float>(), want.data<float>(), want.numel(), 1e-5, "KilnFusedConv");

  const Tensor a = random_tensor({7, 12}, rng), bt = random_tensor({6, 12}, rng);
  const Tensor bias = random_tensor({6}, rng);
  Attributes ma;
  ma.set("trans_b", Attribute::of_int(1));
  ma.set("activation", Attribute::of_string("Relu"));
  const Tensor want2 = run(OpKind::KilnFusedMatMul, ma, {&a, &bt, &bias}, false, nullptr);
  const Tensor got2 = run(OpKind::KilnFusedMatMul, ma, {&a, &bt, &bias}, true, &pool);
  expect_all_close(got2.data<float>(), want2.data<float>(), want2.numel(), 1e-5,
                   "KilnFusedMatMul");
}

}  // namespace
}  // namespace kiln::test
