// compile_for_opencl end to end: the -O pipeline, the artifact meta (target, profile, code
// format, launch params, host fallbacks and the report naming them), an embedded program binary,
// and the compiled graph's results on OpenCL against the reference interpreter.
#ifdef KILN_HAVE_OPENCL_CODEGEN
#include <filesystem>
#include <fstream>

#include "tests/gpu/gpu_test_util.h"

namespace kiln::gpu_test {
namespace {

// conv -> relu -> global pool -> flatten -> gemm -> topk (TopK has no family: host fallback).
void small_net(Graph& g, std::map<std::string, Tensor>& d) {
  Value* x = input(g, d, "x", random_f32({2, 3, 8, 8}, 71));
  auto v = [&](const char* n) { return g.add_value(n); };
  Value *c = v("c"), *r = v("r"), *p = v("p"), *f = v("f"), *y = v("y"), *tv = v("tv"),
        *ti = v("ti");
  g.add_node(OpKind::Conv, {x, g.add_constant("w", random_f32({4, 3, 3, 3}, 72)),
                            g.add_constant("b", random_f32({4}, 73))},
             {c}, attrs({{"pads", Attribute::of_ints({1, 1, 1, 1})}}), "conv", 13);
  g.add_node(OpKind::Relu, {c}, {r}, {}, "relu", 13);
  g.add_node(OpKind::GlobalAveragePool, {r}, {p}, {}, "gap", 13);
  g.add_node(OpKind::Flatten, {p}, {f}, {}, "flatten", 13);
  g.add_node(OpKind::Gemm, {f, g.add_constant("gw", random_f32({4, 5}, 74))}, {y}, {}, "fc", 13);
  g.add_node(OpKind::TopK, {y, g.add_constant("k", Tensor::from_vector<int64_t>({2}, {1}))},
             {tv, ti}, {}, "topk", 11);
  g.outputs = {y, tv, ti};
}

TEST(OpenClCompiler, MetaLaunchesAndFallbackReport) {
  Graph g;
  std::map<std::string, Tensor> data;
  small_net(g, data);
  infer_shapes(g);
  opencl_codegen::OpenClCompileOptions o;
  const cpu_codegen::CompiledModel m = opencl_codegen::compile_for_opencl(g, o);
  EXPECT_EQ(m.meta.target_triple, "opencl");
  EXPECT_EQ(m.meta.cpu_name, "gpu");
  EXPECT_EQ(m.meta.cpu_features, 0u);
  EXPECT_EQ(m.meta.code_format, artifact::CodeFormat::OpenClSource);
  EXPECT_GE(m.meta.arena_bytes, 1u);
  const std::string src(m.code.begin(), m.code.end());
  int device = 0, host = 0;
  for (const auto& l : m.meta.launches) {
    if (l.symbol == "kiln_host_op") {
      ++host;
      EXPECT_EQ(l.op, "TopK");
      EXPECT_TRUE(l.params.empty());
      EXPECT_EQ(l.args.at(0).kind, artifact::BufferKind::Weights);
      EXPECT_EQ(l.args.size(), 1u + 2u + 2u);
    } else {
      ++device;
      EXPECT_NE(src.find("__kernel void " + l.symbol + "("), std::string::npos) << l.symbol;
      ASSERT_EQ(l.params.size(), 6u);
      EXPECT_GT(l.params[0], 0);
    }
  }
  EXPECT_EQ(host, 1);
  EXPECT_GE(device, 3);  // conv (+relu fused by the -O2 pipeline), pool, gemm; flatten is a view
  std::string report;
  for (const auto& line : m.report) report += line + "\n";
  EXPECT_NE(report.find("1 host fallback"), std::string::npos) << report;
  EXPECT_NE(report.find("host fallback ops: TopK x1"), std::string::npos) << report;
}

TEST(OpenClCompiler, CompiledGraphMatchesReferenceInBothProfiles) {
  KILN_REQUIRE_OPENCL(cl);
  for (bool fpga : {false, true}) {
    SCOPED_TRACE(fpga ? "fpga" : "gpu");
    std::map<std::string, Tensor> data;
    Graph ref;
    small_net(ref, data);
    infer_shapes(ref);
    const auto want = Interpreter(ref).run(data);
    Graph g;
    std::map<std::string, Tensor> unused;
    small_net(g, unused);
    infer_shapes(g);
    opencl_codegen::OpenClCompileOptions o;
    o.fpga = fpga;
    const cpu_codegen::CompiledModel m = opencl_codegen::compile_for_opencl(g, o);
    EXPECT_EQ(m.meta.cpu_name, fpga ? "fpga" : "gpu");
    if (fpga) {
      const std::string src(m.code.begin(), m.code.end());
      EXPECT_NE(src.find("reqd_work_group_size(1, 1, 1)"), std::string::npos);
      for (const auto& l : m.meta.launches) {
        if (l.symbol != "kiln_host_op") {
          EXPECT_EQ(l.params, (std::vector<int64_t>{1, 1, 1, 1, 1, 1}));
        }
      }
    }
    expect_close(cl->run(m, data), want, 1e-4f, 1e-4f);
  }
}

TEST(OpenClCompiler, EmbedsAnOfflineBinaryAndRejectsAMissingOne) {
  const std::string path =
      (std::filesystem::temp_directory_path() / "kiln_test_opencl_binary.bin").string();
  {
    std::ofstream f(path, std::ios::binary);
    f << "not really a binary";
  }
  auto compile = [&](const std::string& p) {
    Graph g;
    std::map<std::string, Tensor> data;
    small_net(g, data);
    infer_shapes(g);
    opencl_codegen::OpenClCompileOptions o;
    o.fpga = true;
    o.binary_path = p;
    return opencl_codegen::compile_for_opencl(g, o);
  };
  const cpu_codegen::CompiledModel m = compile(path);
  EXPECT_EQ(m.meta.code_format, artifact::CodeFormat::OpenClBinary);
  EXPECT_EQ(std::string(m.code.begin(), m.code.end()), "not really a binary");
  std::filesystem::remove(path);
  try {
    compile(path);
    ADD_FAILURE() << "a missing binary compiled";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("--opencl-binary: cannot open"), std::string::npos);
  }
}

TEST(OpenClCompiler, UnboundSymbolicInputFailsWithHint) {
  Graph g;
  ValueType t;
  t.dtype = DType::F32;
  t.shape.rank_known = true;
  t.shape.dims = {Dim::sym("N"), Dim::of(3)};
  Value* x = g.add_value("x", t);
  Value* y = g.add_value("y");
  g.add_node(OpKind::Relu, {x}, {y}, {}, "relu", 13);
  g.inputs = {x};
  g.outputs = {y};
  infer_shapes(g);
  try {
    opencl_codegen::compile_for_opencl(g, {});
    ADD_FAILURE() << "compiled with a symbolic input";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("--input-shape x="), std::string::npos) << e.what();
  }
}

}  // namespace
}  // namespace kiln::gpu_test
#endif  // KILN_HAVE_OPENCL_CODEGEN
