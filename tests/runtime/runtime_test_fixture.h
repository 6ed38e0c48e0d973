// A tiny compiled model for runtime tests, independent of the LLVM code generator: its code
// section is a shared object built at test time by the system C compiler from the C kernels
// below, against kiln/kernel_abi.h. The model: y = relu(x + w) * 0.5 (x: f32[4x16], w a weight
// vector of 16), z = row sums of y; t = x + w lives in the arena.
#pragma once

#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <optional>
#include <vector>

#include "codegen/artifact/artifact_writer.h"

namespace kiln::test {

inline constexpr const char* kTestKernelsC = R"C(
#include "kiln/kernel_abi.h"
const uint32_t kiln_kernel_abi_version = KILN_KERNEL_ABI_VERSION;

struct add_bias_args { const float* x; const float* w; float* t; int64_t cols; };
static void add_bias_rows(void* c, int64_t begin, int64_t end) {
  struct add_bias_args* a = (struct add_bias_args*)c;
  for (int64_t r = begin; r < end; ++r)
    for (int64_t j = 0; j < a->cols; ++j) a->t[r * a->cols + j] = a->x[r * a->cols + j] + a->w[j];
}
/* buffers: x (input), w (weights), t (arena); params: rows, cols */
int32_t test_add_bias(void* const* b, const int64_t* p, const kiln_exec_ctx* ctx) {
  struct add_bias_args a = {(const float*)b[0], (const float*)b[1], (float*)b[2], p[1]};
  ctx->parallel_for(ctx, p[0], add_bias_rows, &a);
  return 0;
}
/* buffers: t (arena), y (output); params: n, scale in thousandths */
int32_t test_relu_scale(void* const* b, const int64_t* p, const kiln_exec_ctx* ctx) {
  const float* t = (const float*)b[0];
  float* y = (float*)b[1];
  const float s = (float)p[1] / 1000.0f;
  (void)ctx;
  for (int64_t i = 0; i < p[0]; ++i) y[i] = (t[i] > 0 ? t[i] : 0) * s;
  return 0;
}
/* buffers: y (output), z (output); params: rows, cols */
int32_t test_row_sum(void* const* b, const int64_t* p, const kiln_exec_ctx* ctx) {
  const float* y = (const float*)b[0];
  float* z = (float*)b[1];
  (void)ctx;
  for (int64_t r = 0; r < p[0]; ++r) {
    float s = 0;
    for (int64_t j = 0; j < p[1]; ++j) s += y[r * p[1] + j];
    z[r] = s;
  }
  return 0;
}
int32_t test_fail(void* const* b, const int64_t* p, const kiln_exec_ctx* ctx) {
  (void)b; (void)p; (void)ctx;
  return 7;
}
)C";

inline std::filesystem::path fresh_test_dir(const std::string& name) {
  auto d = std::filesystem::temp_directory_path() /
           ("kiln_rt_" + name + "_" + std::to_string(::getpid()));
  std::filesystem::remove_all(d);
  std::filesystem::create_directories(d);
  return d;
}

inline std::vector<uint8_t> read_bytes(const std::filesystem::path& p) {
  std::ifstream in(p, std::ios::binary);
  return std::vector<uint8_t>((std::istreambuf_iterator<char>(in)),
                              std::istreambuf_iterator<char>());
}

inline void write_bytes(const std::filesystem::path& p, const std::vector<uint8_t>& b) {
  std::ofstream out(p, std::ios::binary | std::ios::trunc);
  out.write(reinterpret_cast<const char*>(b.data()), static_cast<std::streamsize>(b.size()));
}

// The test kernels as shared-object bytes, built once per process; nullopt without a C compiler.
inline const std::optional<std::vector<uint8_t>>& test_kernel_so() {
  static const std::optional<std::vector<uint8_t>> so =
      []() -> std::optional<std::vector<uint8_t>> {
    if (std::system("cc --version >/dev/null 2>&1") != 0) return std::nullopt;
    const auto dir = fresh_test_dir("kernels");
    std::ofstream(dir / "k.c") << kTestKernelsC;
    const std::string cmd = "cc -O1 -shared -fPIC -I" KILN_RUNTIME_INCLUDE_DIR " " +
                            (dir / "k.c").string() + " -o " + (dir / "k.so").string() + " 2>&1";
    if (std::system(cmd.c_str()) != 0) return std::nullopt;
    return read_bytes(dir / "k.so");
  }();
  return so;
}

#define KILN_REQUIRE_TEST_KERNELS()                    \
  if (!::kiln::test::test_kernel_so())                 \
  GTEST_SKIP() << "no C compiler ('cc') to build the " \
                  "test kernels' shared object"

inline constexpr int64_t kRows = 4, kCols = 16;

inline std::vector<float> test_weights() {
  std::vector<float> w(kCols);
  for (int64_t j = 0; j < kCols; ++j) w[j] = 0.25f * static_cast<float>(j) - 1.5f;
  return w;
}

// The model's metadata; `fail_at_end` appends a kernel that returns an error code.
inline artifact::ArtifactMeta test_model_meta(uint64_t weights_offset, bool fail_at_end = false) {
  using artifact::BufferKind;
  artifact::ArtifactMeta m;
  m.target_triple = "x86_64-unknown-linux-gnu";
  m.cpu_name = "generic";
  const uint64_t bytes = kRows * kCols * 4;
  m.inputs = {{"x", DType::F32, {kRows, kCols}}};
  m.outputs = {{"y", DType::F32, {kRows, kCols}}, {"z", DType::F32, {kRows}}};
  m.arena_bytes = 320;  // t at 64, to exercise non-zero arena offsets
  m.plan = {{"t", 64, bytes}};
  m.launches = {
      {"test_add_bias",
       "add0",
       "Add",
       {{BufferKind::Input, 0, 0, bytes},
        {BufferKind::Weights, 0, weights_offset, kCols * 4},
        {BufferKind::Arena, 0, 64, bytes}},
       {kRows, kCols}},
      {"test_relu_scale",
       "relu0",
       "Relu",
       {{BufferKind::Arena, 0, 64, bytes}, {BufferKind::Output, 0, 0, bytes}},
       {kRows * kCols, 500}},
      {"test_row_sum",
       "sum0",
       "ReduceSum",
       {{BufferKind::Output, 0, 0, bytes}, {BufferKind::Output, 1, 0, kRows * 4}},
       {kRows, kCols}},
  };
  if (fail_at_end) m.launches.push_back({"test_fail", "bad0", "Custom", {}, {}});
  return m;
}

// The complete .kiln image of the test model (requires the test kernels).
inline std::vector<uint8_t> test_model_bytes(bool fail_at_end = false, uint64_t cpu_features = 0) {
  artifact::WeightsBuilder wb;
  const std::vector<uint8_t> pad(40, 0xAB);  // so w sits at a non-zero aligned offset
  wb.add(pad.data(), pad.size());
  const std::vector<float> w = test_weights();
  const uint64_t w_offset = wb.add(w.data(), w.size() * 4);
  artifact::ArtifactMeta meta = test_model_meta(w_offset, fail_at_end);
  meta.cpu_features = cpu_features;
  return artifact::serialize_artifact(meta, wb.bytes(), *test_kernel_so());
}

// What the model computes, in plain C++.
inline void reference_outputs(const std::vector<float>& x, std::vector<float>* y,
                              std::vector<float>* z) {
  const std::vector<float> w = test_weights();
  y->assign(kRows * kCols, 0);
  z->assign(kRows, 0);
  for (int64_t r = 0; r < kRows; ++r) {
    for (int64_t j = 0; j < kCols; ++j) {
      const float t = x[r * kCols + j] + w[j];
      (*y)[r * kCols + j] = (t > 0 ? t : 0) * 0.5f;
    }
    float s = 0;
    for (int64_t j = 0; j < kCols; ++j) s += (*y)[r * kCols + j];
    (*z)[r] = s;
  }
}

inline std::vector<float> test_input(int seed) {
  std::vector<float> x(kRows * kCols);
  for (size_t i = 0; i < x.size(); ++i)
    x[i] = static_cast<float>((static_cast<int>(i) * 7 + seed * 13) % 17) * 0.2f - 1.6f;
  return x;
}

}  // namespace kiln::test
