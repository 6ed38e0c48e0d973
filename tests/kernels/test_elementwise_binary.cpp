// Broadcasting elementwise ops: arithmetic (with integer wrap-around and division rules), Pow
// with mixed dtypes, Mod, BitShift, logic, comparisons, PRelu, Where, the variadic ops, symbolic
// inference and error paths. Values are hand-checked against numpy / the ONNX reference.
#include "tests/kernels/elementwise_test_util.h"

namespace kiln::test {
namespace {

TEST(ElementwiseBinary, ArithmeticBroadcasts) {
  const Tensor a = make<float>({2, 3}, {1, 2, 3, 4, 5, 6});
  const Tensor b = vec<float>({10, 20, 30});
  expect_equal(run_op1(OpKind::Add, {&a, &b}), make<float>({2, 3}, {11, 22, 33, 14, 25, 36}));
  expect_equal(run_op1(OpKind::Sub, {&a, &b}), make<float>({2, 3}, {-9, -18, -27, -6, -15, -24}));
  expect_equal(run_op1(OpKind::Mul, {&b, &a}), make<float>({2, 3}, {10, 40, 90, 40, 100, 180}));
  expect_close(run_op1(OpKind::Div, {&a, &b}),
               make<float>({2, 3}, {0.1f, 0.1f, 0.1f, 0.4f, 0.25f, 0.2f}));
  const Tensor col = make<double>({2, 1}, {1, 2});
  const Tensor row = make<double>({1, 3}, {10, 20, 30});
  expect_equal(run_op1(OpKind::Add, {&col, &row}), make<double>({2, 3}, {11, 21, 31, 12, 22, 32}));
  const Tensor s = Tensor::scalar<float>(2);
  expect_equal(run_op1(OpKind::Mul, {&s, &b}), vec<float>({20, 40, 60}));
  const Tensor empty(DType::F32, {0, 3});
  EXPECT_EQ(run_op1(OpKind::Add, {&empty, &b}).dims(), (Dims{0, 3}));
  const Tensor zero = vec<float>({0, 0, 2});
  const Tensor num = vec<float>({1, -1, 1});
  expect_equal(run_op1(OpKind::Div, {&num, &zero}), vec<float>({kInf, -kInf, 0.5f}));
  // f16: each result is rounded to f16 (1 + 2^-11 is a tie that rounds to even, 1).
  const Tensor h1 = vec_f16({1, 1}), h2 = vec_f16({0.00048828125f, 0.5f});
  expect_equal(run_op1(OpKind::Add, {&h1, &h2}), vec_f16({1, 1.5f}));
  const Tensor bf = vec_bf16({3}), bf2 = vec_bf16({0.1f});
  expect_equal(run_op1(OpKind::Mul, {&bf, &bf2}), vec_bf16({0.30078125f}));
}

TEST(ElementwiseBinary, IntegerArithmeticWraps) {
  const Tensor imax = vec<int32_t>({INT32_MAX}), one = vec<int32_t>({1});
  expect_equal(run_op1(OpKind::Add, {&imax, &one}), vec<int32_t>({INT32_MIN}));
  const Tensor u200 = vec<uint8_t>({200}), u100 = vec<uint8_t>({100});
  expect_equal(run_op1(OpKind::Add, {&u200, &u100}), vec<uint8_t>({44}));
  expect_equal(run_op1(OpKind::Sub, {&u100, &u200}), vec<uint8_t>({156}));
  const Tensor big16 = vec<uint16_t>({65535});
  expect_equal(run_op1(OpKind::Mul, {&big16, &big16}), vec<uint16_t>({1}));
  const Tensor i64max = vec<int64_t>({INT64_MAX}), two = vec<int64_t>({2});
  expect_equal(run_op1(OpKind::Mul, {&i64max, &two}), vec<int64_t>({-2}));
}

TEST(ElementwiseBinary, IntegerDivisionTruncatesAndChecksZero) {
  const Tensor a = vec<int32_t>({7, -7, 7, -7, INT32_MIN});
  const Tensor b = vec<int32_t>({2, 2, -2, -2, -1});
  expect_equal(run_op1(OpKind::Div, {&a, &b}), vec<int32_t>({3, -3, -3, 3, INT32_MIN}));
  const Tensor u = vec<uint8_t>({200, 7}), d = vec<uint8_t>({3, 8});
  expect_equal(run_op1(OpKind::Div, {&u, &d}), vec<uint8_t>({66, 0}));
  const Tensor z = vec<int32_t>({1, 0, 1, 1, 1});
  EXPECT_THROW(run_op1(OpKind::Div, {&a, &z}), Error);
  EXPECT_THROW(run_op1(OpKind::Mod, {&a, &z}), Error);
  EXPECT_THROW(run_op1(OpKind::Mod, {&a, &z}, attr_i("fmod", 1)), Error);
}

TEST(ElementwiseBinary, Mod) {
  const Tensor a = vec<int64_t>({-4, 7, 5, 4, -7, 8, INT64_MIN});
  const Tensor b = vec<int64_t>({2, -3, 8, -2, 3, 5, -1});
  // fmod=0: Python %, the sign follows the divisor.
  expect_equal(run_op1(OpKind::Mod, {&a, &b}), vec<int64_t>({0, -2, 5, 0, 2, 3, 0}));
  // fmod=1: C fmod, the sign follows the dividend.
  expect_equal(run_op1(OpKind::Mod, {&a, &b}, attr_i("fmod", 1)),
               vec<int64_t>({0, 1, 5, 0, -1, 3, 0}));
  const Tensor u = vec<uint16_t>({7, 65535}), m = vec<uint16_t>({3, 256});
  expect_equal(run_op1(OpKind::Mod, {&u, &m}), vec<uint16_t>({1, 255}));
  const Tensor fa = vec<float>({-4.5f, 7.5f, 1, 3});
  const Tensor fb = vec<float>({2, -3, 0, kInf});
  expect_equal(run_op1(OpKind::Mod, {&fa, &fb}, attr_i("fmod", 1)),
               vec<float>({-0.5f, 1.5f, kNaN, 3}));
  EXPECT_THROW(run_op1(OpKind::Mod, {&fa, &fb}), Error);  // floats need fmod=1
  EXPECT_THROW(run_op1(OpKind::Mod, {&a, &b}, attr_i("fmod", 2)), Error);
}

TEST(ElementwiseBinary, PowMixedDtypes) {
  const Tensor x = vec<float>({2, 4, -8});
  const Tensor y = vec<float>({3, 0.5f, 1.0f / 3});
  expect_close(run_op1(OpKind::Pow, {&x, &y}, {}, 7), vec<float>({8, 2, kNaN}));
  // Integer ** integer: exact with wrap-around; negative exponents truncate the real result.
  const Tensor ib = vec<int32_t>({2, -3, 2, 1, -1, -1, 0, 3});
  const Tensor ie = vec<int64_t>({10, 3, -1, -5, -3, -2, 0, 21});
  expect_equal(run_op1(OpKind::Pow, {&ib, &ie}, {}, 15),
               vec<int32_t>({1024, -27, 0, 1, -1, 1, 1, 1870418611}));
  // Integer ** float: computed in double, truncated to the base dtype.
  const Tensor i2 = vec<int32_t>({2, 3});
  const Tensor f2 = vec<float>({0.5f, 2});
  expect_equal(run_op1(OpKind::Pow, {&i2, &f2}, {}, 12), vec<int32_t>({1, 9}));
  // Float ** integer, and f16 ** f32 (result in f16).
  const Tensor fb = vec<float>({2, 0.5f});
  const Tensor ue = vec<uint8_t>({3, 2});
  const Tensor ne = vec<int64_t>({-2, 3});
  expect_equal(run_op1(OpKind::Pow, {&fb, &ue}), vec<float>({8, 0.25f}));
  expect_equal(run_op1(OpKind::Pow, {&fb, &ne}), vec<float>({0.25f, 0.125f}));
  const Tensor hb = vec_f16({2, 3});
  expect_equal(run_op1(OpKind::Pow, {&hb, &f2}), vec_f16({1.4140625f, 9}));
  const Tensor zero = vec<int32_t>({0}), neg = vec<int32_t>({-1});
  EXPECT_THROW(run_op1(OpKind::Pow, {&zero, &neg}), Error);
  EXPECT_THROW(run_op1(OpKind::Pow, {&i2, &f2}, {}, 11), Error);  // same T before opset 12
  const Tensor bools = vec<bool>({true, false});
  EXPECT_THROW(run_op1(OpKind::Pow, {&fb, &bools}), Error);
}

TEST(ElementwiseBinary, BitShift) {
  const Tensor x = vec<uint8_t>({1, 255, 3, 1});
  const Tensor s = vec<uint8_t>({1, 1, 7, 8});
  expect_equal(run_op1(OpKind::BitShift, {&x, &s}, attr_s("direction", "LEFT")),
               vec<uint8_t>({2, 254, 128, 0}));
  const Tensor r = vec<uint8_t>({16, 255, 1, 128});
  const Tensor rs = vec<uint8_t>({1, 4, 0, 9});
  expect_equal(run_op1(OpKind::BitShift, {&r, &rs}, attr_s("direction", "RIGHT")),
               vec<uint8_t>({8, 15, 1, 0}));
  const Tensor one = vec<uint64_t>({1, 1});
  const Tensor sh = vec<uint64_t>({63, 64});
  expect_equal(run_op1(OpKind::BitShift, {&one, &sh}, attr_s("direction", "LEFT")),
               vec<uint64_t>({uint64_t{1} << 63, 0}));
  EXPECT_THROW(run_op1(OpKind::BitShift, {&x, &s}, attr_s("direction", "UP")), Error);
  EXPECT_THROW(run_op1(OpKind::BitShift, {&x, &s}), Error);
  const Tensor si = vec<int32_t>({1});
  EXPECT_THROW(run_op1(OpKind::BitShift, {&si, &si}, attr_s("direction", "LEFT")), Error);
}

TEST(ElementwiseBinary, LogicAndBitwise) {
  const Tensor a = make<bool>({2, 2}, {true, true, false, false});
  const Tensor b = vec<bool>({true, false});
  expect_equal(run_op1(OpKind::And, {&a, &b}), make<bool>({2, 2}, {true, false, false, false}));
  expect_equal(run_op1(OpKind::Or, {&a, &b}), make<bool>({2, 2}, {true, true, true, false}));
  expect_equal(run_op1(OpKind::Xor, {&a, &b}), make<bool>({2, 2}, {false, true, true, false}));
  const Tensor x = vec<int8_t>({-1, 12}), y = vec<int8_t>({5, 10});
  expect_equal(run_op1(OpKind::BitwiseAnd, {&x, &y}), vec<int8_t>({5, 8}));
  expect_equal(run_op1(OpKind::BitwiseOr, {&x, &y}), vec<int8_t>({-1, 14}));
  expect_equal(run_op1(OpKind::BitwiseXor, {&x, &y}), vec<int8_t>({-6, 6}));
  const Tensor f = vec<float>({1, 2});
  EXPECT_THROW(run_op1(OpKind::And, {&f, &f}), Error);
  EXPECT_THROW(run_op1(OpKind::BitwiseAnd, {&f, &f}), Error);
}

TEST(ElementwiseBinary, Comparisons) {
  const Tensor a = vec<float>({1, 2, kNaN, 3});
  const Tensor b = vec<float>({2, 2, 2, kNaN});
  expect_equal(run_op1(OpKind::Less, {&a, &b}), vec<bool>({true, false, false, false}));
  expect_equal(run_op1(OpKind::Greater, {&a, &b}), vec<bool>({false, false, false, false}));
  expect_equal(run_op1(OpKind::LessOrEqual, {&a, &b}), vec<bool>({true, true, false, false}));
  expect_equal(run_op1(OpKind::GreaterOrEqual, {&a, &b}), vec<bool>({false, true, false, false}));
  expect_equal(run_op1(OpKind::Equal, {&a, &b}), vec<bool>({false, true, false, false}));
  const Tensor bb = vec<bool>({true, false});
  const Tensor bt = Tensor::scalar<bool>(true);
  expect_equal(run_op1(OpKind::Equal, {&bb, &bt}), vec<bool>({true, false}));
  const Tensor i = make<int64_t>({2, 1}, {1, 5});
  const Tensor j = vec<int64_t>({0, 5, 9});
  expect_equal(run_op1(OpKind::Greater, {&i, &j}),
               make<bool>({2, 3}, {true, false, false, true, false, false}));
  const Tensor u = vec<uint64_t>({UINT64_MAX}), v = vec<uint64_t>({1});
  expect_equal(run_op1(OpKind::Less, {&v, &u}), vec<bool>({true}));
  EXPECT_THROW(run_op1(OpKind::Less, {&bb, &bb}), Error);
  EXPECT_THROW(run_op1(OpKind::Equal, {&a, &j}), Error);  // dtype mismatch
}

TEST(ElementwiseBinary, PRelu) {
  const Tensor x = make<float>({2, 3}, {-1, 2, -3, 4, -5, 6});
  const Tensor slope = vec<float>({0.1f, 0.2f, 0.3f});
  expect_close(run_op1(OpKind::PRelu, {&x, &slope}),
               make<float>({2, 3}, {-0.1f, 2, -0.9f, 4, -1, 6}));
  // Channel slope [C,1,1] on NCHW, and the legacy 1-D per-channel slope on [N,C,W].
  const Tensor x4(DType::F32, {1, 3, 2, 2});
  Tensor neg = make<float>({2, 3, 2}, std::vector<float>(12, -1.0f));
  const Tensor s311 = make<float>({3, 1, 1}, {1, 2, 3});
  EXPECT_EQ(run_op1(OpKind::PRelu, {&x4, &s311}).dims(), (Dims{1, 3, 2, 2}));
  expect_close(run_op1(OpKind::PRelu, {&neg, &slope}),
               make<float>({2, 3, 2}, {-0.1f, -0.1f, -0.2f, -0.2f, -0.3f, -0.3f,
                                       -0.1f, -0.1f, -0.2f, -0.2f, -0.3f, -0.3f}));
  const Tensor xi = vec<int32_t>({-4, 4}), si = vec<int32_t>({2});
  expect_equal(run_op1(OpKind::PRelu, {&xi, &si}, {}, 9), vec<int32_t>({-8, 4}));
  const Tensor bad = vec<float>({1, 2, 3, 4});
  EXPECT_THROW(run_op1(OpKind::PRelu, {&x, &bad}), Error);
  const Tensor small = vec<float>({-1, 1, 2});
  const Tensor big_slope = make<float>({2, 3}, {1, 1, 1, 1, 1, 1});
  EXPECT_THROW(run_op1(OpKind::PRelu, {&small, &big_slope}), Error);  // unidirectional only
}

TEST(ElementwiseBinary, Where) {
  const Tensor c = make<bool>({2, 1}, {true, false});
  const Tensor x = vec<int64_t>({1, 2, 3});
  const Tensor y = Tensor::scalar<int64_t>(0);
  expect_equal(run_op1(OpKind::Where, {&c, &x, &y}), make<int64_t>({2, 3}, {1, 2, 3, 0, 0, 0}));
  const Tensor bx = vec<bool>({true, true}), by = vec<bool>({false, false});
  const Tensor c2 = vec<bool>({false, true});
  expect_equal(run_op1(OpKind::Where, {&c2, &bx, &by}), vec<bool>({false, true}));
  const Tensor hx = vec_f16({1.5f, 2.5f}), hy = vec_f16({-1, -2});
  expect_equal(run_op1(OpKind::Where, {&c2, &hx, &hy}), vec_f16({-1, 2.5f}));
  const Tensor fc = vec<float>({1, 0});
  EXPECT_THROW(run_op1(OpKind::Where, {&fc, &hx, &hy}), Error);
  EXPECT_THROW(run_op1(OpKind::Where, {&c2, &hx, &x}), Error);
}

TEST(ElementwiseBinary, VariadicMaxMinSumMean) {
  const Tensor a = make<float>({2, 1}, {1, 5});
  const Tensor b = vec<float>({2, 4, 6});
  const Tensor c = Tensor::scalar<float>(3);
  expect_equal(run_op1(OpKind::Max, {&a, &b, &c}), make<float>({2, 3}, {3, 4, 6, 5, 5, 6}));
  expect_equal(run_op1(OpKind::Min, {&a, &b, &c}), make<float>({2, 3}, {1, 1, 1, 2, 3, 3}));
  expect_equal(run_op1(OpKind::Sum, {&a, &b, &c}), make<float>({2, 3}, {6, 8, 10, 10, 12, 14}));
  expect_close(run_op1(OpKind::Mean, {&a, &b, &c}),
               make<float>({2, 3}, {2, 8.0f / 3, 10.0f / 3, 10.0f / 3, 4, 14.0f / 3}));
  expect_equal(run_op1(OpKind::Max, {&b}), b);
  expect_equal(run_op1(OpKind::Mean, {&b}), b);
  const Tensor n1 = vec<float>({1, kNaN}), n2 = vec<float>({kNaN, 2});
  expect_equal(run_op1(OpKind::Max, {&n1, &n2}), vec<float>({kNaN, kNaN}));
  expect_equal(run_op1(OpKind::Min, {&n1, &n2}), vec<float>({kNaN, kNaN}));
  const Tensor u1 = vec<uint8_t>({200, 3}), u2 = vec<uint8_t>({100, 50});
  expect_equal(run_op1(OpKind::Max, {&u1, &u2}), vec<uint8_t>({200, 50}));
  expect_equal(run_op1(OpKind::Min, {&u1, &u2}), vec<uint8_t>({100, 3}));
  const Tensor h1 = vec_f16({1, 2}), h2 = vec_f16({2, 2});
  expect_equal(run_op1(OpKind::Mean, {&h1, &h2}), vec_f16({1.5f, 2}));
  // Before opset 8 there is no broadcasting.
  EXPECT_THROW(run_op1(OpKind::Max, {&a, &b}, {}, 7), Error);
  expect_equal(run_op1(OpKind::Sum, {&a, &b}, {}, 8), make<float>({2, 3}, {3, 5, 7, 7, 9, 11}));
  const Tensor i = vec<int32_t>({1});
  EXPECT_THROW(run_op1(OpKind::Sum, {&i, &i}), Error);
  EXPECT_THROW(run_op1(OpKind::Max, {&b, &i}), Error);
  EXPECT_THROW(run_op1(OpKind::Max, {&b, nullptr, &b}), Error);
}

// ---- inference

TEST(ElementwiseBinaryInfer, SymbolicBroadcasting) {
  const ValueType a = vt(DType::F32, {"N", "3"});
  EXPECT_EQ(infer1(OpKind::Add, {a, vt(DType::F32, {"3"})}), a);
  EXPECT_EQ(infer1(OpKind::Mul, {vt(DType::F32, {"N", "1"}), vt(DType::F32, {"1", "4"})}),
            vt(DType::F32, {"N", "4"}));
  EXPECT_EQ(infer1(OpKind::Sub, {vt(DType::F32, {"N"}), vt(DType::F32, {"M"})}),
            vt(DType::F32, {"?"}));
  const ValueType unknown{DType::F32, Shape::unknown_rank(), {}};
  EXPECT_FALSE(infer1(OpKind::Add, {a, unknown}).shape.rank_known);
  EXPECT_EQ(infer1(OpKind::Less, {a, vt(DType::F32, {})}), vt(DType::Bool, {"N", "3"}));
  EXPECT_EQ(infer1(OpKind::Pow, {vt(DType::I32, {"2"}), vt(DType::F16, {"N", "1"})}),
            vt(DType::I32, {"N", "2"}));
  EXPECT_EQ(infer1(OpKind::Where, {vt(DType::Bool, {"N", "1"}), vt(DType::I8, {"3"}),
                                   vt(DType::I8, {})}),
            vt(DType::I8, {"N", "3"}));
  EXPECT_EQ(infer1(OpKind::Max, {vt(DType::F32, {"N", "1"}), vt(DType::F32, {"1", "4"}),
                                 vt(DType::F32, {"4"})}),
            vt(DType::F32, {"N", "4"}));
  const ValueType nchw = vt(DType::F32, {"N", "3", "H", "W"});
  EXPECT_EQ(infer1(OpKind::PRelu, {nchw, vt(DType::F32, {"3", "1", "1"})}), nchw);
  EXPECT_EQ(infer1(OpKind::PRelu, {nchw, vt(DType::F32, {"5"})}), nchw);  // undecidable yet
}

TEST(ElementwiseBinaryInfer, Errors) {
  const ValueType f = vt(DType::F32, {"2", "3"});
  EXPECT_THROW(infer1(OpKind::Add, {f, vt(DType::F32, {"4"})}), Error);
  EXPECT_THROW(infer1(OpKind::Add, {f, vt(DType::F64, {"3"})}), Error);
  EXPECT_THROW(infer1(OpKind::Add, {vt(DType::Bool, {"3"}), vt(DType::Bool, {"3"})}), Error);
  EXPECT_THROW(infer1(OpKind::Pow, {vt(DType::I32, {"2"}), vt(DType::F32, {"2"})}, {}, 11), Error);
  EXPECT_THROW(infer1(OpKind::Mod, {f, f}), Error);
  EXPECT_THROW(infer1(OpKind::BitShift, {vt(DType::I32, {"2"}), vt(DType::I32, {"2"})},
                      attr_s("direction", "LEFT")),
               Error);
  EXPECT_THROW(infer1(OpKind::Where, {f, f, f}), Error);
  EXPECT_THROW(infer1(OpKind::PRelu, {f, vt(DType::F32, {"4"})}), Error);
  EXPECT_THROW(infer1(OpKind::Max, {f, vt(DType::F32, {"3"})}, {}, 7), Error);
  EXPECT_THROW(infer1(OpKind::Sum, {vt(DType::I64, {"3"})}), Error);
  EXPECT_THROW(infer1(OpKind::Equal, {vt(DType::String, {"3"}), vt(DType::String, {"3"})}),
               Unsupported);
  EXPECT_THROW(infer1(OpKind::Add, {f}), Error);  // arity
}

}  // namespace
}  // namespace kiln::test
