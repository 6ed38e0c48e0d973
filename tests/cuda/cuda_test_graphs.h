// Small graphs for the CUDA tests: one that exercises every kernel family of codegen/gpu, and
// a conv + GEMM network whose heavy nodes go to cuDNN / cuBLASLt.
#pragma once

#include <random>

#include "ir/graph.h"
#include "ir/infer.h"

namespace kiln::test {

inline Tensor cuda_random(const Dims& dims, uint32_t seed, float lo = -1.0f, float hi = 1.0f) {
  std::mt19937 rng(seed);
  std::uniform_real_distribution<float> dist(lo, hi);
  Tensor t(DType::F32, dims);
  for (int64_t i = 0; i < t.numel(); ++i) t.data<float>()[i] = dist(rng);
  return t;
}

inline Value* f32_value(Graph& g, const std::string& name, const Dims& dims) {
  return g.add_value(name, ValueType::of(DType::F32, dims));
}

// x [2, 3, 8, 8] through conv, pooling, elementwise, transpose/concat/slice/gather, reduce,
// softmax, layer norm and a generated GEMM: every family, no host fallback.
inline void build_all_families(Graph& g) {
  Value* x = f32_value(g, "x", {2, 3, 8, 8});
  Value* w = g.add_constant("w", cuda_random({4, 3, 3, 3}, 1));
  Value* c = f32_value(g, "c", {2, 4, 8, 8});
  Attributes ca;
  ca.set("pads", Attribute::of_ints({1, 1, 1, 1}));
  g.add_node(OpKind::Conv, {x, w}, {c}, ca, "conv", 17);
  Value* p = f32_value(g, "p", {2, 4, 4, 4});
  Attributes pa;
  pa.set("kernel_shape", Attribute::of_ints({2, 2}));
  pa.set("strides", Attribute::of_ints({2, 2}));
  g.add_node(OpKind::MaxPool, {c}, {p}, pa, "pool", 17);
  Value* k = g.add_constant("k", Tensor::scalar<float>(0.5f));
  Value* m = f32_value(g, "m", {2, 4, 4, 4});
  g.add_node(OpKind::Mul, {p, k}, {m}, {}, "mul", 17);
  Value* s = f32_value(g, "s", {2, 4, 4, 4});
  g.add_node(OpKind::Sigmoid, {m}, {s}, {}, "sigmoid", 17);
  Value* t = f32_value(g, "t", {2, 4, 4, 4});
  Attributes ta;
  ta.set("perm", Attribute::of_ints({0, 1, 3, 2}));
  g.add_node(OpKind::Transpose, {s}, {t}, ta, "transpose", 17);
  Value* cat = f32_value(g, "cat", {2, 8, 4, 4});
  Attributes cat_a;
  cat_a.set("axis", Attribute::of_int(1));
  g.add_node(OpKind::Concat, {t, p}, {cat}, cat_a, "concat", 17);
  Value* idx = g.add_constant("idx", Tensor::from_vector<int64_t>({0, 3, 5}, {3}));
  Value* gat = f32_value(g, "gat", {2, 3, 4, 4});
  Attributes ga;
  ga.set("axis", Attribute::of_int(1));
  g.add_node(OpKind::Gather, {cat, idx}, {gat}, ga, "gather", 17);
  Value* r = f32_value(g, "r", {2, 3, 4, 1});
  Attributes ra;
  ra.set("axes", Attribute::of_ints({3}));
  g.add_node(OpKind::ReduceMean, {gat}, {r}, ra, "reduce", 17);
  Value* flat_shape = g.add_constant("flat_shape", Tensor::from_vector<int64_t>({2, 12}, {2}));
  Value* flat = f32_value(g, "flat", {2, 12});
  g.add_node(OpKind::Reshape, {r, flat_shape}, {flat}, {}, "reshape", 17);
  Value* sm = f32_value(g, "sm", {2, 12});
  Attributes sa;
  sa.set("axis", Attribute::of_int(-1));
  g.add_node(OpKind::Softmax, {flat}, {sm}, sa, "softmax", 17);
  Value* scale = g.add_constant("scale", cuda_random({12}, 2));
  Value* bias = g.add_constant("bias", cuda_random({12}, 3));
  Value* ln = f32_value(g, "ln", {2, 12});
  g.add_node(OpKind::LayerNormalization, {sm, scale, bias}, {ln}, {}, "layernorm", 17);
  Value* fc = g.add_constant("fc", cuda_random({12, 5}, 4));
  Value* y = f32_value(g, "y", {2, 5});
  g.add_node(OpKind::MatMul, {ln, fc}, {y}, {}, "matmul", 17);
  g.inputs = {x};
  g.outputs = {y};
  infer_shapes(g);
}

// x [2, 3, 8, 8] -> conv(+bias) -> relu -> flatten -> gemm(+bias) -> relu -> matmul -> y [2, 6]
inline void build_conv_gemm_net(Graph& g) {
  Value* x = f32_value(g, "x", {2, 3, 8, 8});
  Value* w = g.add_constant("w", cuda_random({4, 3, 3, 3}, 11));
  Value* b = g.add_constant("b", cuda_random({4}, 12));
  Value* c = f32_value(g, "c", {2, 4, 8, 8});
  Attributes ca;
  ca.set("pads", Attribute::of_ints({1, 1, 1, 1}));
  g.add_node(OpKind::Conv, {x, w, b}, {c}, ca, "conv", 17);
  Value* r = f32_value(g, "r", {2, 4, 8, 8});
  g.add_node(OpKind::Relu, {c}, {r}, {}, "relu", 17);
  Value* flat = f32_value(g, "flat", {2, 256});
  g.add_node(OpKind::Flatten, {r}, {flat}, {}, "flatten", 17);
  Value* w2 = g.add_constant("w2", cuda_random({16, 256}, 13));
  Value* b2 = g.add_constant("b2", cuda_random({16}, 14));
  Value* h = f32_value(g, "h", {2, 16});
  Attributes gemm;
  gemm.set("transB", Attribute::of_int(1));
  g.add_node(OpKind::Gemm, {flat, w2, b2}, {h}, gemm, "fc1", 17);
  Value* hr = f32_value(g, "hr", {2, 16});
  g.add_node(OpKind::Relu, {h}, {hr}, {}, "relu2", 17);
  Value* w3 = g.add_constant("w3", cuda_random({16, 6}, 15));
  Value* y = f32_value(g, "y", {2, 6});
  g.add_node(OpKind::MatMul, {hr, w3}, {y}, {}, "fc2", 17);
  g.inputs = {x};
  g.outputs = {y};
  infer_shapes(g);
}

}  // namespace kiln::test
