// fp16 models on the CPU target: a small CNN and an MLP with a residual Add, converted by
// convert-fp16 and compiled; outputs against the reference interpreter on the same fp16
// graph (the compiled code keeps f32 in registers where the reference rounds each op to fp16,
// so they differ by a few fp16 ulps: rtol 1e-2) and on the original fp32 graph (the fp16
// rounding of inputs, weights and activations: atol 3e-2 on outputs of order 1). The packed
// conv / GEMM weights are stored as fp16, so the artifact's weights take about half the bytes.
#include <gtest/gtest.h>

#include <cmath>
#include <random>

#include "codegen/cpu/run_compiled.h"
#include "codegen/ref/interpreter.h"
#include "ir/infer.h"
#include "passes/pass_manager.h"

namespace kiln::cpu_codegen {
namespace {

Tensor random_tensor(const Dims& dims, std::mt19937& rng, float scale) {
  std::uniform_real_distribution<float> dist(-scale, scale);
  Tensor t(DType::F32, dims);
  for (int64_t i = 0; i < t.numel(); ++i) t.data<float>()[i] = dist(rng);
  return t;
}

ValueType f32_type(const Dims& d) {
  ValueType t;
  t.dtype = DType::F32;
  t.shape = Shape::of(d);
  return t;
}

// x [2,3,10,10] -> Conv 3->8 3x3 + bias -> Relu -> MaxPool 2 -> Reshape [2,128] -> Gemm 128->16
// -> Add(h, MatMul(h, W2 16x16)) -> Relu -> MatMul 16->10 -> LogSoftmax.
void build_cnn(Graph& g) {
  std::mt19937 rng(7);
  Value* x = g.add_value("x", f32_type({2, 3, 10, 10}));
  g.inputs.push_back(x);
  Value* w = g.add_constant("w", random_tensor({8, 3, 3, 3}, rng, 0.4f));
  Value* b = g.add_constant("b", random_tensor({8}, rng, 0.2f));
  Value* c = g.add_value("c");
  g.add_node(OpKind::Conv, {x, w, b}, {c}, {}, "conv", 17);
  Value* r = g.add_value("r");
  g.add_node(OpKind::Relu, {c}, {r}, {}, "relu", 17);
  Attributes pool;
  pool.set("kernel_shape", Attribute::of_ints({2, 2}));
  pool.set("strides", Attribute::of_ints({2, 2}));
  Value* p = g.add_value("p");
  g.add_node(OpKind::MaxPool, {r}, {p}, pool, "pool", 17);
  Value* shape = g.add_constant("shape", Tensor::from_vector<int64_t>({2, 128}, {2}));
  Value* f = g.add_value("f");
  g.add_node(OpKind::Reshape, {p, shape}, {f}, {}, "flat", 17);
  Value* w1 = g.add_constant("w1", random_tensor({16, 128}, rng, 0.15f));
  Value* b1 = g.add_constant("b1", random_tensor({16}, rng, 0.1f));
  Attributes tb;
  tb.set("transB", Attribute::of_int(1));
  Value* h = g.add_value("h");
  g.add_node(OpKind::Gemm, {f, w1, b1}, {h}, tb, "fc1", 17);
  Value* w2 = g.add_constant("w2", random_tensor({16, 16}, rng, 0.3f));
  Value* m = g.add_value("m");
  g.add_node(OpKind::MatMul, {h, w2}, {m}, {}, "fc2", 17);
  Value* s = g.add_value("s");
  g.add_node(OpKind::Add, {h, m}, {s}, {}, "residual", 17);
  Value* sr = g.add_value("sr");
  g.add_node(OpKind::Relu, {s}, {sr}, {}, "relu2", 17);
  Value* w3 = g.add_constant("w3", random_tensor({16, 10}, rng, 0.4f));
  Value* z = g.add_value("z");
  g.add_node(OpKind::MatMul, {sr, w3}, {z}, {}, "fc3", 17);
  Value* y = g.add_value("y");
  g.add_node(OpKind::LogSoftmax, {z}, {y}, {}, "logits", 17);
  g.outputs.push_back(y);
  infer_shapes(g);
}

void expect_close(const Tensor& got, const Tensor& want, double rtol, double atol,
                  const char* what) {
  ASSERT_EQ(got.dims(), want.dims()) << what;
  ASSERT_EQ(got.dtype(), want.dtype()) << what;
  int bad = 0;
  for (int64_t i = 0; i < got.numel() && bad < 5; ++i) {
    const double a = got.as_double(i), b = want.as_double(i);
    if (!(std::fabs(a - b) <= atol + rtol * std::fabs(b))) {
      ADD_FAILURE() << what << "[" << i << "]: " << a << " vs " << b;
      ++bad;
    }
  }
}

TEST(CpuFp16, SmallCnnMatchesReferenceWithHalfTheWeights) {
  std::mt19937 rng(11);
  std::map<std::string, Tensor> in;
  in.emplace("x", random_tensor({2, 3, 10, 10}, rng, 1.0f));

  Graph fp32;
  build_cnn(fp32);
  const auto want32 = Interpreter(fp32).run(in);
  CpuCompileOptions o32;
  const CompiledModel m32 = compile_for_cpu(fp32, o32);

  // The fp16 graph as the reference interpreter runs it (same passes as the compile below).
  const std::vector<std::string> passes = {"fuse-conv-epilogue", "fuse-matmul-epilogue",
                                           "convert-fp16", "dce"};
  Graph half_ref;
  build_cnn(half_ref);
  PassContext pctx;
  run_passes(half_ref, passes, pctx);
  const auto want16 = Interpreter(half_ref).run(in);

  Graph g;
  build_cnn(g);
  CpuCompileOptions o16;
  o16.passes = passes;
  const CompiledModel m16 = compile_for_cpu(g, o16);
  for (int threads : {1, 2}) {
    const auto got = run_compiled(m16, in, threads);
    expect_close(got.at("y"), want16.at("y"), 1e-2, 1e-2, "vs fp16 reference");
    expect_close(got.at("y"), want32.at("y"), 0, 3e-2, "vs fp32 reference");
  }
  // Weights: conv, two GEMMs and the MatMul stored fp16 (biases stay f32 for the epilogue).
  EXPECT_LT(m16.weights.size() * 10, m32.weights.size() * 6)
      << m16.weights.size() << " vs " << m32.weights.size();
  bool reported = false;
  for (const auto& line : m16.report) reported = reported || line.rfind("fp16: ", 0) == 0;
  EXPECT_TRUE(reported);
  // The conv and the GEMMs still run on the packed builtins, not on reference kernels.
  int packed = 0;
  for (const auto& l : m16.meta.launches) packed += l.op == "KilnFusedConv" || l.op == "KilnFusedMatMul" || l.op == "Gemm" || l.op == "MatMul";
  EXPECT_GE(packed, 3);
}

// fp16 model inputs and outputs (--fp16-io): the generated loop loads fp16, adds and clamps in
// f32 and stores fp16, as the reference rounds the fp16 Add (Relu commutes with rounding).
TEST(CpuFp16, GeneratedLoopsReadAndWriteFp16) {
  auto build = [](Graph& g) {
    Value* a = g.add_value("a", f32_type({4, 37}));
    Value* b = g.add_value("b", f32_type({37}));
    g.inputs = {a, b};
    Value* s = g.add_value("s");
    g.add_node(OpKind::Add, {a, b}, {s}, {}, "add", 17);
    Value* y = g.add_value("y");
    g.add_node(OpKind::Relu, {s}, {y}, {}, "relu", 17);
    g.outputs = {y};
    infer_shapes(g);
  };
  std::mt19937 rng(12);
  std::map<std::string, Tensor> in;
  for (const auto& [name, dims] : {std::pair<std::string, Dims>{"a", {4, 37}}, {"b", {37}}}) {
    const Tensor f = random_tensor(dims, rng, 3.0f);
    Tensor h(DType::F16, dims);
    for (int64_t i = 0; i < f.numel(); ++i) h.data<half>()[i] = half(f.data<float>()[i]);
    in.emplace(name, std::move(h));
  }
  Graph ref;
  build(ref);
  PassContext pctx;
  pctx.fp16_keep_io_fp32 = false;
  run_passes(ref, {"convert-fp16"}, pctx);
  const auto want = Interpreter(ref).run(in);
  Graph g;
  build(g);
  CpuCompileOptions o;
  o.passes = {"convert-fp16"};
  o.fp16_io = true;
  const CompiledModel m = compile_for_cpu(g, o);
  ASSERT_EQ(m.meta.inputs.at(0).dtype, DType::F16);
  ASSERT_EQ(m.meta.launches.size(), 1u);
  EXPECT_EQ(m.meta.launches[0].op.rfind("Fused", 0), 0u) << m.meta.launches[0].op;
  const auto got = run_compiled(m, in, 1);
  expect_close(got.at("y"), want.at("y"), 0, 0, "fp16 loop");
}

}  // namespace
}  // namespace kiln::cpu_codegen
