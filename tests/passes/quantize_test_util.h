// Helpers of the int8 tests: small float models built in code with seeded weights, and
// calibration folders of .npy files.
#pragma once

#include <unistd.h>

#include <cmath>
#include <filesystem>
#include <random>
#include <string>

#include "ir/graph.h"
#include "ir/infer.h"
#include "runtime/io/npy.h"

namespace kiln::test {

inline Tensor uniform(const Dims& dims, std::mt19937& rng, float lo, float hi) {
  std::uniform_real_distribution<float> d(lo, hi);
  Tensor t(DType::F32, dims);
  for (int64_t i = 0; i < t.numel(); ++i) t.data<float>()[i] = d(rng);
  return t;
}

inline ValueType typed(DType t, const Dims& d) {
  ValueType v;
  v.dtype = t;
  v.shape = Shape::of(d);
  return v;
}
inline ValueType f32_of(const Dims& d) { return typed(DType::F32, d); }

// x [2,8,10,10] -> Conv 8->8 3x3 pad 1 + bias -> Relu -> MaxPool 2 -> Reshape [2,200]
// -> Gemm 200->10 (transB) + bias.
inline void build_small_cnn(Graph& g) {
  std::mt19937 rng(21);
  Value* x = g.add_value("x", f32_of({2, 8, 10, 10}));
  g.inputs.push_back(x);
  Value* w = g.add_constant("w", uniform({8, 8, 3, 3}, rng, -0.25f, 0.25f));
  Value* b = g.add_constant("b", uniform({8}, rng, -0.2f, 0.2f));
  Attributes ca;
  ca.set("pads", Attribute::of_ints({1, 1, 1, 1}));
  Value* c = g.add_value("c");
  g.add_node(OpKind::Conv, {x, w, b}, {c}, ca, "conv", 17);
  Value* r = g.add_value("r");
  g.add_node(OpKind::Relu, {c}, {r}, {}, "relu", 17);
  Attributes pool;
  pool.set("kernel_shape", Attribute::of_ints({2, 2}));
  pool.set("strides", Attribute::of_ints({2, 2}));
  Value* p = g.add_value("p");
  g.add_node(OpKind::MaxPool, {r}, {p}, pool, "pool", 17);
  Value* shape = g.add_constant("shape", Tensor::from_vector<int64_t>({2, 200}, {2}));
  Value* f = g.add_value("f");
  g.add_node(OpKind::Reshape, {p, shape}, {f}, {}, "flat", 17);
  Value* w1 = g.add_constant("w1", uniform({10, 200}, rng, -0.15f, 0.15f));
  Value* b1 = g.add_constant("b1", uniform({10}, rng, -0.1f, 0.1f));
  Attributes tb;
  tb.set("transB", Attribute::of_int(1));
  Value* y = g.add_value("y");
  g.add_node(OpKind::Gemm, {f, w1, b1}, {y}, tb, "fc", 17);
  g.outputs.push_back(y);
  infer_shapes(g);
}

// Convolutions that quantize-int8 links through u8 (quantize_link.h): x [1,16,8,8] ->
// P (3x3 16->64 pad 1, Relu) -> A (1x1 64->64, Clip 0..6) -> B (1x1 64->64) + p (residual)
// -> D (depthwise 3x3, stays f32) -> D_out; N (1x1 64->8 on p: int8 does not pay alone, but p
// is u8) -> N_out; M (3x3 stride 2 16->8 on x, f32 in and out: stays f32) -> M_out. After
// fuse-conv-epilogue and quantize-int8, p and a are u8, s stays f32.
inline void build_linked_cnn(Graph& g) {
  std::mt19937 rng(31);
  Value* x = g.add_value("x", f32_of({1, 16, 8, 8}));
  g.inputs.push_back(x);
  auto conv = [&](const std::string& name, Value* in, int64_t m, int64_t c, int64_t k,
                  int64_t group, bool bias, int64_t stride = 1) {
    Attributes a;
    a.set("pads", Attribute::of_ints({k / 2, k / 2, k / 2, k / 2}));
    a.set("strides", Attribute::of_ints({stride, stride}));
    a.set("group", Attribute::of_int(group));
    const float r = 1.0f / std::sqrt(static_cast<float>(c / group * k * k));
    std::vector<Value*> ins = {in, g.add_constant(name + "_w", uniform({m, c / group, k, k}, rng,
                                                                       -r, r))};
    if (bias) ins.push_back(g.add_constant(name + "_b", uniform({m}, rng, -0.2f, 0.2f)));
    Value* out = g.add_value(name + "_out");
    g.add_node(OpKind::Conv, ins, {out}, a, name, 17);
    return out;
  };
  auto unary = [&](OpKind op, const std::string& name, std::vector<Value*> ins) {
    Value* out = g.add_value(name);
    g.add_node(op, std::move(ins), {out}, {}, name, 17);
    return out;
  };
  Value* p = unary(OpKind::Relu, "p", {conv("P", x, 64, 16, 3, 1, true)});
  Value* lo = g.add_constant("lo", Tensor::scalar<float>(0.0f));
  Value* hi = g.add_constant("hi", Tensor::scalar<float>(6.0f));
  Value* a = unary(OpKind::Clip, "a", {conv("A", p, 64, 64, 1, 1, true), lo, hi});
  Value* s = unary(OpKind::Add, "s", {conv("B", a, 64, 64, 1, 1, true), p});
  Value* y = conv("D", s, 64, 64, 3, 64, false);
  Value* y2 = conv("N", p, 8, 64, 1, 1, true);
  Value* y3 = conv("M", x, 8, 16, 3, 1, true, 2);
  g.outputs = {y, y2, y3};
  infer_shapes(g);
}

// A fresh, empty folder under the system temp dir.
inline std::filesystem::path quant_temp_dir(const std::string& name) {
  auto d = std::filesystem::temp_directory_path() /
           ("kiln_int8_" + name + "_" + std::to_string(::getpid()));
  std::filesystem::remove_all(d);
  std::filesystem::create_directories(d);
  return d;
}

// `files` .npy files of `per_file` samples of dims `sample` each, uniform in [lo, hi].
inline std::filesystem::path calib_dir(const std::string& name, const Dims& sample, int files,
                                       int64_t per_file, float lo = -1.0f, float hi = 1.0f) {
  const auto d = quant_temp_dir(name);
  std::mt19937 rng(99);
  for (int i = 0; i < files; ++i) {
    Dims dims{per_file};  // [per_file, sample...]
    dims.insert(dims.end(), sample.begin(), sample.end());
    write_npy(d / ("sample_" + std::to_string(i) + ".npy"), uniform(dims, rng, lo, hi));
  }
  return d;
}

}  // namespace kiln::test
