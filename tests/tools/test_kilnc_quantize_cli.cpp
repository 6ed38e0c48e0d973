// kilnc compile --quantize / --calib-data / --calib-method as a user runs them: the report line
// per pass and one-line errors for bad flags and bad calibration folders.
#include <gtest/gtest.h>

#include "runtime/io/npy.h"
#include "tests/cli_util.h"
#include "tests/frontend/model_builder.h"

namespace kiln {
namespace {

namespace fs = std::filesystem;

// y = MatMul(x, w), x: f32[2,3], w: initializer f32[3,3].
onnx::ModelProto matmul_model() {
  onnx::ModelProto m = test::small_model();
  auto* g = m.mutable_graph();
  g->clear_node();
  auto* w = g->mutable_initializer(0);
  w->clear_dims();
  w->add_dims(3);
  w->add_dims(3);
  w->clear_float_data();
  for (int i = 0; i < 9; ++i) w->add_float_data(static_cast<float>(i % 4) - 1.5f);
  test::add_node(g, "MatMul", {"x", "w"}, {"y"}, "mm");
  return m;
}

test::CliResult compile(const fs::path& dir, const std::string& flags) {
  return test::run_command(std::string(KILN_KILNC_PATH) + " compile " + (dir / "m.onnx").string() +
                           " -o " + (dir / "m.kiln").string() + " " + flags);
}

TEST(KilncQuantizeCli, ReportsQuantizedNodes) {
  const fs::path dir = test::fresh_dir("cli_quant");
  test::write_model(matmul_model(), dir / "m.onnx");
  fs::create_directories(dir / "calib");
  write_npy(dir / "calib" / "x.npy",
            Tensor::from_vector<float>({1, -2, 3, 0.5f, 0, -1, 2, 2, -3, 1, 1, 0}, {4, 3}));
  test::CliResult r = compile(dir, "--quantize int8 --calib-data " + (dir / "calib").string() +
                                       " --calib-method percentile");
  ASSERT_EQ(r.code, 0) << r.out;
  EXPECT_NE(r.out.find("pass quantize-int8: calibrated 1 activations on 4 samples (2 runs, "
                       "percentile)"),
            std::string::npos)
      << r.out;
  EXPECT_NE(r.out.find("pass quantize-int8: 1 nodes quantized to int8 (MatMul x1)"),
            std::string::npos)
      << r.out;
  EXPECT_NE(r.out.find("1 int8 gemm (packed B)"), std::string::npos) << r.out;
  r = compile(dir, "--quantize int8-dynamic");
  ASSERT_EQ(r.code, 0) << r.out;
  EXPECT_NE(r.out.find("pass quantize-int8-dynamic: 1 nodes quantized to dynamic int8"),
            std::string::npos)
      << r.out;
}

TEST(KilncQuantizeCli, BadFlagsAndDataGiveOneLineErrors) {
  const fs::path dir = test::fresh_dir("cli_quant_bad");
  test::write_model(matmul_model(), dir / "m.onnx");
  fs::create_directories(dir / "empty");
  fs::create_directories(dir / "other");
  write_npy(dir / "other" / "x.npy", Tensor::from_vector<float>({1, 2, 3, 4}, {2, 2}));
  for (const auto& [flags, want] : std::vector<std::pair<std::string, std::string>>{
           {"--quantize int4", "--quantize: 'int4' is not one of fp16, int8, int8-dynamic"},
           {"--quantize int8 --calib-method mean", "'mean' is not one of minmax, percentile"},
           {"--quantize int8", "quantize-int8 needs calibration data"},
           {"--quantize int8 --calib-data " + (dir / "empty").string(), "no .npy files"},
           {"--quantize int8 --calib-data " + (dir / "other").string(),
            "'x.npy' is f32 [2x2] but input 'x' is f32 [2x3]"},
           // Pass settings without their pass are refused, not ignored.
           {"--calib-data " + (dir / "other").string(), "--calib-data needs --quantize int8"},
           {"--quantize int8-dynamic --calib-data " + (dir / "other").string(),
            "--calib-data needs --quantize int8"},
           {"--fp16-block=Softmax", "--fp16-block needs --quantize fp16"},
           {"--fp16-io", "--fp16-io needs --quantize fp16"},
       }) {
    const test::CliResult r = compile(dir, flags);
    EXPECT_NE(r.code, 0) << flags;
    EXPECT_NE(r.out.find(want), std::string::npos) << flags << "\n" << r.out;
    EXPECT_EQ(std::count(r.out.begin(), r.out.end(), '\n'), 1) << flags << "\n" << r.out;
  }
}

}  // namespace
}  // namespace kiln
