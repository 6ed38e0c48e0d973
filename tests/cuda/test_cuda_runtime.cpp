// The CUDA driver from the outside: the runtime and kiln-run link no CUDA library (everything is
// dlopen'ed), a CUDA artifact on a machine without a driver fails with one line, kilnc's CUDA
// flags reject bad values with one line, and -- where a GPU is present -- compiled models run on
// it and match the reference interpreter (those tests skip with a clear message otherwise).
#include <gtest/gtest.h>

#include <cmath>

#include "codegen/artifact/artifact_writer.h"
#include "codegen/cpu/run_compiled.h"
#include "codegen/cuda/cuda_compiler.h"
#include "codegen/ref/interpreter.h"
#include "kiln/kiln.h"
#include "runtime/io/npy.h"
#include "tests/cli_util.h"
#include "tests/cuda/cuda_test_graphs.h"
#include "tests/frontend/model_builder.h"

namespace kiln::cuda_codegen {
namespace {

namespace fs = std::filesystem;

int count_lines(const std::string& s) {
  int n = 0;
  for (char c : s) n += c == '\n';
  return n;
}

fs::path write_cuda_artifact(const fs::path& dir, const std::function<void(Graph&)>& build,
                             const CudaCompileOptions& o = {}) {
  Graph g;
  build(g);
  const cpu_codegen::CompiledModel m = compile_for_cuda(g, o);
  const fs::path path = dir / "model.kiln";
  artifact::write_artifact(path, m.meta, m.weights, m.code);
  return path;
}

TEST(CudaRuntime, KilnRunLinksNoCudaLibrary) {
  const test::CliResult r = test::run_command(std::string("ldd ") + KILN_RUN_PATH);
  ASSERT_EQ(r.code, 0) << r.out;
  for (const char* lib : {"libcuda", "libcudart", "libcublas", "libcudnn", "libnvrtc"})
    EXPECT_EQ(r.out.find(lib), std::string::npos) << "kiln-run links " << lib << ":\n" << r.out;
}

TEST(CudaRuntime, CudaArtifactWithoutDriverIsOneLine) {
  const fs::path dir = test::fresh_dir("cuda_nodriver");
  const fs::path model = write_cuda_artifact(dir, test::build_conv_gemm_net);
  const test::CliResult r =
      test::run_command("KILN_CUDA_DRIVER=libkiln-no-such-driver.so.1 " +
                        std::string(KILN_RUN_PATH) + " " + model.string() + " --random-inputs");
  EXPECT_NE(r.code, 0) << r.out;
  EXPECT_NE(r.out.find("no CUDA driver (libkiln-no-such-driver.so.1 not found)"), std::string::npos)
      << r.out;
  EXPECT_EQ(count_lines(r.out), 1) << r.out;
  // Asking for the device explicitly fails the same way, before any model is read.
  const test::CliResult d = test::run_command("KILN_CUDA_DRIVER=libkiln-no-such-driver.so.1 " +
                                              std::string(KILN_RUN_PATH) + " " + model.string() +
                                              " --device cuda --random-inputs");
  EXPECT_NE(d.code, 0);
  EXPECT_NE(d.out.find("no CUDA driver"), std::string::npos) << d.out;
  fs::remove_all(dir);
}

TEST(CudaRuntime, KilncCudaFlags) {
  const fs::path dir = test::fresh_dir("cuda_kilnc");
  test::write_model(test::small_model(), dir / "m.onnx");
  const std::string kilnc = std::string(KILN_KILNC_PATH) + " compile " + (dir / "m.onnx").string() +
                            " -o " + (dir / "m.kiln").string();
  const test::CliResult ok = test::run_command(kilnc + " --target cuda --cuda-arch sm_90,sm_80");
  EXPECT_EQ(ok.code, 0) << ok.out;
  EXPECT_NE(ok.out.find("target: cuda (sm_90,sm_80)"), std::string::npos) << ok.out;
  EXPECT_TRUE(fs::exists(dir / "m.kiln"));
  const test::CliResult bad = test::run_command(kilnc + " --target cuda --cuda-arch sm_99");
  EXPECT_NE(bad.code, 0);
  EXPECT_NE(bad.out.find("--cuda-arch: this NVRTC cannot target sm_99"), std::string::npos)
      << bad.out;
  EXPECT_EQ(count_lines(bad.out), 1) << bad.out;
  const test::CliResult stray = test::run_command(kilnc + " --cuda-arch sm_90");
  EXPECT_NE(stray.code, 0);
  EXPECT_NE(stray.out.find("--cuda-arch needs --target cuda"), std::string::npos) << stray.out;
  fs::remove_all(dir);
}

// ---- on a GPU

// Empty when a CUDA device can be opened, else why not (the skip message).
std::string cuda_unavailable() {
  kiln_context* ctx = nullptr;
  kiln_status* s = kiln_context_create_for_device(nullptr, "cuda", &ctx);
  if (!s) {
    kiln_context_destroy(ctx);
    return "";
  }
  std::string why = kiln_status_message(s);
  kiln_status_destroy(s);
  return why;
}

#define KILN_REQUIRE_CUDA()                                     \
  if (const std::string why = cuda_unavailable(); !why.empty()) \
  GTEST_SKIP() << "needs a CUDA GPU: " << why

void expect_close(const std::map<std::string, Tensor>& got,
                  const std::map<std::string, Tensor>& want, float tol) {
  ASSERT_EQ(got.size(), want.size());
  for (const auto& [name, w] : want) {
    const Tensor& t = got.at(name);
    ASSERT_EQ(t.dims(), w.dims()) << name;
    for (int64_t i = 0; i < t.numel(); ++i)
      ASSERT_NEAR(t.data<float>()[i], w.data<float>()[i], tol * (1 + std::fabs(w.data<float>()[i])))
          << name << "[" << i << "]";
  }
}

void check_on_gpu(const std::function<void(Graph&)>& build, const CudaCompileOptions& o) {
  Graph ref;
  build(ref);
  const std::map<std::string, Tensor> feeds = {{"x", test::cuda_random({2, 3, 8, 8}, 99)}};
  const auto want = Interpreter(ref).run(feeds);
  Graph g;
  build(g);
  const cpu_codegen::CompiledModel m = compile_for_cuda(g, o);
  // run_compiled loads through the C API; an auto context runs a CUDA artifact on the GPU.
  expect_close(cpu_codegen::run_compiled(m, feeds), want, 1e-4f);
  expect_close(cpu_codegen::run_compiled(m, feeds), want, 1e-4f);  // graph replay
}

TEST(CudaGpu, LibraryCallsMatchReference) {
  KILN_REQUIRE_CUDA();
  check_on_gpu(test::build_conv_gemm_net, {});
}

TEST(CudaGpu, GeneratedKernelsMatchReference) {
  KILN_REQUIRE_CUDA();
  CudaCompileOptions o;
  o.library_calls = false;
  check_on_gpu(test::build_conv_gemm_net, o);
  check_on_gpu(test::build_all_families, {});
  o.ptx_only = true;  // JIT from PTX
  check_on_gpu(test::build_all_families, o);
}

TEST(CudaGpu, KilnRunOnCudaComparesWithExpected) {
  KILN_REQUIRE_CUDA();
  const fs::path dir = test::fresh_dir("cuda_kiln_run");
  const fs::path model = write_cuda_artifact(dir, test::build_conv_gemm_net);
  Graph ref;
  test::build_conv_gemm_net(ref);
  const Tensor x = test::cuda_random({2, 3, 8, 8}, 5);
  const auto want = Interpreter(ref).run({{"x", x}});
  write_npy(dir / "x.npy", x);
  write_npy(dir / "y.npy", want.at("y"));
  const test::CliResult r =
      test::run_command(std::string(KILN_RUN_PATH) + " " + model.string() +
                        " --device cuda --input x=" + (dir / "x.npy").string() +
                        " --expected y=" + (dir / "y.npy").string() +
                        " --rtol 1e-4 --atol 1e-4 --bench 20 --warmup 2");
  EXPECT_EQ(r.code, 0) << r.out;
  EXPECT_NE(r.out.find("latency_ms:"), std::string::npos) << r.out;
  fs::remove_all(dir);
}

}  // namespace
}  // namespace kiln::cuda_codegen
