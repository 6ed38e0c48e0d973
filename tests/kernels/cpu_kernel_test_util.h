// Helpers for the optimized-kernel tests: run an op through the reference kernel and through
// cpu_kernel() on pools of 1 and 2 threads, and check that the fast results are close to the
// reference and bit-identical across thread counts.
#pragma once

#include <gtest/gtest.h>

#include <random>

#include "runtime/kernels/cpu/kernel_table.h"
#include "runtime/threadpool/thread_pool.h"
#include "tests/test_util.h"

namespace kiln::test {

// A 2-D convolution geometry (ONNX Conv attributes) for random-shape kernel tests.
struct ConvGeom {
  int64_t N, C, M, H, W, KH, KW, sh, sw, dh, dw, pt, pl, pb, pr, group;
  int64_t out_h() const { return (H + pt + pb - dh * (KH - 1) - 1) / sh + 1; }
  int64_t out_w() const { return (W + pl + pr - dw * (KW - 1) - 1) / sw + 1; }
  Attributes attrs() const {
    Attributes a;
    a.set("kernel_shape", Attribute::of_ints({KH, KW}));
    a.set("strides", Attribute::of_ints({sh, sw}));
    a.set("dilations", Attribute::of_ints({dh, dw}));
    a.set("pads", Attribute::of_ints({pt, pl, pb, pr}));
    a.set("group", Attribute::of_int(group));
    return a;
  }
};

// Uniform values in [-1, 1) from a fixed seed.
inline Tensor random_f32(Dims dims, uint32_t seed) {
  Tensor t(DType::F32, std::move(dims));
  std::mt19937 gen(seed);
  std::uniform_real_distribution<float> u(-1.0f, 1.0f);
  float* p = t.data<float>();
  for (int64_t i = 0; i < t.numel(); ++i) p[i] = u(gen);
  return t;
}

// The op through cpu_kernel(op) with `pool` (may be null).
inline std::vector<Tensor> run_fast(OpKind op, const std::vector<const Tensor*>& inputs,
                                    const Attributes& attrs, size_t num_outputs, ThreadPool* pool,
                                    int opset = 17) {
  OpCall call;
  call.op = op;
  call.opset = opset;
  call.attrs = &attrs;
  call.inputs = inputs;
  call.num_outputs = num_outputs;
  call.kernel = cpu_kernel(op);
  call.pool = pool;
  return evaluate_op(call);
}

// Fast (1 and 2 threads, and no pool) against the reference: close within rtol/atol, and the
// three fast runs bit-identical. `what` names the case in failure messages.
inline void check_fast_matches_ref(const std::string& what, OpKind op,
                                   const std::vector<const Tensor*>& inputs, const Attributes& attrs,
                                   size_t num_outputs = 1, double rtol = 1e-4, double atol = 1e-5,
                                   int opset = 17) {
  SCOPED_TRACE(what);
  ASSERT_NE(cpu_kernel(op), nullptr);
  static ThreadPool one(1), two(2);
  const std::vector<Tensor> ref = run_op(op, inputs, attrs, num_outputs, opset);
  const std::vector<Tensor> r1 = run_fast(op, inputs, attrs, num_outputs, &one, opset);
  const std::vector<Tensor> r2 = run_fast(op, inputs, attrs, num_outputs, &two, opset);
  const std::vector<Tensor> r0 = run_fast(op, inputs, attrs, num_outputs, nullptr, opset);
  ASSERT_EQ(ref.size(), r1.size());
  for (size_t i = 0; i < ref.size(); ++i) {
    if (!ref[i].defined()) continue;
    expect_close(r1[i], ref[i], rtol, atol);
    EXPECT_TRUE(r1[i].bytes_equal(r2[i])) << "output " << i << ": 1 vs 2 threads";
    EXPECT_TRUE(r1[i].bytes_equal(r0[i])) << "output " << i << ": 1 thread vs no pool";
  }
}

}  // namespace kiln::test
