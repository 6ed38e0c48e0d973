// int8 models on the CPU target: quantize-int8 (static) and quantize-int8-dynamic compiled to the
// int8 builtins and run through the runtime, against the reference interpreter on the same
// quantized graph (the same exact integer sums; the f32 epilogue may round differently only in
// the last bit: rtol 1e-5) at 1 and 2 threads.
#include <gtest/gtest.h>

#include "codegen/cpu/run_compiled.h"
#include "codegen/ref/interpreter.h"
#include "passes/pass_manager.h"
#include "tests/passes/quantize_test_util.h"

namespace kiln::cpu_codegen {
namespace {

using test::uniform;

void expect_close(const Tensor& got, const Tensor& want, double rtol, double atol) {
  ASSERT_EQ(got.dims(), want.dims());
  int bad = 0;
  for (int64_t i = 0; i < got.numel() && bad < 5; ++i) {
    const double a = got.as_double(i), b = want.as_double(i);
    if (!(std::fabs(a - b) <= atol + rtol * std::fabs(b))) {
      ADD_FAILURE() << "[" << i << "]: " << a << " vs " << b;
      ++bad;
    }
  }
}

bool reported(const CompiledModel& m, const std::string& what) {
  for (const auto& line : m.report)
    if (line.find(what) != std::string::npos) return true;
  return false;
}

TEST(CpuInt8, StaticCnnRunsOnInt8Builtins) {
  const auto dir = test::calib_dir("cpu_static", {8, 10, 10}, 1, 4);
  const std::vector<std::string> fuse = {"fuse-conv-epilogue", "fuse-matmul-epilogue"};
  Graph ref;
  test::build_small_cnn(ref);
  PassContext pctx;
  pctx.calib_data_dir = dir.string();
  std::vector<std::string> all = fuse;
  all.push_back("quantize-int8");
  run_passes(ref, all, pctx);
  std::mt19937 rng(5);
  std::map<std::string, Tensor> in;
  in.emplace("x", uniform({2, 8, 10, 10}, rng, -1.0f, 1.0f));
  const auto want = Interpreter(ref).run(in);

  Graph g;
  test::build_small_cnn(g);
  CpuCompileOptions o;
  o.passes = fuse;
  o.extra_passes = {"quantize-int8"};
  o.calib_data_dir = dir.string();
  const CompiledModel m = compile_for_cpu(g, o);
  EXPECT_TRUE(reported(m, "1 int8 conv2d")) << m.report.at(1);
  EXPECT_TRUE(reported(m, "1 int8 gemm (packed B)")) << m.report.at(1);
  for (int threads : {1, 2}) expect_close(run_compiled(m, in, threads).at("y"), want.at("y"), 1e-5, 1e-6);
}

// u8 between int8 convolutions (p, a, s of build_linked_cnn; s read by the 3x3 depthwise D)
// and a u8 residual: the extended qconv2d builtin, against the reference interpreter on the
// same quantized graph.
TEST(CpuInt8, U8LinksRunOnInt8Builtins) {
  const auto dir = test::calib_dir("cpu_links", {16, 8, 8}, 1, 4);
  const std::vector<std::string> passes = {"fuse-conv-epilogue", "quantize-int8"};
  Graph ref;
  test::build_linked_cnn(ref);
  PassContext pctx;
  pctx.calib_data_dir = dir.string();
  run_passes(ref, passes, pctx);
  std::mt19937 rng(9);
  std::map<std::string, Tensor> in;
  in.emplace("x", uniform({1, 16, 8, 8}, rng, -1.0f, 1.0f));
  const auto want = Interpreter(ref).run(in);
  Graph g;
  test::build_linked_cnn(g);
  CpuCompileOptions o;
  o.passes = {"fuse-conv-epilogue"};
  o.extra_passes = {"quantize-int8"};
  o.calib_data_dir = dir.string();
  const CompiledModel m = compile_for_cpu(g, o);
  EXPECT_TRUE(reported(m, "5 int8 conv2d")) << m.report.at(1);
  EXPECT_FALSE(reported(m, "KilnQConv")) << "no int8 conv on the runtime's op path";
  for (int threads : {1, 2}) {
    const auto got = run_compiled(m, in, threads);
    expect_close(got.at("D_out"), want.at("D_out"), 1e-5, 1e-6);
    expect_close(got.at("N_out"), want.at("N_out"), 1e-5, 1e-6);
    expect_close(got.at("M_out"), want.at("M_out"), 1e-5, 1e-6);
  }
}

TEST(CpuInt8, DynamicMlpWithResidual) {
  auto build = [](Graph& g) {
    std::mt19937 rng(6);
    Value* x = g.add_value("x", test::f32_of({5, 48}));
    g.inputs = {x};
    Value* w1 = g.add_constant("w1", uniform({48, 40}, rng, -0.3f, 0.3f));
    Value* b1 = g.add_constant("b1", uniform({40}, rng, -0.1f, 0.1f));
    Value* h = g.add_value("h");
    g.add_node(OpKind::Gemm, {x, w1, b1}, {h}, {}, "fc1", 17);
    Value* w2 = g.add_constant("w2", uniform({40, 40}, rng, -0.3f, 0.3f));
    Value* m = g.add_value("m");
    g.add_node(OpKind::MatMul, {h, w2}, {m}, {}, "fc2", 17);
    Value* s = g.add_value("s");
    g.add_node(OpKind::Add, {m, h}, {s}, {}, "res", 17);
    Value* y = g.add_value("y");
    g.add_node(OpKind::Tanh, {s}, {y}, {}, "act", 17);
    g.outputs = {y};
    infer_shapes(g);
  };
  const std::vector<std::string> passes = {"fuse-matmul-epilogue", "quantize-int8-dynamic"};
  Graph ref;
  build(ref);
  PassContext pctx;
  run_passes(ref, passes, pctx);
  std::mt19937 rng(7);
  std::map<std::string, Tensor> in;
  in.emplace("x", uniform({5, 48}, rng, -2.0f, 1.0f));
  const auto want = Interpreter(ref).run(in);
  Graph g;
  build(g);
  CpuCompileOptions o;
  o.passes = passes;
  const CompiledModel m = compile_for_cpu(g, o);
  EXPECT_TRUE(reported(m, "2 int8 gemm (packed B)")) << m.report.at(1);
  for (int threads : {1, 2}) expect_close(run_compiled(m, in, threads).at("y"), want.at("y"), 1e-5, 1e-6);
}

}  // namespace
}  // namespace kiln::cpu_codegen
