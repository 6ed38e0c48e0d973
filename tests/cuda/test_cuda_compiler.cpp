// compile_for_cuda end to end without a GPU: the artifact it writes passes the runtime's reader,
// its PTX holds every generated kernel, GEMM/conv nodes become cuBLASLt/cuDNN library launches
// whose params mean what the reference kernels compute (checked by evaluating the params on the
// host), and bad input fails with one line.
#include <gtest/gtest.h>

#include <bit>
#include <cmath>
#include <functional>

#include "codegen/artifact/artifact_writer.h"
#include "codegen/cuda/cuda_compiler.h"
#include "codegen/cuda/library_lowering.h"
#include "codegen/ref/interpreter.h"
#include "runtime/artifact/artifact_reader.h"
#include "runtime/artifact/cpu_features.h"
#include "runtime/artifact/cuda_code.h"
#include "runtime/devices/cuda/library_launch.h"
#include "tests/cuda/cuda_test_graphs.h"

namespace kiln::cuda_codegen {
namespace {

using test::cuda_random;
using test::f32_value;
namespace G = cuda_launch::gemm;
namespace C = cuda_launch::conv;

bool is_library(const std::string& s) { return s.rfind("kiln_cu", 0) == 0; }

TEST(CudaCompiler, ConvGemmNetBecomesLibraryCallsAndLoadsInTheReader) {
  Graph g;
  test::build_conv_gemm_net(g);
  CudaCompileOptions o;
  o.arch = "sm_90,sm_80";
  const cpu_codegen::CompiledModel m = compile_for_cuda(g, o);
  const std::vector<uint8_t> image = artifact::serialize_artifact(m.meta, m.weights, m.code);
  const artifact::ParsedArtifact p = artifact::parse_artifact(
      image.data(), image.size(), "'t.kiln'", artifact::host_cpu_features());
  EXPECT_EQ(p.meta, m.meta);
  EXPECT_EQ(p.meta.target_triple, "cuda");
  EXPECT_EQ(p.meta.cpu_name, "sm_90,sm_80");
  EXPECT_EQ(p.meta.code_format, artifact::CodeFormat::CudaCubin);
  const auto blobs = artifact::decode_cuda_code(p.code, p.code_bytes, "t");
  ASSERT_EQ(blobs.size(), 3u);
  const std::string ptx(reinterpret_cast<const char*>(blobs[0].data), blobs[0].bytes - 1);
  int convs = 0, gemms = 0, kernels = 0;
  for (const auto& l : p.meta.launches) {
    EXPECT_NE(l.symbol, "kiln_host_op") << l.op << " fell back to the host";
    if (l.symbol == cuda_launch::kConvSymbol) {
      ++convs;
      ASSERT_EQ(l.params.size(), size_t{C::kCount});
      EXPECT_EQ(l.params[C::kN], 2);
      EXPECT_EQ(l.params[C::kK], 4);
      EXPECT_EQ(l.params[C::kPadH], 1);
      EXPECT_EQ(l.params[C::kHasBias], 1);
    } else if (l.symbol == cuda_launch::kGemmSymbol) {
      ++gemms;
    } else {
      ++kernels;
      EXPECT_NE(ptx.find(".entry " + l.symbol + "("), std::string::npos) << l.symbol;
    }
  }
  EXPECT_EQ(convs, 1);
  EXPECT_EQ(gemms, 2);
  // The line kilnc prints names the library calls.
  bool reported = false;
  for (const auto& line : m.report)
    reported = reported || line.find("kiln_cudnn_conv") != std::string::npos;
  EXPECT_TRUE(reported);
}

TEST(CudaCompiler, Fp16GraphRunsGemmAndConvInHalfOnTheLibraries) {
  Graph g;
  test::build_conv_gemm_net(g);
  CudaCompileOptions o;
  o.extra_passes = {"convert-fp16"};
  o.ptx_only = true;  // keeps the test fast; cubins are checked above
  const cpu_codegen::CompiledModel m = compile_for_cuda(g, o);
  int half_conv = 0, half_gemm = 0;
  for (const auto& l : m.meta.launches) {
    if (l.symbol == cuda_launch::kConvSymbol) half_conv += l.params[C::kDType] == 10;
    if (l.symbol == cuda_launch::kGemmSymbol) half_gemm += l.params[G::kDType] == 10;
  }
  EXPECT_EQ(half_conv, 1);
  EXPECT_EQ(half_gemm, 2);
  EXPECT_EQ(m.meta.inputs[0].dtype, DType::F32);  // fp32 I/O kept by default
}

TEST(CudaCompiler, WithoutLibraryCallsEveryNodeIsAGeneratedKernel) {
  Graph g;
  test::build_conv_gemm_net(g);
  CudaCompileOptions o;
  o.library_calls = false;
  o.ptx_only = true;
  const cpu_codegen::CompiledModel m = compile_for_cuda(g, o);
  EXPECT_EQ(m.meta.code_format, artifact::CodeFormat::CudaPtx);
  const auto blobs = artifact::decode_cuda_code(m.code.data(), m.code.size(), "t");
  ASSERT_EQ(blobs.size(), 1u);
  const std::string ptx(reinterpret_cast<const char*>(blobs[0].data), blobs[0].bytes - 1);
  for (const auto& l : m.meta.launches) {
    EXPECT_FALSE(is_library(l.symbol));
    EXPECT_NE(ptx.find(".entry " + l.symbol + "("), std::string::npos) << l.symbol;
  }
}

// ---- library params, evaluated on the host exactly as documented in library_launch.h

struct Bound {
  std::vector<artifact::LaunchArg> args;
  std::vector<const Tensor*> tensors;  // by LaunchArg::index
  const float* data(const artifact::LaunchArg& a) const {
    return tensors.at(a.index)->data<float>();
  }
};

// Fake placements: value i of the node is "input i".
Bound bind(const Node& n, const std::map<std::string, Tensor>& feeds,
           const std::map<std::string, Tensor>& outputs) {
  Bound b;
  auto add = [&](const Value* v) {
    const Tensor* t = v->is_constant()         ? &*v->constant
                      : feeds.count(v->name()) ? &feeds.at(v->name())
                                               : &outputs.at(v->name());
    b.args.push_back({artifact::BufferKind::Input, static_cast<uint32_t>(b.tensors.size()), 0,
                      static_cast<uint64_t>(t->nbytes())});
    b.tensors.push_back(t);
  };
  for (const Value* v : n.inputs())
    if (v) add(v);
  for (const Value* v : n.outputs()) add(v);
  return b;
}

std::vector<float> run_gemm(const LibraryLaunch& l, const Bound& b) {
  const auto& p = l.params;
  const int64_t M = p[G::kM], N = p[G::kN], K = p[G::kK];
  const float alpha = std::bit_cast<float>(static_cast<uint32_t>(p[G::kAlphaBits]));
  const float* A = b.data(l.args[0]);
  const float* B = b.data(l.args[1]);
  size_t next = 3;
  const float* bias = p[G::kHasBias] ? b.data(l.args[next++]) : nullptr;
  const float* Cm = p[G::kHasC] ? b.data(l.args[next]) : nullptr;
  std::vector<float> y(static_cast<size_t>(p[G::kBatch] * M * N));
  for (int64_t bi = 0; bi < p[G::kBatch]; ++bi)
    for (int64_t m = 0; m < M; ++m)
      for (int64_t n = 0; n < N; ++n) {
        double acc = 0;
        for (int64_t k = 0; k < K; ++k) {
          const float a = p[G::kTransA] ? A[bi * p[G::kStrideA] + k * M + m]
                                        : A[bi * p[G::kStrideA] + m * K + k];
          const float w = p[G::kTransB] ? B[bi * p[G::kStrideB] + n * K + k]
                                        : B[bi * p[G::kStrideB] + k * N + n];
          acc += double(a) * w;
        }
        float v = alpha * float(acc) + (bias ? bias[n] : 0.0f) +
                  (Cm ? Cm[bi * p[G::kStrideY] + m * N + n] : 0.0f);
        if (p[G::kActivation] == cuda_launch::kRelu) v = std::max(v, 0.0f);
        y[static_cast<size_t>((bi * M + m) * N + n)] = v;
      }
  return y;
}

std::vector<float> run_conv(const LibraryLaunch& l, const Bound& b) {
  const auto& p = l.params;
  const float* X = b.data(l.args[0]);
  const float* W = b.data(l.args[1]);
  size_t next = 3;
  const float* bias = p[C::kHasBias] ? b.data(l.args[next++]) : nullptr;
  const float* Z = p[C::kHasZ] ? b.data(l.args[next]) : nullptr;
  const int64_t cg = p[C::kC] / p[C::kGroups], kg = p[C::kK] / p[C::kGroups];
  std::vector<float> y;
  for (int64_t n = 0; n < p[C::kN]; ++n)
    for (int64_t k = 0; k < p[C::kK]; ++k)
      for (int64_t oh = 0; oh < p[C::kOutH]; ++oh)
        for (int64_t ow = 0; ow < p[C::kOutW]; ++ow) {
          double acc = 0;
          const int64_t g = k / kg;
          for (int64_t c = 0; c < cg; ++c)
            for (int64_t r = 0; r < p[C::kR]; ++r)
              for (int64_t s = 0; s < p[C::kS]; ++s) {
                const int64_t ih = oh * p[C::kStrideH] - p[C::kPadH] + r * p[C::kDilationH];
                const int64_t iw = ow * p[C::kStrideW] - p[C::kPadW] + s * p[C::kDilationW];
                if (ih < 0 || iw < 0 || ih >= p[C::kH] || iw >= p[C::kW]) continue;
                acc += double(X[((n * p[C::kC] + g * cg + c) * p[C::kH] + ih) * p[C::kW] + iw]) *
                       W[((k * cg + c) * p[C::kR] + r) * p[C::kS] + s];
              }
          const size_t at = y.size();
          float v = float(acc) + (bias ? bias[k] : 0.0f) + (Z ? Z[at] : 0.0f);
          if (p[C::kActivation] == cuda_launch::kRelu) v = std::max(v, 0.0f);
          y.push_back(v);
        }
  return y;
}

// Builds a one-node graph, runs the reference, turns the node into a library launch and
// evaluates its params on the host; both must agree.
void check_library_node(const std::function<void(Graph&)>& build,
                        const std::map<std::string, Tensor>& feeds, const char* symbol) {
  Graph g;
  build(g);
  infer_shapes(g);
  const std::map<std::string, Tensor> want = Interpreter(g).run(feeds);
  const Node& n = *g.nodes().back();
  const Bound b = bind(n, feeds, want);
  const auto l = library_launch_for(n, b.args);
  ASSERT_TRUE(l.has_value()) << n.label();
  EXPECT_EQ(l->symbol, symbol);
  const std::vector<float> got =
      l->symbol == cuda_launch::kGemmSymbol ? run_gemm(*l, b) : run_conv(*l, b);
  const Tensor& y = want.at(n.output(0)->name());
  ASSERT_EQ(static_cast<int64_t>(got.size()), y.numel()) << n.label();
  for (int64_t i = 0; i < y.numel(); ++i)
    ASSERT_NEAR(got[i], y.data<float>()[i], 1e-4f + 1e-4f * std::fabs(y.data<float>()[i]))
        << n.label() << " element " << i;
}

TEST(CudaLibraryLowering, GemmParamsMatchTheReference) {
  for (int ta = 0; ta < 2; ++ta)
    for (int tb = 0; tb < 2; ++tb)
      for (int c_kind = 0; c_kind < 3; ++c_kind) {  // no C, bias [N], full [M, N]
        const Dims ad = ta ? Dims{7, 5} : Dims{5, 7}, bd = tb ? Dims{3, 7} : Dims{7, 3};
        check_library_node(
            [&](Graph& g) {
              Value* a = f32_value(g, "a", ad);
              Value* b = g.add_constant("b", cuda_random(bd, 2));
              std::vector<Value*> ins = {a, b};
              if (c_kind)
                ins.push_back(
                    g.add_constant("c", cuda_random(c_kind == 1 ? Dims{3} : Dims{5, 3}, 3)));
              Attributes at;
              at.set("transA", Attribute::of_int(ta));
              at.set("transB", Attribute::of_int(tb));
              at.set("alpha", Attribute::of_float(0.75f));
              g.add_node(OpKind::Gemm, ins, {f32_value(g, "y", {5, 3})}, at, "gemm", 17);
              g.inputs = {a};
              g.outputs = {g.find_value("y")};
            },
            {{"a", cuda_random(ad, 1)}}, cuda_launch::kGemmSymbol);
      }
}

TEST(CudaLibraryLowering, BatchedAndBroadcastMatMulParamsMatchTheReference) {
  // [2, 3, 4, 6] @ [6, 5]: B shared by all six matrices.
  check_library_node(
      [](Graph& g) {
        Value* a = f32_value(g, "a", {2, 3, 4, 6});
        Value* b = f32_value(g, "b", {6, 5});
        g.add_node(OpKind::MatMul, {a, b}, {f32_value(g, "y", {2, 3, 4, 5})}, {}, "mm", 17);
        g.inputs = {a, b};
        g.outputs = {g.find_value("y")};
      },
      {{"a", cuda_random({2, 3, 4, 6}, 4)}, {"b", cuda_random({6, 5}, 5)}},
      cuda_launch::kGemmSymbol);
  // [4, 6] @ [3, 6, 5]: A shared; and a 1-D A.
  check_library_node(
      [](Graph& g) {
        Value* a = f32_value(g, "a", {4, 6});
        Value* b = f32_value(g, "b", {3, 6, 5});
        g.add_node(OpKind::MatMul, {a, b}, {f32_value(g, "y", {3, 4, 5})}, {}, "mm", 17);
        g.inputs = {a, b};
        g.outputs = {g.find_value("y")};
      },
      {{"a", cuda_random({4, 6}, 6)}, {"b", cuda_random({3, 6, 5}, 7)}}, cuda_launch::kGemmSymbol);
  check_library_node(
      [](Graph& g) {
        Value* a = f32_value(g, "a", {6});
        Value* b = f32_value(g, "b", {6, 5});
        g.add_node(OpKind::MatMul, {a, b}, {f32_value(g, "y", {5})}, {}, "mm", 17);
        g.inputs = {a, b};
        g.outputs = {g.find_value("y")};
      },
      {{"a", cuda_random({6}, 8)}, {"b", cuda_random({6, 5}, 9)}}, cuda_launch::kGemmSymbol);
}

TEST(CudaLibraryLowering, FusedMatMulAndConvEpiloguesMatchTheReference) {
  check_library_node(
      [](Graph& g) {
        Value* a = f32_value(g, "a", {4, 6});
        Value* w = g.add_constant("w", cuda_random({5, 6}, 10));
        Value* bias = g.add_constant("bias", cuda_random({5}, 11));
        Value* res = f32_value(g, "res", {4, 5});
        Attributes at;
        at.set("trans_b", Attribute::of_int(1));
        at.set("activation", Attribute::of_string("Relu"));
        g.add_node(OpKind::KilnFusedMatMul, {a, w, bias, res}, {f32_value(g, "y", {4, 5})}, at,
                   "fmm", 17);
        g.inputs = {a, res};
        g.outputs = {g.find_value("y")};
      },
      {{"a", cuda_random({4, 6}, 12)}, {"res", cuda_random({4, 5}, 13)}}, cuda_launch::kGemmSymbol);
  // Grouped, strided, dilated conv with bias, residual and ReLU.
  check_library_node(
      [](Graph& g) {
        Value* x = f32_value(g, "x", {2, 4, 9, 9});
        Value* w = g.add_constant("w", cuda_random({6, 2, 3, 3}, 14));
        Value* b = g.add_constant("b", cuda_random({6}, 15));
        Value* z = f32_value(g, "z", {2, 6, 5, 5});
        Attributes at;
        at.set("group", Attribute::of_int(2));
        at.set("strides", Attribute::of_ints({2, 2}));
        at.set("dilations", Attribute::of_ints({1, 2}));
        at.set("pads", Attribute::of_ints({1, 2, 1, 2}));
        at.set("activation", Attribute::of_string("Relu"));
        g.add_node(OpKind::KilnFusedConv, {x, w, b, z}, {f32_value(g, "y", {2, 6, 5, 5})}, at,
                   "fconv", 17);
        g.inputs = {x, z};
        g.outputs = {g.find_value("y")};
      },
      {{"x", cuda_random({2, 4, 9, 9}, 16)}, {"z", cuda_random({2, 6, 5, 5}, 17)}},
      cuda_launch::kConvSymbol);
}

TEST(CudaLibraryLowering, WhatTheLibrariesCannotDoStaysGenerated) {
  Graph g;
  Value* x = f32_value(g, "x", {1, 2, 5, 5});
  Value* w = g.add_constant("w", cuda_random({3, 2, 2, 2}, 1));
  Attributes at;
  at.set("pads", Attribute::of_ints({0, 0, 1, 1}));  // asymmetric: cuDNN takes one pad per axis
  Value* y = f32_value(g, "y", {1, 3, 5, 5});
  g.add_node(OpKind::Conv, {x, w}, {y}, at, "asym", 17);
  Value* a = f32_value(g, "a", {4, 6});
  Value* b = g.add_constant("b", cuda_random({6, 5}, 2));
  Value* bias = g.add_constant("bias", cuda_random({5}, 3));
  Attributes gelu;
  gelu.set("activation", Attribute::of_string("Gelu"));
  Value* z = f32_value(g, "z", {4, 5});
  g.add_node(OpKind::KilnFusedMatMul, {a, b, bias}, {z}, gelu, "gelu_mm", 17);
  g.inputs = {x, a};
  g.outputs = {y, z};
  infer_shapes(g);
  for (const auto& n : g.nodes()) {
    std::vector<artifact::LaunchArg> args;
    for (const Value* v : n->inputs())
      if (v) args.push_back({});
    args.push_back({});
    EXPECT_FALSE(library_launch_for(*n, args).has_value()) << n->label();
  }
}

TEST(CudaCompiler, BadInputFailsWithOneLine) {
  Graph g;
  test::build_conv_gemm_net(g);
  CudaCompileOptions o;
  o.arch = "sm_99";
  try {
    compile_for_cuda(g, o);
    FAIL() << "sm_99 accepted";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("--cuda-arch"), std::string::npos) << e.what();
  }
  // A CODE section that is not a CUDA container, or whose format disagrees with it.
  Graph g2;
  test::build_conv_gemm_net(g2);
  CudaCompileOptions default_sm90;
  cpu_codegen::CompiledModel m = compile_for_cuda(g2, default_sm90);
  std::vector<uint8_t> bad = m.code;
  bad[0] ^= 0xff;
  try {
    artifact::serialize_artifact(m.meta, m.weights, bad);
    FAIL() << "corrupt CUDA container accepted";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("not a Kiln CUDA code container"), std::string::npos)
        << e.what();
  }
  artifact::ArtifactMeta ptx_meta = m.meta;
  ptx_meta.code_format = artifact::CodeFormat::CudaPtx;
  EXPECT_THROW(artifact::serialize_artifact(ptx_meta, m.weights, m.code), Error);
  artifact::ArtifactMeta cpu_triple = m.meta;
  cpu_triple.target_triple = "x86_64-unknown-linux-gnu";  // CUDA code claiming a CPU target
  EXPECT_THROW(artifact::serialize_artifact(cpu_triple, m.weights, m.code), Error);
  artifact::ArtifactMeta bad_arch = m.meta;
  bad_arch.cpu_name = "sm_90,gpu";
  EXPECT_THROW(artifact::serialize_artifact(bad_arch, m.weights, m.code), Error);
  std::vector<uint8_t> truncated(m.code.begin(), m.code.begin() + 40);
  EXPECT_THROW(artifact::serialize_artifact(m.meta, m.weights, truncated), Error);
}

}  // namespace
}  // namespace kiln::cuda_codegen
