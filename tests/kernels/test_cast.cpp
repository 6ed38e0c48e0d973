// Cast and CastLike: rounding into f16/bf16 (including the double-rounding trap from f64),
// float -> integer truncation and its out-of-range policy, integer wrap-around, bool, and the
// unsupported targets.
#include <cstring>

#include "tests/kernels/elementwise_test_util.h"

namespace kiln::test {
namespace {

Tensor cast(const Tensor& x, DType to, int opset = 22) {
  return run_op1(OpKind::Cast, {&x}, attr_i("to", static_cast<int64_t>(to)), opset);
}

TEST(Cast, FloatToIntegerTruncates) {
  const Tensor x = vec<float>({1.9f, -1.9f, 0.5f, -0.5f, 100.0f, kNaN});
  expect_equal(cast(x, DType::I32), vec<int32_t>({1, -1, 0, 0, 100, 0}));
  expect_equal(cast(x, DType::I64), vec<int64_t>({1, -1, 0, 0, 100, 0}));
  // Out of range: wraps modulo 2^bits within int64 range (numpy on x86), saturates beyond.
  const Tensor y = vec<float>({-1, 300, 256});
  expect_equal(cast(y, DType::U8), vec<uint8_t>({255, 44, 0}));
  const Tensor huge = vec<double>({1e20, -1e20, 1.8e19});
  expect_equal(cast(huge, DType::I64), vec<int64_t>({INT64_MAX, INT64_MIN, INT64_MAX}));
  expect_equal(cast(huge, DType::U64),
               vec<uint64_t>({UINT64_MAX, 0, uint64_t{18000000000000000000u}}));
  const Tensor h = vec_f16({2.5f, -3.75f});
  expect_equal(cast(h, DType::I8), vec<int8_t>({2, -3}));
}

TEST(Cast, IntegerToIntegerWraps) {
  const Tensor x = vec<int32_t>({300, -1, 127});
  expect_equal(cast(x, DType::I8), vec<int8_t>({44, -1, 127}));
  expect_equal(cast(x, DType::U32), vec<uint32_t>({300, 4294967295u, 127}));
  const Tensor u = vec<uint64_t>({UINT64_MAX});
  expect_equal(cast(u, DType::I64), vec<int64_t>({-1}));
  const Tensor big = vec<int64_t>({16777217});
  expect_equal(cast(big, DType::F32), vec<float>({16777216}));
}

TEST(Cast, BoolConversions) {
  const Tensor f = vec<float>({0, -0.0f, 0.5f, kNaN, -3});
  expect_equal(cast(f, DType::Bool), vec<bool>({false, false, true, true, true}));
  const Tensor i = vec<int16_t>({0, 2, -1});
  expect_equal(cast(i, DType::Bool), vec<bool>({false, true, true}));
  const Tensor b = vec<bool>({true, false});
  expect_equal(cast(b, DType::F32), vec<float>({1, 0}));
  expect_equal(cast(b, DType::I64), vec<int64_t>({1, 0}));
  expect_equal(cast(b, DType::F16), vec_f16({1, 0}));
  expect_equal(cast(b, DType::BF16), vec_bf16({1, 0}));
}

TEST(Cast, HalfAndBfloat16Rounding) {
  const Tensor x = vec<float>({65504, 65520, 1.0f / 3, -kInf, kNaN, 1e-8f});
  expect_equal(cast(x, DType::F16), vec_f16({65504, kInf, 0.333251953125f, -kInf, kNaN, 0}));
  // bf16 rounds to nearest even: 1 + 2^-8 is a tie (down to 1), 1 + 3*2^-8 ties up.
  const Tensor y = vec<float>({1.00390625f, 1.01171875f, 3.0e38f});
  expect_equal(cast(y, DType::BF16), vec_bf16({1, 1.015625f, 3.0040553e38f}));
  // Widening is exact.
  const Tensor h = vec_f16({0.333251953125f, -2});
  expect_equal(cast(h, DType::F64), vec<double>({0.333251953125, -2}));
  const Tensor b = vec_bf16({1.015625f});
  expect_equal(cast(b, DType::F32), vec<float>({1.015625f}));
  expect_equal(cast(b, DType::F16), vec_f16({1.015625f}));
}

// f64 -> f32 -> f16 would round twice: 1 + 2^-11 + 2^-40 becomes the tie 1 + 2^-11 in f32,
// which rounds to 1; rounded once, it is above the tie and goes up to 1 + 2^-10.
TEST(Cast, DoubleToHalfRoundsOnce) {
  const Tensor d = vec<double>({1 + std::ldexp(1.0, -11) + std::ldexp(1.0, -40),
                                1 + std::ldexp(1.0, -8) + std::ldexp(1.0, -40)});
  const Tensor h = cast(d, DType::F16);
  EXPECT_EQ(h.as_double(0), 1 + std::ldexp(1.0, -10));
  const Tensor b = cast(d, DType::BF16);
  EXPECT_EQ(b.as_double(1), 1 + std::ldexp(1.0, -7));
  const Tensor i = vec<int64_t>({(int64_t{1} << 40) + (int64_t{1} << 32) + 1});
  EXPECT_EQ(cast(i, DType::BF16).as_double(0), std::ldexp(1.0, 40) + std::ldexp(1.0, 33));
}

TEST(Cast, CastLikeTakesTheSecondInputsDtype) {
  const Tensor x = vec<float>({1.5f, -2.5f});
  const Tensor like = vec<int16_t>({0});
  expect_equal(run_op1(OpKind::CastLike, {&x, &like}), vec<int16_t>({1, -2}));
  const Tensor like_h = Tensor::scalar<half>(half(0.0f));
  expect_equal(run_op1(OpKind::CastLike, {&x, &like_h}, attr_i("saturate", 0)),
               vec_f16({1.5f, -2.5f}));
}

TEST(Cast, InferenceAndErrors) {
  const ValueType x = vt(DType::F32, {"N", "2"});
  EXPECT_EQ(infer1(OpKind::Cast, {x}, attr_i("to", 7)), vt(DType::I64, {"N", "2"}));
  EXPECT_EQ(infer1(OpKind::CastLike, {x, vt(DType::Bool, {"5"})}), vt(DType::Bool, {"N", "2"}));
  EXPECT_THROW(infer1(OpKind::Cast, {x}), Error);                       // no 'to'
  EXPECT_THROW(infer1(OpKind::Cast, {x}, attr_i("to", 999)), Error);    // not a type
  EXPECT_THROW(infer1(OpKind::Cast, {x}, attr_i("to", -3)), Error);
  EXPECT_THROW(infer1(OpKind::Cast, {x}, attr_i("to", 0)), Error);      // UNDEFINED
  EXPECT_THROW(infer1(OpKind::Cast, {x}, attr_i("to", 8)), Unsupported);   // string
  EXPECT_THROW(infer1(OpKind::Cast, {x}, attr_i("to", 17)), Unsupported);  // float8e4m3fn
  EXPECT_THROW(infer1(OpKind::Cast, {x}, attr_i("to", 22)), Unsupported);  // int4
  EXPECT_THROW(infer1(OpKind::Cast, {x}, attr_i("to", 14)), Unsupported);  // complex64
  EXPECT_THROW(infer1(OpKind::Cast, {vt(DType::String, {"2"})}, attr_i("to", 1)), Unsupported);
  const Tensor t = vec<float>({1});
  EXPECT_THROW(run_op1(OpKind::Cast, {&t}, attr_s("to", "float")), Error);  // wrong kind
  // saturate only matters for float8; it is accepted and ignored elsewhere.
  Attributes a = attr_i("to", static_cast<int64_t>(DType::U8));
  a.set("saturate", Attribute::of_int(0));
  expect_equal(run_op1(OpKind::Cast, {&t}, a, 19), vec<uint8_t>({1}));
}

}  // namespace
}  // namespace kiln::test
