// kiln-models as the benchmark driver runs it: --list, writing a model, one-line errors.
#include <gtest/gtest.h>

#include <algorithm>

#include "frontend/onnx_loader.h"
#include "tests/cli_util.h"
#include "tests/frontend/model_builder.h"

namespace kiln {
namespace {

using test::CliResult;

CliResult run_kiln_models(const std::string& args) {
  return test::run_command(std::string(KILN_MODELS_PATH) + " " + args);
}

TEST(KilnModelsCli, ListsModels) {
  const CliResult r = run_kiln_models("--list");
  EXPECT_EQ(r.code, 0) << r.out;
  for (const char* m : {"mnist-cnn", "resnet18", "resnet50", "mobilenetv2", "bert-base"}) {
    EXPECT_NE(r.out.find(m), std::string::npos) << m;
  }
}

TEST(KilnModelsCli, WritesAModelTheFrontendLoads) {
  const auto dir = test::fresh_dir("kiln_models_cli");
  const auto path = dir / "cnn.onnx";
  const CliResult r = run_kiln_models("mnist-cnn -o " + path.string() + " --batch 64 --seed 3");
  ASSERT_EQ(r.code, 0) << r.out;
  EXPECT_NE(r.out.find("1199884 parameters"), std::string::npos) << r.out;
  const auto m = frontend::load_onnx(path);
  EXPECT_EQ(m.graph->inputs.at(0)->type, ValueType::of(DType::F32, {64, 1, 28, 28}));
  EXPECT_EQ(m.graph->outputs.at(0)->type, ValueType::of(DType::F32, {64, 10}));
  EXPECT_EQ(m.info.producer_name, "kiln");
  std::filesystem::remove_all(dir);
}

TEST(KilnModelsCli, BadInputIsOneLineAndNonZero) {
  for (const char* args : {"resnet34 -o /tmp/x.onnx", "resnet18", "resnet18 -o x.onnx --batch -1",
                           "resnet18 -o x.onnx --frobnicate", "",
                           "resnet18 -o /nonexistent-dir/x.onnx"}) {
    const CliResult r = run_kiln_models(args);
    EXPECT_EQ(r.code, 1) << args << ": " << r.out;
    EXPECT_EQ(std::count(r.out.begin(), r.out.end(), '\n'), 1) << args << ": " << r.out;
    EXPECT_EQ(r.out.rfind("kiln-models: error: ", 0), 0u) << args << ": " << r.out;
  }
}

}  // namespace
}  // namespace kiln
