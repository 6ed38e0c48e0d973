// A small hand-written OpenCL model for the OpenCL driver's tests, following the device contract
// (each launch arg is a (buffer, byte offset) parameter pair): x: f32[4x16] input, w: 16 weights.
//   t = x + w            device kernel, arena at 64
//   y = relu(t) * 0.5    device kernel, output 0
//   s = ReduceSum(y, 1)  host fallback (kiln_host_op, axes from WEIGHTS), arena at 384
//   z = s                device kernel, output 1
// It computes what the CPU runtime tests' model does (tests/runtime/runtime_test_fixture.h), so
// the two can share a batch in `kiln-run --devices cpu,opencl`.
#pragma once

#include <gtest/gtest.h>

#include <cstring>
#include <functional>
#include <string>
#include <vector>

#include "codegen/artifact/artifact_writer.h"
#include "kiln/kiln.h"
#include "runtime/kernels/launch/builtins.h"
#include "runtime/kernels/launch/op_record.h"

namespace kiln::test {

inline constexpr const char* kOpenClTestKernels = R"CL(
#define AT(T, base, off) ((__global T*)((__global uchar*)(base) + (off)))
__kernel void cl_add_bias(__global const float* x, ulong xo, __global const float* w, ulong wo,
                          __global float* t, ulong to) {
  const size_t j = get_global_id(0), r = get_global_id(1);
  AT(float, t, to)[r * 16 + j] = AT(const float, x, xo)[r * 16 + j] + AT(const float, w, wo)[j];
}
__kernel void cl_relu_half(__global const float* t, ulong to, __global float* y, ulong yo) {
  const size_t i = get_global_id(0);
  const float v = AT(const float, t, to)[i];
  AT(float, y, yo)[i] = (v > 0.0f ? v : 0.0f) * 0.5f;
}
__kernel void cl_copy(__global const float* s, ulong so, __global float* z, ulong zo) {
  const size_t i = get_global_id(0);
  AT(float, z, zo)[i] = AT(const float, s, so)[i];
}
)CL";

inline constexpr int64_t kClRows = 4, kClCols = 16;

inline std::vector<float> cl_test_weights() {
  std::vector<float> w(kClCols);
  for (int64_t j = 0; j < kClCols; ++j) w[j] = 0.25f * static_cast<float>(j) - 1.5f;
  return w;
}

// The model's file image; `code` replaces the kernel source (or binary with `format`); `edit`
// may change the metadata before it is written.
inline std::vector<uint8_t> opencl_test_model(
    const std::string& code = kOpenClTestKernels,
    artifact::CodeFormat format = artifact::CodeFormat::OpenClSource,
    const std::string& profile = "gpu",
    const std::function<void(artifact::ArtifactMeta&)>& edit = nullptr) {
  using artifact::BufferKind;
  artifact::WeightsBuilder wb;
  const std::vector<uint8_t> pad(40, 0xAB);  // so w sits at a non-zero offset
  wb.add(pad.data(), pad.size());
  const std::vector<float> w = cl_test_weights();
  const uint64_t w_off = wb.add(w.data(), w.size() * 4);
  const int64_t axes = 1;
  const uint64_t axes_off = wb.add(&axes, sizeof axes);
  launch::OpRecord rec;
  rec.op = OpKind::ReduceSum;
  rec.opset = 13;
  rec.node_name = "sum0";
  rec.attrs.set("keepdims", Attribute::of_int(0));
  rec.inputs = {{true, DType::F32, {kClRows, kClCols}}, {true, DType::I64, {1}}};
  rec.outputs = {{true, DType::F32, {kClRows}}};
  std::vector<uint8_t> blob(launch::kOpRecordPrefixBytes);
  const std::vector<uint8_t> body = launch::encode_op_record(rec);
  const uint64_t n = body.size();
  std::memcpy(blob.data(), &n, sizeof n);
  blob.insert(blob.end(), body.begin(), body.end());
  const uint64_t rec_off = wb.add(blob.data(), blob.size());

  artifact::ArtifactMeta m;
  m.target_triple = artifact::kOpenClTriple;
  m.cpu_name = profile;
  m.code_format = format;
  const uint64_t bytes = kClRows * kClCols * 4;
  m.inputs = {{"x", DType::F32, {kClRows, kClCols}}};
  m.outputs = {{"y", DType::F32, {kClRows, kClCols}}, {"z", DType::F32, {kClRows}}};
  m.arena_bytes = 448;
  m.plan = {{"t", 64, bytes}, {"s", 384, kClRows * 4}};
  m.launches = {
      {"cl_add_bias", "add0", "Add",
       {{BufferKind::Input, 0, 0, bytes}, {BufferKind::Weights, 0, w_off, kClCols * 4},
        {BufferKind::Arena, 0, 64, bytes}},
       {kClCols, kClRows, 1, 0, 0, 0}},
      {"cl_relu_half", "relu0", "Relu",
       {{BufferKind::Arena, 0, 64, bytes}, {BufferKind::Output, 0, 0, bytes}},
       {kClRows * kClCols, 1, 1, 16, 1, 1}},
      {artifact::kOpenClHostOpSymbol, "sum0", "ReduceSum",
       {{BufferKind::Weights, 0, rec_off, blob.size()}, {BufferKind::Output, 0, 0, bytes},
        {BufferKind::Weights, 0, axes_off, 8}, {BufferKind::Arena, 0, 384, kClRows * 4}},
       {}},
      {"cl_copy", "copy0", "Identity",
       {{BufferKind::Arena, 0, 384, kClRows * 4}, {BufferKind::Output, 1, 0, kClRows * 4}},
       {kClRows, 1, 1, 0, 0, 0}},
  };
  if (edit) edit(m);
  const auto* c = reinterpret_cast<const uint8_t*>(code.data());
  return artifact::serialize_artifact(m, wb.bytes(), std::span<const uint8_t>(c, code.size()));
}

inline std::vector<float> cl_test_input(int seed) {
  std::vector<float> x(kClRows * kClCols);
  for (size_t i = 0; i < x.size(); ++i)
    x[i] = static_cast<float>((static_cast<int>(i) * 7 + seed * 13) % 17) * 0.2f - 1.6f;
  return x;
}

inline void cl_reference(const std::vector<float>& x, std::vector<float>* y,
                         std::vector<float>* z) {
  const std::vector<float> w = cl_test_weights();
  y->assign(kClRows * kClCols, 0);
  z->assign(kClRows, 0);
  for (int64_t r = 0; r < kClRows; ++r) {
    for (int64_t j = 0; j < kClCols; ++j) {
      const float t = x[r * kClCols + j] + w[j];
      (*y)[r * kClCols + j] = (t > 0 ? t : 0) * 0.5f;
      (*z)[r] += (*y)[r * kClCols + j];
    }
  }
}

// True when an OpenCL device can be opened here (PoCL in CI); tests skip otherwise.
inline bool opencl_available() {
  static const bool ok = [] {
    kiln_context* c = nullptr;
    kiln_status* s = kiln_context_create_for_device(nullptr, "opencl", &c);
    const bool good = s == nullptr;
    kiln_status_destroy(s);
    kiln_context_destroy(c);
    return good;
  }();
  return ok;
}

#define KILN_REQUIRE_OPENCL() \
  if (!::kiln::test::opencl_available()) GTEST_SKIP() << "no OpenCL platform/device available"

}  // namespace kiln::test
