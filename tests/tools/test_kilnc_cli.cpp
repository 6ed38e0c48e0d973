// kilnc as a user runs it: exit codes, one-line errors, outputs written as .npy.
#include <gtest/gtest.h>

#include <fstream>

#include "runtime/io/npy.h"
#include "tests/cli_util.h"
#include "tests/frontend/model_builder.h"

namespace kiln {
namespace {

namespace fs = std::filesystem;

using test::CliResult;

CliResult run_kilnc(const std::string& args) {
  return test::run_command(std::string(KILN_KILNC_PATH) + " " + args);
}

int count_lines(const std::string& s) {
  int n = 0;
  for (char c : s) n += c == '\n';
  return n;
}

TEST(KilncCli, InspectReportsModel) {
  const fs::path dir = test::fresh_dir("cli_inspect");
  test::write_model(test::small_model(), dir / "m.onnx");
  CliResult r = run_kilnc("inspect " + (dir / "m.onnx").string());
  EXPECT_EQ(r.code, 0) << r.out;
  EXPECT_NE(r.out.find("x: f32[2,3]"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("parameters: 6 (24 B)"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("unsupported ops: none"), std::string::npos) << r.out;
}

TEST(KilncCli, InspectListsAllUnsupportedOps) {
  const fs::path dir = test::fresh_dir("cli_unsup");
  onnx::ModelProto m = test::small_model();
  test::add_node(m.mutable_graph(), "FancyOp", {"y"}, {"z"});
  test::add_node(m.mutable_graph(), "OtherOp", {"z"}, {"w2"});
  test::write_model(m, dir / "m.onnx");
  CliResult r = run_kilnc("inspect " + (dir / "m.onnx").string());
  EXPECT_NE(r.out.find("FancyOp (opset 17); OtherOp (opset 17);"), std::string::npos) << r.out;
}

TEST(KilncCli, RunWritesNpyOutputs) {
  const fs::path dir = test::fresh_dir("cli_run");
  test::write_model(test::small_model(), dir / "m.onnx");
  write_npy(dir / "x.npy", Tensor::from_vector<float>({1, 1, 1, 1, 1, 1}, {2, 3}));
  CliResult r = run_kilnc("run " + (dir / "m.onnx").string() + " --input x=" + (dir / "x.npy").string() +
                    " --output-dir " + (dir / "out").string());
  ASSERT_EQ(r.code, 0) << r.out;
  Tensor y = read_npy(dir / "out" / "y.npy");
  EXPECT_EQ(y.to_float_vector(), (std::vector<float>{0, 0, 0.5f, 1.5f, 2.5f, 3.5f}));
}

TEST(KilncCli, BadInputsGiveOneLineErrors) {
  const fs::path dir = test::fresh_dir("cli_bad");
  test::write_model(test::small_model(), dir / "m.onnx");
  write_npy(dir / "wrong.npy", Tensor::from_vector<float>({1, 2, 3}, {3}));
  std::ofstream(dir / "junk.npy") << "not numpy";
  const std::string m = (dir / "m.onnx").string();
  const std::string out = " --output-dir " + (dir / "o").string();
  for (const std::string& args : std::vector<std::string>{
           "run /nonexistent.onnx --input x.npy" + out,
           "run " + m + " --input " + (dir / "wrong.npy").string() + out,
           "run " + m + " --input " + (dir / "junk.npy").string() + out,
           "run " + m + " --input " + (dir / "missing.npy").string() + out,
           "run " + m + out,
           "run " + m + " --input nope=" + (dir / "wrong.npy").string() + out,
           "run " + m + " --input " + (dir / "wrong.npy").string() + " --backend gpu9" + out,
           "inspect " + (dir / "junk.npy").string(),
           "frobnicate",
       }) {
    CliResult r = run_kilnc(args);
    EXPECT_NE(r.code, 0) << args;
    EXPECT_EQ(count_lines(r.out), 1) << args << "\n" << r.out;
    EXPECT_NE(r.out.find("error"), std::string::npos) << args << "\n" << r.out;
  }
}

TEST(KilncCli, ExistingOutputKeptOnFailure) {
  const fs::path dir = test::fresh_dir("cli_keep");
  test::write_model(test::small_model(), dir / "m.onnx");
  fs::create_directories(dir / "o");
  std::ofstream(dir / "o" / "y.npy") << "precious";
  CliResult r = run_kilnc("run " + (dir / "m.onnx").string() + " --input /nonexistent.npy --output-dir " +
                    (dir / "o").string());
  EXPECT_NE(r.code, 0);
  std::ifstream in(dir / "o" / "y.npy");
  std::string s;
  in >> s;
  EXPECT_EQ(s, "precious");
}

}  // namespace
}  // namespace kiln

namespace kiln {
namespace {
TEST(KilncCli, InspectPrintsIrAndDot) {
  const fs::path dir = test::fresh_dir("cli_dot");
  test::write_model(test::small_model(), dir / "m.onnx");
  CliResult r = run_kilnc("inspect " + (dir / "m.onnx").string() + " --print-ir --dot " +
                    (dir / "g.dot").string());
  ASSERT_EQ(r.code, 0) << r.out;
  EXPECT_NE(r.out.find("%s = Add(%x, %w) : f32[2,3]  # add0"), std::string::npos) << r.out;
  std::ifstream dot(dir / "g.dot");
  std::string text((std::istreambuf_iterator<char>(dot)), std::istreambuf_iterator<char>());
  EXPECT_EQ(text.rfind("digraph \"small\" {", 0), 0u) << text;
  EXPECT_NE(text.find("label=\"Relu\\nrelu0\""), std::string::npos) << text;
}
}  // namespace
}  // namespace kiln

namespace kiln {
namespace {
TEST(KilncCli, OptRunsNamedPasses) {
  const fs::path dir = test::fresh_dir("cli_opt");
  onnx::ModelProto m = test::small_model();
  auto* g = m.mutable_graph();
  g->mutable_node(0)->set_input(1, "wneg");  // Add(x, Neg(w)): the Neg folds away
  auto* neg = g->add_node();
  neg->set_op_type("Neg");
  neg->set_name("neg0");
  neg->add_input("w");
  neg->add_output("wneg");
  test::write_model(m, dir / "m.onnx");
  CliResult r = run_kilnc("opt " + (dir / "m.onnx").string() +
                          " --passes=constant-fold,dce --print-after=dce -o " +
                          (dir / "out.onnx").string());
  ASSERT_EQ(r.code, 0) << r.out;
  EXPECT_NE(r.out.find("; nodes: 3 -> 2"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("IR after dce"), std::string::npos) << r.out;
  CliResult back = run_kilnc("inspect " + (dir / "out.onnx").string());
  ASSERT_EQ(back.code, 0) << back.out;
  EXPECT_EQ(back.out.find("Neg"), std::string::npos) << back.out;

  CliResult bad = run_kilnc("opt " + (dir / "m.onnx").string() + " --passes=no-such-pass");
  EXPECT_NE(bad.code, 0);
  EXPECT_EQ(count_lines(bad.out), 1) << bad.out;
  EXPECT_NE(bad.out.find("unknown pass 'no-such-pass'"), std::string::npos) << bad.out;
}
}  // namespace
}  // namespace kiln

namespace kiln {
namespace {

CliResult run_kiln_run(const std::string& args) {
  return test::run_command(std::string(KILN_RUN_PATH) + " " + args);
}

TEST(KilncCli, CompileThenKilnRunMatchesReference) {
  const fs::path dir = test::fresh_dir("cli_compile");
  test::write_model(test::small_model(), dir / "m.onnx");
  write_npy(dir / "x.npy", Tensor::from_vector<float>({1, 1, 1, 1, 1, 1}, {2, 3}));
  CliResult c = run_kilnc("compile " + (dir / "m.onnx").string() + " -o " +
                          (dir / "m.kiln").string() + " -O2 --cpu native");
  ASSERT_EQ(c.code, 0) << c.out;
  EXPECT_NE(c.out.find("launches: 1 (1 generated elementwise)"), std::string::npos) << c.out;
  CliResult r = run_kiln_run((dir / "m.kiln").string() + " --input x=" + (dir / "x.npy").string() +
                             " --output-dir " + (dir / "out").string());
  ASSERT_EQ(r.code, 0) << r.out;
  EXPECT_EQ(read_npy(dir / "out" / "y.npy").to_float_vector(),
            (std::vector<float>{0, 0, 0.5f, 1.5f, 2.5f, 3.5f}));
  // kilnc run --backend cpu compiles in memory and gives the same answer.
  CliResult rc = run_kilnc("run " + (dir / "m.onnx").string() + " --backend cpu --input x=" +
                           (dir / "x.npy").string() + " --output-dir " + (dir / "out2").string());
  ASSERT_EQ(rc.code, 0) << rc.out;
  EXPECT_EQ(read_npy(dir / "out2" / "y.npy").to_float_vector(),
            (std::vector<float>{0, 0, 0.5f, 1.5f, 2.5f, 3.5f}));
}

TEST(KilncCli, CompileBadFlagsGiveOneLineErrors) {
  const fs::path dir = test::fresh_dir("cli_compile_bad");
  test::write_model(test::small_model(), dir / "m.onnx");
  std::ofstream(dir / "keep.kiln") << "precious";
  const std::string m = (dir / "m.onnx").string(), o = " -o " + (dir / "keep.kiln").string();
  for (const std::string& args : std::vector<std::string>{
           "compile " + m,
           "compile " + m + o + " --cpu pentium-9000",
           "compile " + m + o + " --target tpu",
           "compile " + m + o + " --input-shape x=2xbanana",
           "compile " + m + o + " --input-shape x=4x3",
           "compile " + m + o + " --input-shape nope=2x3",
           "compile " + m + o + " --passes=no-such-pass",
           "compile " + m + o + " --bind-input x",
           "compile " + m + o + " --bind-input x=/nonexistent.npy",
           "compile /nonexistent.onnx" + o,
       }) {
    CliResult r = run_kilnc(args);
    EXPECT_NE(r.code, 0) << args;
    EXPECT_EQ(count_lines(r.out), 1) << args << "\n" << r.out;
    EXPECT_NE(r.out.find("error"), std::string::npos) << args << "\n" << r.out;
  }
  std::ifstream in(dir / "keep.kiln");
  std::string s;
  in >> s;
  EXPECT_EQ(s, "precious");  // a failed compile leaves an existing output alone
}

}  // namespace
}  // namespace kiln
