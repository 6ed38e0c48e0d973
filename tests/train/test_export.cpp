// Export: the ONNX file re-imports to a graph with the same outputs as the model, and ONNX
// Runtime (from the build venv) agrees within 1e-4.
#include <gtest/gtest.h>

#include <unistd.h>

#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <fstream>

#include "codegen/ref/interpreter.h"
#include "frontend/onnx_loader.h"
#include "models/mnist/model_builders.h"
#include "models/mnist/rng.h"
#include "runtime/io/npy.h"
#include "train/export.h"
#include "train/train_step.h"

namespace kiln::train {
namespace {

namespace fs = std::filesystem;

// The repository root, from this file's path (tests/train/test_export.cpp).
fs::path repo_root() { return fs::path(__FILE__).parent_path().parent_path().parent_path(); }

Tensor random_images(int64_t n, uint64_t seed) {
  Tensor t(DType::F32, {n, 1, 28, 28});
  mnist::Rng rng(seed);
  for (int64_t i = 0; i < t.numel(); ++i) t.data<float>()[i] = static_cast<float>(rng.uniform(-0.5, 2.5));
  return t;
}

void expect_close(const Tensor& a, const Tensor& b, double tol) {
  ASSERT_EQ(a.dims(), b.dims()) << a.describe() << " vs " << b.describe();
  double worst = 0;
  for (int64_t i = 0; i < a.numel(); ++i) worst = std::max(worst, std::fabs(a.as_double(i) - b.as_double(i)));
  EXPECT_LE(worst, tol);
}

class ExportTest : public ::testing::TestWithParam<const char*> {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("kiln_export_test_" + std::to_string(::getpid()) + "_" + GetParam());
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }
  fs::path dir_;
};

TEST_P(ExportTest, ReimportsAndMatchesOnnxRuntime) {
  const auto model = mnist::build_model(GetParam(), 11);
  const fs::path onnx_path = dir_ / "model.onnx";
  export_onnx(*model, onnx_path);
  const Tensor images = random_images(3, 5);
  const Tensor expected = run_inference(*model, images, StepExec{Kernels::Reference}, 3);

  const frontend::LoadedModel loaded = frontend::load_onnx(onnx_path);
  EXPECT_EQ(loaded.info.opset_imports.at(""), 17);
  for (const auto& [op, count] : loaded.info.op_histogram) EXPECT_NE(op, "Dropout");
  const Tensor reimported = run_inference(*loaded.graph, images, StepExec{Kernels::Reference}, 3);
  expect_close(reimported, expected, 1e-6);

  const fs::path python = repo_root() / "build" / "venv" / "bin" / "python";
  if (!fs::exists(python)) GTEST_SKIP() << "no " << python << ": ONNX Runtime comparison skipped";
  write_npy(dir_ / "input.npy", images);
  const fs::path script = dir_ / "ort.py";
  std::ofstream(script) << "import sys, numpy as np, onnxruntime as ort\n"
                           "s = ort.InferenceSession(sys.argv[1], providers=['CPUExecutionProvider'])\n"
                           "x = np.load(sys.argv[2])\n"
                           "y = s.run(None, {s.get_inputs()[0].name: x})[0]\n"
                           "np.save(sys.argv[3], y.astype(np.float32))\n";
  const std::string cmd = python.string() + " " + script.string() + " " + onnx_path.string() + " " +
                          (dir_ / "input.npy").string() + " " + (dir_ / "ort.npy").string() + " 2>" +
                          (dir_ / "ort.err").string();
  if (std::system(cmd.c_str()) != 0) {
    std::ifstream err(dir_ / "ort.err");
    const std::string msg((std::istreambuf_iterator<char>(err)), std::istreambuf_iterator<char>());
    if (msg.find("No module named") != std::string::npos) GTEST_SKIP() << "onnxruntime not installed: " << msg;
    FAIL() << "ONNX Runtime failed on the exported model: " << msg;
  }
  expect_close(read_npy(dir_ / "ort.npy"), expected, 1e-4);
}

INSTANTIATE_TEST_SUITE_P(Models, ExportTest, ::testing::Values("mlp", "lenet5", "cnn"));

}  // namespace
}  // namespace kiln::train
