// Unary elementwise ops: values (numpy-computed or hand-checked), attributes, integer and
// half-precision paths, Clip across opsets, symbolic inference and error paths.
#include "tests/kernels/elementwise_test_util.h"

namespace kiln::test {
namespace {

struct UnaryCase {
  OpKind op;
  std::vector<float> expected;
};

// Expected values from numpy (float64, printed to 9 digits) for x = {-0.75, -0.5, 0.25, 0.5, 0.75}.
TEST(ElementwiseUnary, FloatTableMatchesNumpy) {
  const std::vector<UnaryCase> cases = {
      {OpKind::Sqrt, {kNaN, kNaN, 0.5, 0.707106781, 0.866025404}},
      {OpKind::Reciprocal, {-1.33333333, -2, 4, 2, 1.33333333}},
      {OpKind::Exp, {0.472366553, 0.60653066, 1.28402542, 1.64872127, 2.11700002}},
      {OpKind::Log, {kNaN, kNaN, -1.38629436, -0.693147181, -0.287682072}},
      {OpKind::Sin, {-0.68163876, -0.479425539, 0.247403959, 0.479425539, 0.68163876}},
      {OpKind::Cos, {0.731688869, 0.877582562, 0.968912422, 0.877582562, 0.731688869}},
      {OpKind::Tan, {-0.93159646, -0.54630249, 0.255341921, 0.54630249, 0.93159646}},
      {OpKind::Asin, {-0.848062079, -0.523598776, 0.252680255, 0.523598776, 0.848062079}},
      {OpKind::Acos, {2.41885841, 2.0943951, 1.31811607, 1.04719755, 0.722734248}},
      {OpKind::Atan, {-0.643501109, -0.463647609, 0.244978663, 0.463647609, 0.643501109}},
      {OpKind::Sinh, {-0.822316732, -0.521095305, 0.252612317, 0.521095305, 0.822316732}},
      {OpKind::Cosh, {1.29468328, 1.12762597, 1.0314131, 1.12762597, 1.29468328}},
      {OpKind::Asinh, {-0.693147181, -0.481211825, 0.247466462, 0.481211825, 0.693147181}},
      {OpKind::Acosh, {kNaN, kNaN, kNaN, kNaN, kNaN}},
      {OpKind::Atanh, {-0.972955075, -0.549306144, 0.255412812, 0.549306144, 0.972955075}},
      {OpKind::Tanh, {-0.635148952, -0.462117157, 0.244918662, 0.462117157, 0.635148952}},
      {OpKind::Sigmoid, {0.320821301, 0.377540669, 0.562176501, 0.622459331, 0.679178699}},
      {OpKind::Erf, {-0.711155634, -0.520499878, 0.27632639, 0.520499878, 0.711155634}},
      {OpKind::Softsign, {-0.428571429, -0.333333333, 0.2, 0.333333333, 0.428571429}},
      {OpKind::Softplus, {0.386871006, 0.474076984, 0.82593942, 0.974076984, 1.13687101}},
      {OpKind::HardSwish, {-0.28125, -0.208333333, 0.135416667, 0.291666667, 0.46875}},
      {OpKind::Mish, {-0.276494715, -0.220743775, 0.16957241, 0.375245211, 0.610018335}},
      {OpKind::Floor, {-1, -1, 0, 0, 0}},
      {OpKind::Ceil, {-0.0f, -0.0f, 1, 1, 1}},
      {OpKind::Abs, {0.75, 0.5, 0.25, 0.5, 0.75}},
      {OpKind::Neg, {0.75, 0.5, -0.25, -0.5, -0.75}},
      {OpKind::Relu, {0, 0, 0.25, 0.5, 0.75}},
      {OpKind::Sign, {-1, -1, 1, 1, 1}},
      {OpKind::Identity, {-0.75, -0.5, 0.25, 0.5, 0.75}},
  };
  const Tensor x = make<float>({5}, {-0.75f, -0.5f, 0.25f, 0.5f, 0.75f});
  const Tensor xd = make<double>({5}, {-0.75, -0.5, 0.25, 0.5, 0.75});
  for (const UnaryCase& c : cases) {
    SCOPED_TRACE(std::string(op_name(c.op)));
    expect_close(run_op1(c.op, {&x}), make<float>({5}, c.expected), 1e-6, 1e-7);
    std::vector<double> ed(c.expected.begin(), c.expected.end());
    expect_close(run_op1(c.op, {&xd}), make<double>({5}, ed), 1e-7, 1e-8);
  }
}

TEST(ElementwiseUnary, AcoshAndStableSoftplus) {
  const Tensor x = vec<float>({1, 2, 3});
  expect_close(run_op1(OpKind::Acosh, {&x}), vec<float>({0, 1.3169579f, 1.76274717f}));
  // log(1 + e^x) must not overflow for large |x|.
  const Tensor big = vec<float>({100, -100});
  expect_close(run_op1(OpKind::Softplus, {&big}), vec<float>({100, 3.7200760e-44f}));
  expect_close(run_op1(OpKind::Sigmoid, {&big}), vec<float>({1, 3.7200760e-44f}));
}

TEST(ElementwiseUnary, RoundIsHalfToEven) {
  const Tensor x = vec<float>({0.5f, 1.5f, 2.5f, -0.5f, -1.5f, -2.5f, 2.3f, -4.5f, 0.9f, kInf, kNaN});
  expect_equal(run_op1(OpKind::Round, {&x}),
               vec<float>({0, 2, 2, -0.0f, -2, -2, 2, -4, 1, kInf, kNaN}));
}

TEST(ElementwiseUnary, AttributeActivations) {
  const Tensor x = vec<float>({-2, -0.5f, 0, 0.5f, 2});
  expect_close(run_op1(OpKind::Elu, {&x}, attrs_f({{"alpha", 2}})),
               vec<float>({-1.72932943f, -0.786938681f, 0, 0.5f, 2}));
  expect_close(run_op1(OpKind::Selu, {&x}),
               vec<float>({-1.52016647f, -0.691758188f, 0, 0.525350494f, 2.10140197f}));
  expect_close(run_op1(OpKind::Celu, {&x}, attrs_f({{"alpha", 2}})),
               vec<float>({-1.26424112f, -0.442398434f, 0, 0.5f, 2}));
  expect_close(run_op1(OpKind::LeakyRelu, {&x}), vec<float>({-0.02f, -0.005f, 0, 0.5f, 2}));
  expect_close(run_op1(OpKind::LeakyRelu, {&x}, attrs_f({{"alpha", 0.5f}})),
               vec<float>({-1, -0.25f, 0, 0.5f, 2}));
  expect_close(run_op1(OpKind::ThresholdedRelu, {&x}), vec<float>({0, 0, 0, 0, 2}));
  expect_close(run_op1(OpKind::ThresholdedRelu, {&x}, attrs_f({{"alpha", 0.25f}})),
               vec<float>({0, 0, 0, 0.5f, 2}));
  expect_close(run_op1(OpKind::HardSigmoid, {&x}), vec<float>({0.1f, 0.4f, 0.5f, 0.6f, 0.9f}));
  expect_close(run_op1(OpKind::HardSigmoid, {&x}, attrs_f({{"alpha", 0.5f}, {"beta", 0.6f}})),
               vec<float>({0, 0.35f, 0.6f, 0.85f, 1}));
  expect_close(run_op1(OpKind::Gelu, {&x}),
               vec<float>({-0.0455002639f, -0.154268769f, 0, 0.345731231f, 1.95449974f}));
  expect_close(run_op1(OpKind::Gelu, {&x}, attr_s("approximate", "tanh")),
               vec<float>({-0.0454023059f, -0.15428599f, 0, 0.34571401f, 1.95459769f}));
  expect_close(run_op1(OpKind::Swish, {&x}),
               vec<float>({-0.238405844f, -0.188770334f, 0, 0.311229666f, 1.76159416f}));
  expect_close(run_op1(OpKind::Swish, {&x}, attrs_f({{"alpha", 2}})),
               vec<float>({-0.0359724199f, -0.134470711f, 0, 0.365529289f, 1.96402758f}));
}

TEST(ElementwiseUnary, Shrink) {
  const Tensor x = vec<float>({-2, -1, -0.5f, 0, 0.5f, 1, 2});
  expect_close(run_op1(OpKind::Shrink, {&x}), vec<float>({-2, -1, 0, 0, 0, 1, 2}));
  expect_close(run_op1(OpKind::Shrink, {&x}, attrs_f({{"lambd", 1.5f}, {"bias", 1.5f}})),
               vec<float>({-0.5f, 0, 0, 0, 0, 0, 0.5f}));
  // Integers compare and add in double, then truncate (numpy's promotion + astype).
  const Tensor xi = vec<int32_t>({-5, -2, -1, 0, 1, 2, 5});
  expect_equal(run_op1(OpKind::Shrink, {&xi}, attrs_f({{"lambd", 1.5f}, {"bias", 0.5f}})),
               vec<int32_t>({-4, -1, 0, 0, 0, 1, 4}));
  const Tensor xu = vec<uint8_t>({0, 1, 3, 200});
  expect_equal(run_op1(OpKind::Shrink, {&xu}, attrs_f({{"lambd", 1}, {"bias", 1}})),
               vec<uint8_t>({0, 0, 2, 199}));
}

TEST(ElementwiseUnary, IntegerPathsWrapWithoutOverflow) {
  const Tensor i8 = vec<int8_t>({-128, -5, 0, 7, 127});
  expect_equal(run_op1(OpKind::Abs, {&i8}), vec<int8_t>({-128, 5, 0, 7, 127}));
  expect_equal(run_op1(OpKind::Neg, {&i8}), vec<int8_t>({-128, 5, 0, -7, -127}));
  expect_equal(run_op1(OpKind::Sign, {&i8}), vec<int8_t>({-1, -1, 0, 1, 1}));
  expect_equal(run_op1(OpKind::Relu, {&i8}), vec<int8_t>({0, 0, 0, 7, 127}));
  expect_equal(run_op1(OpKind::BitwiseNot, {&i8}), vec<int8_t>({127, 4, -1, -8, -128}));
  const Tensor i32 = vec<int32_t>({INT32_MIN, -1, 3});
  expect_equal(run_op1(OpKind::Abs, {&i32}), vec<int32_t>({INT32_MIN, 1, 3}));
  expect_equal(run_op1(OpKind::Neg, {&i32}), vec<int32_t>({INT32_MIN, 1, -3}));
  const Tensor i64 = vec<int64_t>({INT64_MIN, -9, 0});
  expect_equal(run_op1(OpKind::Neg, {&i64}), vec<int64_t>({INT64_MIN, 9, 0}));
  const Tensor u16 = vec<uint16_t>({0, 1, 65535});
  expect_equal(run_op1(OpKind::Abs, {&u16}), vec<uint16_t>({0, 1, 65535}));
  expect_equal(run_op1(OpKind::Sign, {&u16}), vec<uint16_t>({0, 1, 1}));
  expect_equal(run_op1(OpKind::BitwiseNot, {&u16}), vec<uint16_t>({65535, 65534, 0}));
  // Erf took integers in opset 9 (computed in double and truncated).
  const Tensor e = vec<int32_t>({-3, 0, 3});
  expect_equal(run_op1(OpKind::Erf, {&e}, {}, 9), vec<int32_t>({0, 0, 0}));
  EXPECT_THROW(run_op1(OpKind::Erf, {&e}, {}, 13), Error);
}

TEST(ElementwiseUnary, BoolAndPredicates) {
  const Tensor b = vec<bool>({true, false});
  expect_equal(run_op1(OpKind::Not, {&b}), vec<bool>({false, true}));
  expect_equal(run_op1(OpKind::Identity, {&b}), vec<bool>({true, false}));
  const Tensor x = vec<float>({1, kNaN, kInf, -kInf, 0});
  expect_equal(run_op1(OpKind::IsNaN, {&x}), vec<bool>({false, true, false, false, false}));
  expect_equal(run_op1(OpKind::IsInf, {&x}), vec<bool>({false, false, true, true, false}));
  expect_equal(run_op1(OpKind::IsInf, {&x}, attr_i("detect_negative", 0)),
               vec<bool>({false, false, true, false, false}));
  expect_equal(run_op1(OpKind::IsInf, {&x}, attr_i("detect_positive", 0)),
               vec<bool>({false, false, false, true, false}));
  const Tensor xh = vec_f16({1, kNaN, kInf});
  expect_equal(run_op1(OpKind::IsNaN, {&xh}), vec<bool>({false, true, false}));
  EXPECT_EQ(run_op1(OpKind::Not, {&b}).dims(), (Dims{2}));
}

TEST(ElementwiseUnary, HalfPrecisionRoundsEachResult) {
  // exp(1) = 2.71828...: nearest f16 is 2.71875, nearest bf16 is 2.71875 too (8 bits: 2.71875).
  const Tensor h = vec_f16({1, 0, -1});
  expect_equal(run_op1(OpKind::Exp, {&h}), vec_f16({2.71875f, 1, 0.367919921875f}));
  const Tensor b = vec_bf16({1, 4});
  expect_equal(run_op1(OpKind::Exp, {&b}), vec_bf16({2.71875f, 54.5f}));
  expect_equal(run_op1(OpKind::Sqrt, {&b}), vec_bf16({1, 2}));
  expect_equal(run_op1(OpKind::Round, {&h}, {}, 11), vec_f16({1, 0, -1}));
  // Identity copies any dtype bit-for-bit; rank 0 and empty tensors work.
  const Tensor s = Tensor::scalar<int64_t>(-7);
  expect_equal(run_op1(OpKind::Identity, {&s}), Tensor::scalar<int64_t>(-7));
  const Tensor empty(DType::F32, {0, 3});
  EXPECT_EQ(run_op1(OpKind::Exp, {&empty}).dims(), (Dims{0, 3}));
}

// ---- Clip

TEST(ElementwiseClip, AttributesBeforeOpset11) {
  const Tensor x = vec<float>({-3, -1, 0, 1, 3, kNaN});
  expect_equal(run_op1(OpKind::Clip, {&x}, attrs_f({{"min", -1}, {"max", 2}}), 6),
               vec<float>({-1, -1, 0, 1, 2, kNaN}));
  expect_equal(run_op1(OpKind::Clip, {&x}, attrs_f({{"max", 0.5f}}), 6),
               vec<float>({-3, -1, 0, 0.5f, 0.5f, kNaN}));
  // Opset 6 defaults are +-FLT_MAX, even for doubles.
  const Tensor d = vec<double>({-1e300, 1e300, 5});
  expect_equal(run_op1(OpKind::Clip, {&d}, {}, 6),
               vec<double>({-3.4028234663852886e38, 3.4028234663852886e38, 5}));
  expect_equal(run_op1(OpKind::Clip, {&d}, {}, 13), vec<double>({-1e300, 1e300, 5}));
  const Tensor lo = Tensor::scalar<float>(0);
  EXPECT_THROW(run_op1(OpKind::Clip, {&x, &lo}, {}, 6), Error);
}

TEST(ElementwiseClip, InputsFromOpset11) {
  const Tensor x = vec<float>({-3, -1, 0, 1, 3});
  const Tensor lo = Tensor::scalar<float>(-1), hi = Tensor::scalar<float>(2);
  expect_equal(run_op1(OpKind::Clip, {&x, &lo, &hi}, {}, 11), vec<float>({-1, -1, 0, 1, 2}));
  expect_equal(run_op1(OpKind::Clip, {&x, nullptr, &hi}, {}, 13), vec<float>({-3, -1, 0, 1, 2}));
  expect_equal(run_op1(OpKind::Clip, {&x, &lo}, {}, 13), vec<float>({-1, -1, 0, 1, 3}));
  expect_equal(run_op1(OpKind::Clip, {&x}, {}, 13), x);
  // min > max: everything becomes max (min(max(x, lo), hi)).
  const Tensor lo2 = Tensor::scalar<float>(2), hi2 = Tensor::scalar<float>(1);
  expect_equal(run_op1(OpKind::Clip, {&x, &lo2, &hi2}, {}, 13), vec<float>({1, 1, 1, 1, 1}));
  // Integer types (opset 12+), and a 1-element 1-D bound.
  const Tensor xi = vec<int8_t>({-128, -1, 0, 127});
  const Tensor loi = vec<int8_t>({-5});
  expect_equal(run_op1(OpKind::Clip, {&xi, &loi}, {}, 12), vec<int8_t>({-5, -1, 0, 127}));
  // An attribute still applies when the input is absent; integer bounds round inward.
  expect_equal(run_op1(OpKind::Clip, {&xi}, attrs_f({{"min", -1.5f}, {"max", 1e10f}}), 13),
               vec<int8_t>({-1, -1, 0, 127}));
  const Tensor h = vec_f16({-3, 0.25f, 70000});
  const Tensor hlo = Tensor::scalar<half>(half(0.0f));
  expect_equal(run_op1(OpKind::Clip, {&h, &hlo}, {}, 13), vec_f16({0, 0.25f, kInf}));
}

TEST(ElementwiseClip, BadBounds) {
  const Tensor x = vec<float>({1, 2});
  const Tensor two = vec<float>({0, 1});
  EXPECT_THROW(run_op1(OpKind::Clip, {&x, &two}, {}, 13), Error);
  const Tensor wrong_type = Tensor::scalar<double>(0);
  EXPECT_THROW(run_op1(OpKind::Clip, {&x, &wrong_type}, {}, 13), Error);
  const Tensor b = vec<bool>({true});
  EXPECT_THROW(run_op1(OpKind::Clip, {&b}, {}, 13), Error);
}

// ---- inference and errors

TEST(ElementwiseInfer, UnaryKeepsSymbolicShape) {
  const ValueType x = vt(DType::F16, {"N", "3", "?"});
  EXPECT_EQ(infer1(OpKind::Tanh, {x}), x);
  const ValueType p = infer1(OpKind::IsNaN, {x});
  EXPECT_EQ(p.dtype, DType::Bool);
  EXPECT_EQ(p.shape, x.shape);
  const ValueType unknown{DType::F32, Shape::unknown_rank(), {}};
  EXPECT_EQ(infer1(OpKind::Relu, {unknown}), unknown);
  EXPECT_EQ(infer1(OpKind::Clip, {x, vt(DType::F16, {}), vt(DType::F16, {"?"})}, {}, 13), x);
}

TEST(ElementwiseInfer, RejectsBadDtypesAndAttributes) {
  const ValueType f = vt(DType::F32, {"2"});
  const ValueType i = vt(DType::I32, {"2"});
  const ValueType u = vt(DType::U32, {"2"});
  EXPECT_THROW(infer1(OpKind::Sqrt, {i}), Error);
  EXPECT_THROW(infer1(OpKind::Neg, {u}), Error);
  EXPECT_THROW(infer1(OpKind::Not, {f}), Error);
  EXPECT_THROW(infer1(OpKind::BitwiseNot, {f}), Error);
  EXPECT_THROW(infer1(OpKind::IsNaN, {i}), Error);
  EXPECT_THROW(infer1(OpKind::Relu, {u}), Error);
  EXPECT_THROW(infer1(OpKind::Gelu, {f}, attr_s("approximate", "erf")), Error);
  EXPECT_THROW(infer1(OpKind::Celu, {f}, attrs_f({{"alpha", 0}})), Error);
  EXPECT_THROW(infer1(OpKind::Clip, {f, vt(DType::F32, {"2"})}, {}, 13), Error);
  EXPECT_THROW(infer1(OpKind::Clip, {f, vt(DType::F64, {})}, {}, 13), Error);
  EXPECT_THROW(infer1(OpKind::Identity, {vt(DType::String, {"2"})}), Unsupported);
  EXPECT_THROW(infer1(OpKind::Abs, {f, f}), Error);  // arity
  EXPECT_THROW(infer1(OpKind::Exp, {}), Error);
  const Tensor x = vec<float>({1});
  EXPECT_THROW(run_op1(OpKind::Gelu, {&x}, attr_s("approximate", "fast")), Error);
  EXPECT_THROW(run_op1(OpKind::LeakyRelu, {&x}, attr_s("alpha", "big")), Error);  // wrong kind
}

}  // namespace
}  // namespace kiln::test
