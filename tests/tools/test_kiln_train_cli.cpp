// The main job end to end on a small synthetic set: kiln-train trains and exports, kilnc
// compiles the export, and kiln-train --evaluate gives the same accuracy for the ONNX model
// (reference backend) and the compiled one (runtime; the last batch is padded).
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <regex>

#include "tests/cli_util.h"
#include "tests/train/synthetic_mnist.h"

namespace kiln {
namespace {

namespace fs = std::filesystem;

std::string run_cmd(const std::string& cmd, int* code) {
  const test::CliResult r = test::run_command(cmd);
  *code = r.code;
  return r.out;
}

std::string accuracy_of(const std::string& out) {
  std::smatch m;
  EXPECT_TRUE(std::regex_search(out, m, std::regex("accuracy=([0-9.]+)%"))) << out;
  return m.size() > 1 ? m[1].str() : "";
}

TEST(KilnTrainCli, TrainExportCompileEvaluate) {
  const fs::path dir = fs::temp_directory_path() / ("kiln_test_main_job_" + std::to_string(getpid()));
  fs::remove_all(dir);
  fs::create_directories(dir);
  test::write_synthetic(dir, "train", 256, 1);
  test::write_synthetic(dir, "t10k", 50, 2);  // 50 = 6 batches of 8 and a padded one of 2
  const std::string train = KILN_TRAIN_PATH, kilnc = KILN_KILNC_PATH;
  int code = 0;
  std::string out = run_cmd(train + " --data " + dir.string() + " --model mlp --epochs 1 " +
                                "--checkpoint-dir none --no-progress --export " +
                                (dir / "m.onnx").string(),
                            &code);
  ASSERT_EQ(code, 0) << out;
  out = run_cmd(kilnc + " compile " + (dir / "m.onnx").string() + " -o " + (dir / "m.kiln").string() +
                    " --input-shape input=8x1x28x28 -q",
                &code);
  ASSERT_EQ(code, 0) << out;
  const std::string onnx_eval =
      run_cmd(train + " --data " + dir.string() + " --evaluate " + (dir / "m.onnx").string(), &code);
  ASSERT_EQ(code, 0) << onnx_eval;
  const std::string kiln_eval =
      run_cmd(train + " --data " + dir.string() + " --evaluate " + (dir / "m.kiln").string(), &code);
  ASSERT_EQ(code, 0) << kiln_eval;
  EXPECT_NE(kiln_eval.find("compiled, Kiln runtime"), std::string::npos) << kiln_eval;
  EXPECT_EQ(accuracy_of(onnx_eval), accuracy_of(kiln_eval));
  EXPECT_GT(std::stod(accuracy_of(kiln_eval)), 50.0) << kiln_eval;  // it learned the blocks
  // A corrupt artifact is one clear error, not a crash.
  std::ofstream(dir / "bad.kiln") << "garbage";
  out = run_cmd(train + " --data " + dir.string() + " --evaluate " + (dir / "bad.kiln").string(), &code);
  EXPECT_NE(code, 0);
  EXPECT_NE(out.find("error"), std::string::npos) << out;
  fs::remove_all(dir);
}

}  // namespace
}  // namespace kiln
