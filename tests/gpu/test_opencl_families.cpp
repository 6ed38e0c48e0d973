// Every kernel family the OpenCL target generates, run on the first OpenCL device (PoCL here) in
// both profiles (GPU NDRange kernels and FPGA single-work-item kernels) against the reference
// kernels, on a few random shapes per family. Skips only when no OpenCL platform exists.
#ifdef KILN_HAVE_OPENCL_CODEGEN
#include "tests/gpu/gpu_test_util.h"

namespace kiln::gpu_test {
namespace {

Attribute ints(std::vector<int64_t> v) { return Attribute::of_ints(std::move(v)); }
Attribute i1(int64_t v) { return Attribute::of_int(v); }
Attribute f1(float v) { return Attribute::of_float(v); }

void both_profiles(ClHarness& cl, const GraphCase& c) {
  for (bool fpga : {false, true}) {
    SCOPED_TRACE(fpga ? "fpga profile" : "gpu profile");
    check_on_opencl(cl, c, fpga);
  }
}

TEST(OpenClFamilies, FusedElementwiseChainsWithBroadcast) {
  KILN_REQUIRE_OPENCL(cl);
  GraphCase c;
  c.rtol = 2e-5f;
  c.atol = 1e-6f;
  c.build = [](Graph& g, std::map<std::string, Tensor>& d) {
    Value* x = input(g, d, "x", random_f32({2, 3, 5, 7}, 1, -6, 6));
    Value* s = input(g, d, "s", random_f32({3, 1, 1}, 2));
    Value* b = g.add_constant("b", random_f32({1, 7}, 3));
    // sigmoid((x * s + b) - max(x, b)) -> one fused kernel; then a unary op sweep.
    Value* m = g.add_value("m");
    Value* a = g.add_value("a");
    Value* mx = g.add_value("mx");
    Value* sub = g.add_value("sub");
    g.add_node(OpKind::Mul, {x, s}, {m}, {}, "mul", 17);
    g.add_node(OpKind::Add, {m, b}, {a}, {}, "add", 17);
    g.add_node(OpKind::Max, {x, b}, {mx}, {}, "max", 17);
    g.add_node(OpKind::Sub, {a, mx}, {sub}, {}, "sub", 17);
    node(g, OpKind::Sigmoid, {sub}, {}, 17);
    for (OpKind op : {OpKind::Relu, OpKind::Tanh, OpKind::Exp, OpKind::Abs, OpKind::Erf,
                      OpKind::HardSwish, OpKind::Floor, OpKind::Softplus, OpKind::Gelu,
                      OpKind::Neg, OpKind::Ceil})
      node(g, op, {x}, {}, 20);
    node(g, OpKind::LeakyRelu, {x}, attrs({{"alpha", f1(0.3f)}}), 17);
    node(g, OpKind::HardSigmoid, {x}, attrs({{"alpha", f1(0.25f)}, {"beta", f1(0.4f)}}), 17);
    node(g, OpKind::Gelu, {x}, attrs({{"approximate", Attribute::of_string("tanh")}}), 20);
    node(g, OpKind::Div, {x, s}, {}, 17);
    // fp16 storage: widened on load, computed in f32, rounded on store; Casts fuse as loads.
    const Tensor xf = random_f32({4, 9}, 4, -3, 3);
    Tensor xh(DType::F16, {4, 9});
    for (int64_t i = 0; i < xf.numel(); ++i) xh.data<half>()[i] = half(xf.data<float>()[i]);
    Value* h = input(g, d, "h", xh);
    node(g, OpKind::Sigmoid, {h}, {}, 17);
    node(g, OpKind::Cast, {h}, attrs({{"to", Attribute::of_int(static_cast<int64_t>(DType::F32))}}),
         19);
  };
  both_profiles(*cl, c);
}

TEST(OpenClFamilies, ReductionsOverRandomAxes) {
  KILN_REQUIRE_OPENCL(cl);
  std::mt19937 rng(11);
  for (int round = 0; round < 2; ++round) {
    Dims dims;
    const int rank = 2 + round;
    for (int i = 0; i < rank; ++i) dims.push_back(1 + static_cast<int64_t>(rng() % 6));
    std::vector<int64_t> axes;
    for (int i = 0; i < rank; ++i)
      if (rng() % 2) axes.push_back(i - (rng() % 2 ? rank : 0));
    const int64_t keep = rng() % 2;
    GraphCase c;
    c.rtol = 1e-4f;
    c.build = [&](Graph& g, std::map<std::string, Tensor>& d) {
      Value* x = input(g, d, "x", random_f32(dims, 5 + round, 0.1f, 2.0f));
      Value* ax = g.add_constant("axes", Tensor::from_vector<int64_t>(axes, {int64_t(axes.size())}));
      for (OpKind op : {OpKind::ReduceSum, OpKind::ReduceMean, OpKind::ReduceMax,
                        OpKind::ReduceMin, OpKind::ReduceProd, OpKind::ReduceL1, OpKind::ReduceL2,
                        OpKind::ReduceLogSum, OpKind::ReduceLogSumExp, OpKind::ReduceSumSquare})
        node(g, op, {x, ax}, attrs({{"keepdims", i1(keep)}}), 18);
      // Opset-13 attribute form, and an empty axes list (reduces everything).
      node(g, OpKind::ReduceMax, {x}, attrs({{"axes", ints({0})}, {"keepdims", i1(0)}}), 13);
      node(g, OpKind::ReduceSum, {x}, attrs({{"keepdims", i1(1)}}), 13);
    };
    SCOPED_TRACE(dims_to_string(dims));
    both_profiles(*cl, c);
  }
}

TEST(OpenClFamilies, SoftmaxLogSoftmaxAndLayerNorm) {
  KILN_REQUIRE_OPENCL(cl);
  GraphCase c;
  c.rtol = 1e-4f;
  c.atol = 1e-5f;
  c.build = [](Graph& g, std::map<std::string, Tensor>& d) {
    Value* x = input(g, d, "x", random_f32({3, 4, 9}, 21, -5, 5));
    node(g, OpKind::Softmax, {x}, attrs({{"axis", i1(1)}}), 13);
    node(g, OpKind::LogSoftmax, {x}, attrs({{"axis", i1(-1)}}), 13);
    node(g, OpKind::Softmax, {x}, attrs({{"axis", i1(1)}}), 11);  // coerced to 2-D
    Value* scale = g.add_constant("scale", random_f32({9}, 22));
    Value* bias = g.add_constant("bias", random_f32({9}, 23));
    node(g, OpKind::LayerNormalization, {x, scale, bias}, attrs({{"epsilon", f1(1e-3f)}}), 17, 3);
    Value* scale2 = g.add_constant("scale2", random_f32({4, 9}, 24));
    node(g, OpKind::LayerNormalization, {x, scale2}, attrs({{"axis", i1(1)}}), 17);
  };
  both_profiles(*cl, c);
}

TEST(OpenClFamilies, Pooling) {
  KILN_REQUIRE_OPENCL(cl);
  GraphCase c;
  c.build = [](Graph& g, std::map<std::string, Tensor>& d) {
    Value* x = input(g, d, "x", random_f32({2, 3, 9, 8}, 31));
    node(g, OpKind::MaxPool, {x},
         attrs({{"kernel_shape", ints({3, 2})}, {"strides", ints({2, 2})},
                {"pads", ints({1, 0, 1, 1})}, {"dilations", ints({1, 2})}}), 12);
    node(g, OpKind::AveragePool, {x},
         attrs({{"kernel_shape", ints({3, 3})}, {"strides", ints({2, 2})},
                {"pads", ints({1, 1, 1, 1})}, {"count_include_pad", i1(1)}}), 19);
    node(g, OpKind::AveragePool, {x},
         attrs({{"kernel_shape", ints({2, 3})}, {"strides", ints({2, 2})}, {"ceil_mode", i1(1)},
                {"pads", ints({0, 1, 0, 1})}}), 19);
    node(g, OpKind::MaxPool, {x},
         attrs({{"kernel_shape", ints({2, 2})}, {"auto_pad", Attribute::of_string("SAME_UPPER")}}),
         12);
    node(g, OpKind::GlobalAveragePool, {x}, {}, 1);
    node(g, OpKind::GlobalMaxPool, {x}, {}, 1);
    Value* x1 = input(g, d, "x1", random_f32({1, 2, 11}, 32));
    node(g, OpKind::AveragePool, {x1}, attrs({{"kernel_shape", ints({4})}, {"strides", ints({3})}}),
         19);
  };
  both_profiles(*cl, c);
}

TEST(OpenClFamilies, DataMovement) {
  KILN_REQUIRE_OPENCL(cl);
  GraphCase c;
  c.build = [](Graph& g, std::map<std::string, Tensor>& d) {
    Value* x = input(g, d, "x", random_f32({2, 3, 4}, 41));
    Value* y = input(g, d, "y", random_f32({2, 5, 4}, 42));
    node(g, OpKind::Transpose, {x}, attrs({{"perm", ints({2, 0, 1})}}), 13);
    node(g, OpKind::Transpose, {x}, {}, 13);
    auto i64s = [&](const char* n, std::vector<int64_t> v) {
      return g.add_constant(g.unique_name(n), Tensor::from_vector<int64_t>(v, {int64_t(v.size())}));
    };
    node(g, OpKind::Slice, {x, i64s("st", {-1, 1}), i64s("en", {-100, 4}), i64s("ax", {2, 1}),
                            i64s("sp", {-2, 2})}, {}, 13);
    Value* e = input(g, d, "e", Tensor(DType::F32, {2, 0, 4}));  // an empty part is skipped
    node(g, OpKind::Concat, {e, x, y, x}, attrs({{"axis", i1(1)}}), 13);
    Tensor idx = Tensor::from_vector<int64_t>({2, -1, 0, 1, 0, 3}, {2, 3});
    node(g, OpKind::Gather, {x, g.add_constant("idx", idx)}, attrs({{"axis", i1(2)}}), 13);
    Value* gi = input(g, d, "gi", Tensor::from_vector<int32_t>({1, -2, 0}, {3}));
    node(g, OpKind::Gather, {y, gi}, attrs({{"axis", i1(1)}}), 13);
    Value* col = input(g, d, "col", random_f32({3, 1}, 43));
    node(g, OpKind::Expand, {col, i64s("shape", {2, 3, 4})}, {}, 13);
    node(g, OpKind::Tile, {x, i64s("reps", {1, 2, 3})}, {}, 13);
    node(g, OpKind::Pad, {x, i64s("pads", {0, 1, 2, 1, 0, 1}),
                          g.add_constant("pv", Tensor::scalar<float>(1.5f))},
         attrs({{"mode", Attribute::of_string("constant")}}), 13);
    node(g, OpKind::Cast, {gi}, attrs({{"to", i1(static_cast<int64_t>(DType::F32))}}), 13);
    node(g, OpKind::Cast, {x}, attrs({{"to", i1(static_cast<int64_t>(DType::Bool))}}), 13);
    node(g, OpKind::Reshape, {x, i64s("rs", {4, 6})}, {}, 14);  // a graph input: copied
  };
  both_profiles(*cl, c);
}

TEST(OpenClFamilies, GemmMatMulAndFusedMatMul) {
  KILN_REQUIRE_OPENCL(cl);
  GraphCase c;
  c.rtol = 1e-4f;
  c.atol = 1e-4f;
  c.build = [](Graph& g, std::map<std::string, Tensor>& d) {
    Value* a = input(g, d, "a", random_f32({19, 13}, 51));
    Value* b = g.add_constant("b", random_f32({21, 13}, 52));
    Value* cc = g.add_constant("c", random_f32({21}, 53));
    node(g, OpKind::Gemm, {a, b, cc},
         attrs({{"transB", i1(1)}, {"alpha", f1(0.5f)}, {"beta", f1(2.0f)}}), 13);
    node(g, OpKind::Gemm, {a, a}, attrs({{"transA", i1(1)}}), 13);
    Value* ba = input(g, d, "ba", random_f32({2, 1, 5, 17}, 54));
    Value* bb = input(g, d, "bb", random_f32({3, 17, 6}, 55));
    node(g, OpKind::MatMul, {ba, bb}, {}, 13);  // batch broadcast -> [2, 3, 5, 6]
    Value* v = input(g, d, "v", random_f32({17}, 56));
    node(g, OpKind::MatMul, {v, bb}, {}, 13);  // 1-D A
    node(g, OpKind::MatMul, {ba, v}, {}, 13);  // 1-D B
    Value* w = g.add_constant("w", random_f32({6, 17}, 57));
    Value* bias = g.add_constant("fb", random_f32({6}, 58));
    Value* res = input(g, d, "res", random_f32({5, 6}, 59));
    node(g, OpKind::KilnFusedMatMul, {ba, w, bias, res},
         attrs({{"trans_b", i1(1)}, {"alpha", f1(1.5f)},
                {"activation", Attribute::of_string("LeakyRelu")},
                {"activation_alpha", f1(0.2f)}}), 1);
  };
  both_profiles(*cl, c);
}

TEST(OpenClFamilies, ConvolutionWithEpilogues) {
  KILN_REQUIRE_OPENCL(cl);
  GraphCase c;
  c.rtol = 1e-4f;
  c.atol = 1e-4f;
  c.build = [](Graph& g, std::map<std::string, Tensor>& d) {
    Value* x = input(g, d, "x", random_f32({2, 4, 9, 7}, 61));
    Value* w = g.add_constant("w", random_f32({6, 2, 3, 3}, 62));
    Value* b = g.add_constant("b", random_f32({6}, 63));
    node(g, OpKind::Conv, {x, w, b},
         attrs({{"group", i1(2)}, {"pads", ints({1, 0, 1, 2})}, {"strides", ints({2, 1})},
                {"dilations", ints({1, 2})}}), 11);
    Value* w2 = g.add_constant("w2", random_f32({5, 4, 3, 3}, 64));
    Value* res = input(g, d, "res", random_f32({2, 5, 9, 7}, 65));
    node(g, OpKind::KilnFusedConv, {x, w2, nullptr, res},
         attrs({{"auto_pad", Attribute::of_string("SAME_UPPER")},
                {"activation", Attribute::of_string("Relu")}}), 1);
    Value* x1 = input(g, d, "x1", random_f32({1, 3, 12}, 66));
    Value* w1 = input(g, d, "w1", random_f32({4, 3, 5}, 67));  // computed weights work too
    node(g, OpKind::Conv, {x1, w1}, attrs({{"strides", ints({2})}}), 11);
  };
  both_profiles(*cl, c);
}

}  // namespace
}  // namespace kiln::gpu_test
#endif  // KILN_HAVE_OPENCL_CODEGEN
