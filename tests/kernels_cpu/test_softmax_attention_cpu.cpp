// The CPU fast paths of Softmax, LayerNormalization and KilnAttention against their reference
// kernels on random shapes, with no pool and with 2 threads. Tolerances: the row kernels use a
// polynomial exp (~2 ulp) and float sums where the reference uses double, so outputs of order
// 1 agree to ~1e-6; the attention products go through SGEMM (blocked, FMA) instead of a plain
// dot loop.
#include "runtime/kernels/cpu/kernel_table.h"
#include "runtime/kernels/cpu/softmax_rows.h"
#include "runtime/threadpool/thread_pool.h"
#include "tests/kernels_cpu/cpu_kernel_test_util.h"

namespace kiln::test {
namespace {

Tensor run_fast(OpKind op, std::vector<const Tensor*> in, const Attributes& at, ThreadPool* pool,
                int opset = 22) {
  OpCall call;
  call.op = op;
  call.opset = opset;
  call.attrs = &at;
  call.inputs = std::move(in);
  call.kernel = cpu_kernel(op);
  call.pool = pool;
  EXPECT_NE(call.kernel, nullptr);
  return evaluate_op(call)[0];
}

TEST(CpuSoftmax, ExpRowIsAccurateAndSaturates) {
  std::vector<float> x, y;
  for (float v = -100.0f; v <= 100.0f; v += 0.37f) x.push_back(v);
  x.push_back(-INFINITY);
  x.push_back(INFINITY);
  y.resize(x.size());
  cpu::exp_row(x.data(), y.data(), static_cast<int64_t>(x.size()));
  for (size_t i = 0; i < x.size(); ++i) {
    const double want = std::exp(static_cast<double>(x[i]));
    if (x[i] < -87.3f) {
      EXPECT_EQ(y[i], 0.0f) << x[i];
    } else if (x[i] > 88.37f) {
      EXPECT_EQ(y[i], INFINITY) << x[i];
    } else {
      EXPECT_NEAR(y[i], want, want * 4e-7) << x[i];
    }
  }
}

TEST(CpuSoftmax, MatchesReferenceOnRandomShapes) {
  std::mt19937 rng(51);
  ThreadPool pool(2);
  for (const Dims& d : {Dims{1, 1}, Dims{3, 17}, Dims{2, 12, 128, 128}, Dims{5, 1000}, Dims{7, 33}}) {
    const Tensor x = random_tensor(d, rng, -8.0f, 8.0f);
    Attributes at;
    const Tensor want = run_op1(OpKind::Softmax, {&x}, at);
    for (ThreadPool* p : {static_cast<ThreadPool*>(nullptr), &pool}) {
      const Tensor got = run_fast(OpKind::Softmax, {&x}, at, p);
      expect_all_close(got.data<float>(), want.data<float>(), want.numel(), 5e-7, "softmax");
    }
  }
  // Opset 11 with axis = rank - 1 is the same rows; another axis falls back to the reference.
  const Tensor x = random_tensor({2, 3, 4}, rng);
  for (int64_t axis : {2, 1}) {
    Attributes at;
    at.set("axis", Attribute::of_int(axis));
    const Tensor want = run_op1(OpKind::Softmax, {&x}, at, 11);
    const Tensor got = run_fast(OpKind::Softmax, {&x}, at, nullptr, 11);
    expect_all_close(got.data<float>(), want.data<float>(), want.numel(), 5e-7, "softmax opset 11");
  }
}

TEST(CpuLayerNorm, MatchesReference) {
  std::mt19937 rng(52);
  ThreadPool pool(2);
  struct Case {
    Dims x, gamma;
    int64_t axis;
    bool bias;
  };
  for (const Case& c : {Case{{2, 128, 768}, {768}, -1, true}, Case{{3, 5, 7}, {5, 7}, 1, true},
                        Case{{4, 9}, {9}, -1, false}, Case{{2, 3, 4}, {1, 4}, 2, true}}) {
    const Tensor x = random_tensor(c.x, rng, -3.0f, 5.0f);
    const Tensor gamma = random_tensor(c.gamma, rng);
    const Tensor beta = random_tensor(c.gamma, rng);
    Attributes at;
    at.set("axis", Attribute::of_int(c.axis));
    std::vector<const Tensor*> in = {&x, &gamma};
    if (c.bias) in.push_back(&beta);
    const Tensor want = run_op1(OpKind::LayerNormalization, in, at);
    for (ThreadPool* p : {static_cast<ThreadPool*>(nullptr), &pool}) {
      const Tensor got = run_fast(OpKind::LayerNormalization, in, at, p);
      expect_all_close(got.data<float>(), want.data<float>(), want.numel(), 2e-5, "layernorm");
    }
  }
}

TEST(CpuAttention, MatchesReference) {
  std::mt19937 rng(53);
  ThreadPool pool(2);
  struct Case {
    Dims q, kt, v, mask;
    float scale;
    int64_t divide;
  };
  for (const Case& c : {Case{{2, 4, 16, 8}, {2, 4, 8, 16}, {2, 4, 16, 8}, {2, 1, 1, 16}, 2.828f, 1},
                        Case{{1, 12, 33, 64}, {1, 12, 64, 33}, {1, 12, 33, 64}, {}, 0.125f, 0},
                        Case{{5, 7}, {7, 9}, {9, 3}, {5, 9}, 0.5f, 0},
                        Case{{3, 6, 4}, {3, 4, 6}, {3, 6, 5}, {6, 1}, 3.0f, 1}}) {
    const Tensor q = random_tensor(c.q, rng), kt = random_tensor(c.kt, rng),
                 v = random_tensor(c.v, rng), mask = random_tensor(c.mask.empty() ? Dims{1} : c.mask, rng, -4.0f, 0.0f);
    Attributes at;
    at.set("scale", Attribute::of_float(c.scale));
    at.set("divide", Attribute::of_int(c.divide));
    std::vector<const Tensor*> in = {&q, &kt, &v};
    if (!c.mask.empty()) in.push_back(&mask);
    const Tensor want = run_op1(OpKind::KilnAttention, in, at);
    for (ThreadPool* p : {static_cast<ThreadPool*>(nullptr), &pool}) {
      const Tensor got = run_fast(OpKind::KilnAttention, in, at, p);
      ASSERT_EQ(got.dims(), want.dims());
      expect_all_close(got.data<float>(), want.data<float>(), want.numel(), 2e-6, "attention");
    }
  }
}

TEST(CpuAttention, BadMaskIsAClearError) {
  const Tensor q2(DType::F32, {2, 3, 4}), kt(DType::F32, {2, 4, 3}), v(DType::F32, {2, 3, 4});
  const Tensor mask(DType::F32, {2, 4, 3});  // scores are [2, 3, 3]
  Attributes at;
  EXPECT_THROW(run_op1(OpKind::KilnAttention, {&q2, &kt, &v, &mask}, at), Error);
}

}  // namespace
}  // namespace kiln::test
