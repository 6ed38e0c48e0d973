// kiln-train --prune on the synthetic MNIST set: channel pruning shrinks the exported model
// and kilnc compiles it; N:M keeps its pattern through fine-tuning; kilnc compile --prune
// reports what it did; bad specs and schedules are one-line errors.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <regex>

#include "frontend/onnx_loader.h"
#include "passes/prune_weights.h"
#include "tests/cli_util.h"
#include "tests/train/synthetic_mnist.h"

namespace kiln {
namespace {

namespace fs = std::filesystem;

class KilnTrainPrune : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("kiln_test_prune_" + std::to_string(getpid()));
    fs::remove_all(dir_);
    fs::create_directories(dir_);
    test::write_synthetic(dir_, "train", 192, 1);
    test::write_synthetic(dir_, "t10k", 40, 2);
  }
  void TearDown() override { fs::remove_all(dir_); }
  test::CliResult train(const std::string& flags) {
    return test::run_command(std::string(KILN_TRAIN_PATH) + " --data " + dir_.string() +
                             " --checkpoint-dir none --no-progress " + flags);
  }
  fs::path dir_;
};

TEST_F(KilnTrainPrune, ChannelPruningShrinksTheExportAndItCompiles) {
  const fs::path onnx = dir_ / "m.onnx";
  const auto r = train("--model mlp --epochs 2 --prune channel:0.5 --export " + onnx.string());
  ASSERT_EQ(r.code, 0) << r.out;
  // mlp 784-512-256-10: the two hidden layers lose half their units; the output layer stays.
  EXPECT_NE(r.out.find("prune step 1/1 (channel:0.5, ratio now 0.5): removed 384 of 778 channels; "
                       "params 535818 -> 235146"),
            std::string::npos)
      << r.out;
  EXPECT_NE(r.out.find("epoch 2/2:"), std::string::npos) << r.out;
  std::smatch m;
  ASSERT_TRUE(std::regex_search(r.out, m, std::regex("pruned \\(channel:0.5\\): 235146 parameters")))
      << r.out;
  const frontend::LoadedModel lm = frontend::load_onnx(onnx.string());
  EXPECT_EQ(lm.graph->num_parameters(), 235146);
  const auto c = test::run_command(std::string(KILN_KILNC_PATH) + " compile " + onnx.string() +
                                   " -o " + (dir_ / "m.kiln").string() +
                                   " --input-shape input=8x1x28x28 -q");
  EXPECT_EQ(c.code, 0) << c.out;
}

TEST_F(KilnTrainPrune, TwoFourPatternSurvivesFineTuning) {
  const fs::path onnx = dir_ / "l.onnx";
  const auto r = train("--model lenet5 --epochs 2 --prune 2:4 --export " + onnx.string());
  ASSERT_EQ(r.code, 0) << r.out;
  EXPECT_NE(r.out.find("prune step 1/1 (2:4, full pattern)"), std::string::npos) << r.out;
  const frontend::LoadedModel lm = frontend::load_onnx(onnx.string());
  int patterned = 0;
  for (const PrunableWeight& w : prunable_weights(*lm.graph)) {
    if (!nm_applicable(w, 4)) continue;  // lenet5's convs reduce over 1 and 6 channels
    EXPECT_TRUE(satisfies_nm(*w.value->constant, w, 2, 4)) << w.value->name();
    EXPECT_EQ(count_zeros(*w.value->constant) * 2, w.value->constant->numel()) << w.value->name();
    ++patterned;
  }
  EXPECT_EQ(patterned, 3);  // fc 400->120, 120->84, 84->10
}

TEST_F(KilnTrainPrune, MagnitudeKeepsItsMasksWhileFineTuning) {
  const fs::path onnx = dir_ / "g.onnx";
  const auto r = train("--model mlp --epochs 3 --prune magnitude:0.8 --prune-steps 2 --export " +
                       onnx.string());
  ASSERT_EQ(r.code, 0) << r.out;
  EXPECT_NE(r.out.find("prune step 1/2 (magnitude:0.8, ratio now 0.4): weight sparsity 40.0%"),
            std::string::npos)
      << r.out;
  EXPECT_NE(r.out.find("prune step 2/2 (magnitude:0.8, ratio now 0.8): weight sparsity 80.0%"),
            std::string::npos)
      << r.out;
  const frontend::LoadedModel lm = frontend::load_onnx(onnx.string());
  for (const PrunableWeight& w : prunable_weights(*lm.graph)) {
    const int64_t n = w.value->constant->numel();
    EXPECT_EQ(count_zeros(*w.value->constant), std::llround(0.8 * static_cast<double>(n)))
        << w.value->name();
  }
}

TEST_F(KilnTrainPrune, KilncCompilePruneReportsWhatItDid) {
  const fs::path onnx = dir_ / "d.onnx";
  const auto r = train("--model mlp --epochs 1 --limit-train 64 --export " + onnx.string());
  ASSERT_EQ(r.code, 0) << r.out;
  auto compile = [&](const std::string& flags) {
    return test::run_command(std::string(KILN_KILNC_PATH) + " compile " + onnx.string() + " -o " +
                             (dir_ / "d.kiln").string() + " --input-shape input=4x1x28x28 " + flags);
  };
  auto c = compile("--prune channel:0.5");
  ASSERT_EQ(c.code, 0) << c.out;
  EXPECT_NE(c.out.find("pass prune-channel: removed 384 of 778 output channels (49.4%) in 2 of 3 "
                       "channel groups; params 535818 -> 235146"),
            std::string::npos)
      << c.out;
  EXPECT_NE(c.out.find("pass prune-channel: kept whole: fc3, 10 channels"), std::string::npos) << c.out;
  c = compile("--prune 2:4");
  ASSERT_EQ(c.code, 0) << c.out;
  EXPECT_NE(c.out.find("pass prune-nm: 2:4 pattern in 3 weight tensors; sparsity 50.0%"),
            std::string::npos)
      << c.out;
  c = compile("--prune magnitude:0.9");
  ASSERT_EQ(c.code, 0) << c.out;
  EXPECT_NE(c.out.find("pass prune-magnitude: sparsity 90.0%"), std::string::npos) << c.out;
#ifdef KILN_HAVE_OPENCL_CODEGEN
  // The OpenCL target runs the same pruning passes (compiling needs no OpenCL device).
  c = compile("--target opencl --prune channel:0.5");
  ASSERT_EQ(c.code, 0) << c.out;
  EXPECT_NE(c.out.find("pass prune-channel: removed 384 of 778 output channels"), std::string::npos)
      << c.out;
#endif
  c = compile("--prune channel:0");
  EXPECT_EQ(c.code, 1) << c.out;
  EXPECT_NE(c.out.find("--prune 'channel:0': ratio 0 is out of range; it must be in (0, 1)"),
            std::string::npos)
      << c.out;
}

TEST_F(KilnTrainPrune, BadSpecsAndSchedulesAreOneLineErrors) {
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"--prune channel:1.5 --epochs 2", "ratio 1.5 is out of range"},
      {"--prune 2:4 --epochs 1", "--prune-steps 1 needs --epochs > 1"},
      {"--prune magnitude:0.5 --prune-steps 0 --epochs 2", "--prune-steps: must be >= 1"},
      {"--prune-steps 2 --epochs 3", "--prune-steps needs --prune"},
      {"--prune foo --epochs 2", "expected magnitude:R"}};
  for (const auto& [flags, want] : cases) {
    const auto r = train("--model mlp " + flags);
    EXPECT_EQ(r.code, 1) << flags << ": " << r.out;
    EXPECT_NE(r.out.find(want), std::string::npos) << flags << ": " << r.out;
    EXPECT_EQ(std::count(r.out.begin(), r.out.end(), '\n'), 1) << r.out;
  }
}

}  // namespace
}  // namespace kiln
