// Shared by the OpenCL codegen tests: a graph-building helper that infers shapes, random inputs,
// and a check that compiles a graph with compile_for_opencl (either profile), runs it on the
// first OpenCL device with the test harness, and compares every output with the reference
// interpreter.
#pragma once

#include <gtest/gtest.h>

#include <cmath>
#include <functional>
#include <random>

#include "codegen/opencl/opencl_compiler.h"
#include "codegen/ref/interpreter.h"
#include "ir/infer.h"
#include "tests/gpu/opencl_harness.h"

namespace kiln::gpu_test {

inline Tensor random_f32(const Dims& dims, uint32_t seed, float lo = -2.0f, float hi = 2.0f) {
  std::mt19937 rng(seed);
  std::uniform_real_distribution<float> dist(lo, hi);
  Tensor t(DType::F32, dims);
  for (int64_t i = 0; i < t.numel(); ++i) t.data<float>()[i] = dist(rng);
  return t;
}

inline Attributes attrs(std::initializer_list<std::pair<const char*, Attribute>> list) {
  Attributes a;
  for (const auto& [k, v] : list) a.set(k, v);
  return a;
}

// Builds graphs: inputs with data, nodes whose outputs are graph outputs.
struct GraphCase {
  std::function<void(Graph&, std::map<std::string, Tensor>&)> build;
  float rtol = 1e-4f, atol = 1e-5f;
  bool allow_fallback = false;
};

inline Value* input(Graph& g, std::map<std::string, Tensor>& data, const std::string& name,
                    Tensor t) {
  Value* v = g.add_value(name, ValueType::of(t.dtype(), t.dims()));
  g.inputs.push_back(v);
  data[name] = std::move(t);
  return v;
}

// Adds `op` with a fresh output that becomes a graph output.
inline Value* node(Graph& g, OpKind op, std::vector<Value*> ins, Attributes a = {}, int opset = 18,
                   int outputs = 1) {
  std::vector<Value*> outs;
  const std::string base = cat(op_name(op), "_", g.nodes().size());
  for (int i = 0; i < outputs; ++i) outs.push_back(g.add_value(cat(base, "_y", i)));
  g.add_node(op, std::move(ins), outs, std::move(a), base, opset);
  for (Value* v : outs) g.outputs.push_back(v);
  return outs[0];
}

inline void expect_close(const std::map<std::string, Tensor>& got,
                         const std::map<std::string, Tensor>& want, float rtol, float atol) {
  ASSERT_EQ(got.size(), want.size());
  for (const auto& [name, w] : want) {
    const Tensor& t = got.at(name);
    ASSERT_EQ(t.dims(), w.dims()) << name;
    ASSERT_EQ(t.dtype(), w.dtype()) << name;
    if (w.dtype() == DType::F16) {  // one fp16 rounding step apart at most
      for (int64_t i = 0; i < t.numel(); ++i) {
        const float a = t.data<half>()[i], b = w.data<half>()[i];
        EXPECT_LE(std::fabs(a - b), 1e-3f * std::fabs(b) + 1e-6f) << name << "[" << i << "]";
      }
      continue;
    }
    if (w.dtype() != DType::F32) {
      EXPECT_TRUE(t.bytes_equal(w)) << name;
      continue;
    }
    int bad = 0;
    for (int64_t i = 0; i < t.numel() && bad < 5; ++i) {
      const float a = t.data<float>()[i], b = w.data<float>()[i];
      const bool ok = std::isnan(b) ? std::isnan(a)
                                    : (a == b || std::fabs(a - b) <= atol + rtol * std::fabs(b));
      if (!ok) {
        ADD_FAILURE() << name << "[" << i << "]: opencl " << a << ", reference " << b;
        ++bad;
      }
    }
  }
}

// Compiles with the given profile, runs on OpenCL, compares with the reference interpreter.
// Returns the compiled model (its meta) for further checks.
inline cpu_codegen::CompiledModel check_on_opencl(ClHarness& cl, const GraphCase& c, bool fpga,
                                                  int opt_level = 2) {
  std::map<std::string, Tensor> data;
  Graph ref;
  c.build(ref, data);
  infer_shapes(ref);
  const auto want = Interpreter(ref).run(data);
  Graph g;
  std::map<std::string, Tensor> unused;
  c.build(g, unused);
  infer_shapes(g);
  opencl_codegen::OpenClCompileOptions o;
  o.fpga = fpga;
  o.opt_level = opt_level;
  o.passes = {"dce"};  // keep the nodes as built: the families are under test
  cpu_codegen::CompiledModel m = opencl_codegen::compile_for_opencl(g, o);
  if (!c.allow_fallback) {
    for (const auto& l : m.meta.launches) {
      EXPECT_NE(l.symbol, "kiln_host_op") << l.op << " '" << l.node_name << "' fell back";
    }
  }
  expect_close(cl.run(m, data), want, c.rtol, c.atol);
  return m;
}

#define KILN_REQUIRE_OPENCL(cl)                                                     \
  ::kiln::gpu_test::ClHarness* cl = ::kiln::gpu_test::ClHarness::get();             \
  if (!cl) GTEST_SKIP() << "no OpenCL platform/device found (install PoCL to run)"

}  // namespace kiln::gpu_test
