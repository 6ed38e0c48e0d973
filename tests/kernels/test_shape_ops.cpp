// Reshape, Flatten, Squeeze, Unsqueeze, Expand, Tile, Shape, Size, ConstantOfShape, Range,
// Constant, EyeLike: kernels on concrete values and inference on symbolic shapes.
#include "tests/kernels/shape_test_util.h"

namespace kiln::test {
namespace {

using A = Attribute;

TEST(ShapeOps, ReshapeZeroCopiesAndMinusOneInfers) {
  const Tensor x = iota_f32({2, 3, 4});
  const Tensor s = i64s({0, -1});
  const Tensor y = run_op1(OpKind::Reshape, {&x, &s});
  EXPECT_EQ(y.dims(), (Dims{2, 12}));
  EXPECT_EQ(floats_of(y), floats_of(x));
  const Tensor s2 = i64s({-1, 2, 2});
  EXPECT_EQ(run_op1(OpKind::Reshape, {&x, &s2}).dims(), (Dims{6, 2, 2}));
}

TEST(ShapeOps, ReshapeAllowZero) {
  const Tensor x(DType::F32, {0, 3});
  const Tensor s = i64s({3, 0});
  // Without allowzero, 0 copies dim 1 (= 3): 0 elements vs 9 -> error.
  EXPECT_THROW(run_op1(OpKind::Reshape, {&x, &s}), Error);
  const Attributes az = attrs_of({{"allowzero", A::of_int(1)}});
  EXPECT_EQ(run_op1(OpKind::Reshape, {&x, &s}, az).dims(), (Dims{3, 0}));
  const Tensor bad = i64s({0, -1});
  EXPECT_THROW(run_op1(OpKind::Reshape, {&x, &bad}, az), Error);
}

TEST(ShapeOps, ReshapeErrors) {
  const Tensor x = iota_f32({2, 3});
  const Tensor two_neg = i64s({-1, -1});
  const Tensor bad = i64s({4, 2});
  const Tensor neg = i64s({-2, 3});
  EXPECT_THROW(run_op1(OpKind::Reshape, {&x, &two_neg}), Error);
  EXPECT_THROW(run_op1(OpKind::Reshape, {&x, &bad}), Error);
  EXPECT_THROW(run_op1(OpKind::Reshape, {&x, &neg}), Error);
  const Tensor indiv = i64s({4, -1});
  EXPECT_THROW(run_op1(OpKind::Reshape, {&x, &indiv}), Error);
}

TEST(ShapeOps, ReshapeSymbolic) {
  const Tensor s = i64s({0, -1});
  auto out = infer_types(
      OpKind::Reshape, {vt(DType::F32, {"batch", "3", "4"}), vt(DType::I64, {"2"})}, {nullptr, &s});
  EXPECT_EQ(out[0].shape, sym_shape({"batch", "12"}));
  const Tensor s2 = i64s({-1, 8});
  out = infer_types(OpKind::Reshape, {vt(DType::F32, {"b", "s", "8"}), vt(DType::I64, {"2"})},
                    {nullptr, &s2});
  EXPECT_EQ(out[0].shape, sym_shape({"?", "8"}));
  const Tensor s3 = i64s({-1, 4});
  out = infer_types(OpKind::Reshape, {vt(DType::F32, {"n", "4"}), vt(DType::I64, {"2"})},
                    {nullptr, &s3});
  EXPECT_EQ(out[0].shape, sym_shape({"n", "4"}));
  // Unknown shape values: only the rank is known.
  out = infer_types(OpKind::Reshape, {vt(DType::F32, {"n", "4"}), vt(DType::I64, {"3"})}, {});
  EXPECT_EQ(out[0].shape, sym_shape({"?", "?", "?"}));
}

TEST(ShapeOps, Flatten) {
  const Tensor x = iota_f32({2, 3, 4});
  EXPECT_EQ(run_op1(OpKind::Flatten, {&x}).dims(), (Dims{2, 12}));
  EXPECT_EQ(run_op1(OpKind::Flatten, {&x}, attrs_of({{"axis", A::of_int(0)}})).dims(),
            (Dims{1, 24}));
  EXPECT_EQ(run_op1(OpKind::Flatten, {&x}, attrs_of({{"axis", A::of_int(-1)}})).dims(),
            (Dims{6, 4}));
  EXPECT_EQ(run_op1(OpKind::Flatten, {&x}, attrs_of({{"axis", A::of_int(3)}})).dims(),
            (Dims{24, 1}));
  EXPECT_THROW(run_op1(OpKind::Flatten, {&x}, attrs_of({{"axis", A::of_int(4)}})), Error);
  auto out = infer_types(OpKind::Flatten, {vt(DType::F32, {"b", "3", "4"})}, {});
  EXPECT_EQ(out[0].shape, sym_shape({"b", "12"}));
}

TEST(ShapeOps, SqueezeUnsqueezeOpsets) {
  const Tensor x = iota_f32({1, 3, 1, 2});
  const Tensor ax = i64s({0, -2});
  EXPECT_EQ(run_op1(OpKind::Squeeze, {&x, &ax}).dims(), (Dims{3, 2}));
  EXPECT_EQ(run_op1(OpKind::Squeeze, {&x}).dims(), (Dims{3, 2}));
  const Attributes old = attrs_of({{"axes", A::of_ints({2})}});
  EXPECT_EQ(run_op1(OpKind::Squeeze, {&x}, old, 11).dims(), (Dims{1, 3, 2}));
  EXPECT_THROW(run_op1(OpKind::Squeeze, {&x, &ax}, {}, 11), Error);  // input before 13
  const Tensor bad = i64s({1});
  EXPECT_THROW(run_op1(OpKind::Squeeze, {&x, &bad}), Error);  // dim 3 is not 1

  const Tensor y = iota_f32({3, 2});
  const Tensor uax = i64s({0, 3});
  EXPECT_EQ(run_op1(OpKind::Unsqueeze, {&y, &uax}).dims(), (Dims{1, 3, 2, 1}));
  const Tensor uneg = i64s({-1});
  EXPECT_EQ(run_op1(OpKind::Unsqueeze, {&y, &uneg}).dims(), (Dims{3, 2, 1}));
  EXPECT_EQ(run_op1(OpKind::Unsqueeze, {&y}, attrs_of({{"axes", A::of_ints({1})}}), 11).dims(),
            (Dims{3, 1, 2}));
  const Tensor dup = i64s({1, 1});
  EXPECT_THROW(run_op1(OpKind::Unsqueeze, {&y, &dup}), Error);
  const Tensor far = i64s({5});
  EXPECT_THROW(run_op1(OpKind::Unsqueeze, {&y, &far}), Error);
  EXPECT_THROW(run_op1(OpKind::Unsqueeze, {&y}), Error);

  auto out = infer_types(OpKind::Squeeze, {vt(DType::F32, {"1", "3"})}, {});
  EXPECT_EQ(out[0].shape, sym_shape({"3"}));
  // Without axes a symbolic dim may or may not be 1: the rank is unknown.
  out = infer_types(OpKind::Squeeze, {vt(DType::F32, {"1", "n"})}, {});
  EXPECT_FALSE(out[0].shape.rank_known);
  const Tensor ax0 = i64s({0});
  out = infer_types(OpKind::Squeeze, {vt(DType::F32, {"1", "n"}), vt(DType::I64, {"1"})},
                    {nullptr, &ax0});
  EXPECT_EQ(out[0].shape, sym_shape({"n"}));
  // Unknown axes values of known count: the rank is still known.
  out = infer_types(OpKind::Squeeze, {vt(DType::F32, {"1", "n"}), vt(DType::I64, {"1"})}, {});
  EXPECT_EQ(out[0].shape, sym_shape({"?"}));
  out = infer_types(OpKind::Unsqueeze, {vt(DType::F32, {"n"}), vt(DType::I64, {"2"})}, {});
  EXPECT_EQ(out[0].shape, sym_shape({"?", "?", "?"}));
}

TEST(ShapeOps, Expand) {
  const Tensor x = f32s({3, 1}, {1, 2, 3});
  const Tensor s = i64s({2, 1, 2});
  const Tensor y = run_op1(OpKind::Expand, {&x, &s});
  EXPECT_EQ(y.dims(), (Dims{2, 3, 2}));
  EXPECT_EQ(floats_of(y), (std::vector<float>{1, 1, 2, 2, 3, 3, 1, 1, 2, 2, 3, 3}));
  const Tensor bad = i64s({2, 2});
  EXPECT_THROW(run_op1(OpKind::Expand, {&x, &bad}), Error);
  const Tensor ones = i64s({1, 1});
  auto out = infer_types(OpKind::Expand, {vt(DType::F32, {"n", "4"}), vt(DType::I64, {"2"})},
                         {nullptr, &ones});
  EXPECT_EQ(out[0].shape, sym_shape({"n", "4"}));
  out = infer_types(OpKind::Expand, {vt(DType::F32, {"1", "4"}), vt(DType::I64, {"3"})}, {});
  EXPECT_EQ(out[0].shape, sym_shape({"?", "?", "4"}));
}

TEST(ShapeOps, Tile) {
  const Tensor x = make<int32_t>({2, 2}, {1, 2, 3, 4});
  const Tensor r = i64s({1, 2});
  const Tensor y = run_op1(OpKind::Tile, {&x, &r});
  EXPECT_EQ(y.dims(), (Dims{2, 4}));
  EXPECT_EQ(ints_of(y), (std::vector<int64_t>{1, 2, 1, 2, 3, 4, 3, 4}));
  const Tensor r2 = i64s({2, 0});
  EXPECT_EQ(run_op1(OpKind::Tile, {&x, &r2}).dims(), (Dims{4, 0}));
  const Tensor wrong = i64s({2});
  EXPECT_THROW(run_op1(OpKind::Tile, {&x, &wrong}), Error);
  const Tensor neg = i64s({1, -1});
  EXPECT_THROW(run_op1(OpKind::Tile, {&x, &neg}), Error);
}

TEST(ShapeOps, ShapeAndSize) {
  const Tensor x(DType::F16, {2, 3, 4, 5});
  EXPECT_EQ(ints_of(run_op1(OpKind::Shape, {&x})), (std::vector<int64_t>{2, 3, 4, 5}));
  const Attributes se = attrs_of({{"start", A::of_int(1)}, {"end", A::of_int(-1)}});
  EXPECT_EQ(ints_of(run_op1(OpKind::Shape, {&x}, se)), (std::vector<int64_t>{3, 4}));
  // start/end are ignored before opset 15.
  EXPECT_EQ(run_op1(OpKind::Shape, {&x}, se, 13).numel(), 4);
  const Attributes clamp = attrs_of({{"start", A::of_int(-10)}, {"end", A::of_int(10)}});
  EXPECT_EQ(run_op1(OpKind::Shape, {&x}, clamp).numel(), 4);
  const Attributes empty = attrs_of({{"start", A::of_int(3)}, {"end", A::of_int(1)}});
  EXPECT_EQ(run_op1(OpKind::Shape, {&x}, empty).numel(), 0);
  const Tensor n = run_op1(OpKind::Size, {&x});
  EXPECT_EQ(n.dtype(), DType::I64);
  EXPECT_EQ(n.rank(), 0);
  EXPECT_EQ(n.as_int64(0), 120);
}

TEST(ShapeOps, ConstantOfShape) {
  const Tensor s = i64s({2, 3});
  const Tensor y = run_op1(OpKind::ConstantOfShape, {&s});
  EXPECT_EQ(y.dtype(), DType::F32);
  EXPECT_EQ(y.dims(), (Dims{2, 3}));
  EXPECT_EQ(y.as_double(5), 0.0);
  const Attributes v = attrs_of({{"value", A::of_tensor(make<int32_t>({1}, {7}))}});
  const Tensor z = run_op1(OpKind::ConstantOfShape, {&s}, v);
  EXPECT_EQ(z.dtype(), DType::I32);
  EXPECT_EQ(ints_of(z), (std::vector<int64_t>(6, 7)));
  const Tensor empty = make<int64_t>({0}, {});
  EXPECT_EQ(run_op1(OpKind::ConstantOfShape, {&empty}, v).rank(), 0);
  const Tensor neg = i64s({-1});
  EXPECT_THROW(run_op1(OpKind::ConstantOfShape, {&neg}), Error);
  const Attributes two = attrs_of({{"value", A::of_tensor(make<float>({2}, {1, 2}))}});
  EXPECT_THROW(run_op1(OpKind::ConstantOfShape, {&s}, two), Error);
}

TEST(ShapeOps, Range) {
  const Tensor a = Tensor::scalar<int32_t>(10), b = Tensor::scalar<int32_t>(1),
               d = Tensor::scalar<int32_t>(-3);
  const Tensor y = run_op1(OpKind::Range, {&a, &b, &d});
  EXPECT_EQ(y.dtype(), DType::I32);
  EXPECT_EQ(ints_of(y), (std::vector<int64_t>{10, 7, 4}));
  const Tensor fa = Tensor::scalar<float>(1), fb = Tensor::scalar<float>(2),
               fd = Tensor::scalar<float>(0.3f);
  const Tensor fy = run_op1(OpKind::Range, {&fa, &fb, &fd});
  ASSERT_EQ(fy.numel(), 4);  // ceil(1 / 0.3) = 4
  EXPECT_NEAR(fy.as_double(3), 1.9, 1e-6);
  const Tensor empty_lim = Tensor::scalar<float>(0);
  EXPECT_EQ(run_op1(OpKind::Range, {&fa, &empty_lim, &fd}).numel(), 0);
  const Tensor zero = Tensor::scalar<int32_t>(0);
  EXPECT_THROW(run_op1(OpKind::Range, {&a, &b, &zero}), Error);
  const Tensor big_a = Tensor::scalar<int64_t>(INT64_MIN),
               big_b = Tensor::scalar<int64_t>(INT64_MAX),
               big_d = Tensor::scalar<int64_t>(int64_t{1} << 62);
  EXPECT_EQ(ints_of(run_op1(OpKind::Range, {&big_a, &big_b, &big_d})),
            (std::vector<int64_t>{INT64_MIN, -(int64_t{1} << 62), 0, int64_t{1} << 62}));
  EXPECT_THROW(run_op1(OpKind::Range, {&a, &fb, &d}), Error);  // mixed dtypes
  auto out =
      infer_types(OpKind::Range, {vt(DType::I64, {}), vt(DType::I64, {}), vt(DType::I64, {})}, {});
  EXPECT_EQ(out[0].shape, sym_shape({"?"}));
}

TEST(ShapeOps, ConstantForms) {
  const Tensor t = make<int16_t>({2}, {3, -4});
  EXPECT_EQ(ints_of(run_op1(OpKind::Constant, {}, attrs_of({{"value", A::of_tensor(t)}}))),
            (std::vector<int64_t>{3, -4}));
  const Tensor f = run_op1(OpKind::Constant, {}, attrs_of({{"value_float", A::of_float(2.5f)}}));
  EXPECT_EQ(f.dtype(), DType::F32);
  EXPECT_EQ(f.rank(), 0);
  EXPECT_EQ(f.as_double(0), 2.5);
  EXPECT_EQ(
      floats_of(run_op1(OpKind::Constant, {}, attrs_of({{"value_floats", A::of_floats({1, 2})}}))),
      (std::vector<float>{1, 2}));
  EXPECT_EQ(run_op1(OpKind::Constant, {}, attrs_of({{"value_int", A::of_int(-9)}})).as_int64(0),
            -9);
  const Tensor ints =
      run_op1(OpKind::Constant, {}, attrs_of({{"value_ints", A::of_ints({5, 6, 7})}}));
  EXPECT_EQ(ints.dtype(), DType::I64);
  EXPECT_EQ(ints_of(ints), (std::vector<int64_t>{5, 6, 7}));
  EXPECT_THROW(run_op1(OpKind::Constant, {}, attrs_of({{"value_string", A::of_string("x")}})),
               Unsupported);
  EXPECT_THROW(run_op1(OpKind::Constant, {}, attrs_of({{"sparse_value", A::of_tensor(t)}})),
               Unsupported);
  EXPECT_THROW(run_op1(OpKind::Constant, {}, {}), Error);
  EXPECT_THROW(run_op1(OpKind::Constant, {},
                       attrs_of({{"value_int", A::of_int(1)}, {"value_float", A::of_float(1)}})),
               Error);
}

TEST(ShapeOps, EyeLike) {
  const Tensor x(DType::I32, {3, 4});
  const Tensor y = run_op1(OpKind::EyeLike, {&x}, attrs_of({{"k", A::of_int(1)}}));
  EXPECT_EQ(y.dtype(), DType::I32);
  EXPECT_EQ(ints_of(y), (std::vector<int64_t>{0, 1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1}));
  const Tensor z =
      run_op1(OpKind::EyeLike, {&x}, attrs_of({{"k", A::of_int(-2)}, {"dtype", A::of_int(10)}}));
  EXPECT_EQ(z.dtype(), DType::F16);
  EXPECT_EQ(floats_of(z), (std::vector<float>{0, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0}));
  EXPECT_EQ(ints_of(run_op1(OpKind::EyeLike, {&x}, attrs_of({{"k", A::of_int(INT64_MAX)}}))),
            (std::vector<int64_t>(12, 0)));
  const Tensor v(DType::F32, {3});
  EXPECT_THROW(run_op1(OpKind::EyeLike, {&v}), Error);
  EXPECT_THROW(run_op1(OpKind::EyeLike, {&x}, attrs_of({{"dtype", A::of_int(99)}})), Error);
}

}  // namespace
}  // namespace kiln::test

namespace kiln::test {
namespace {

// Declared shapes in a hostile model: huge dims must fail cleanly, never wrap.
TEST(ShapeOps, HostileDeclaredShapes) {
  const ValueType huge = vt(DType::F32, {"4611686018427387904", "4"});
  EXPECT_THROW(infer_types(OpKind::Flatten, {huge}, {}, attrs_of({{"axis", Attribute::of_int(0)}})),
               Error);
  EXPECT_THROW(
      infer_types(OpKind::Concat, {huge, huge}, {}, attrs_of({{"axis", Attribute::of_int(0)}})),
      Error);
  const Tensor r = i64s({4, 4});
  EXPECT_THROW(infer_types(OpKind::Tile, {huge, vt(DType::I64, {"2"})}, {nullptr, &r}), Error);
  const Tensor s = i64s({-1});
  EXPECT_THROW(infer_types(OpKind::Reshape, {huge, vt(DType::I64, {"1"})}, {nullptr, &s}), Error);
  const Tensor big = i64s({INT64_MAX, INT64_MAX});
  EXPECT_THROW(infer_types(OpKind::ConstantOfShape, {vt(DType::I64, {"2"})}, {&big}), Error);
  const Tensor x = iota_f32({2, 2});
  const Tensor huge_tile = i64s({int64_t{1} << 40, int64_t{1} << 40});
  EXPECT_THROW(run_op1(OpKind::Tile, {&x, &huge_tile}), Error);
}

}  // namespace
}  // namespace kiln::test
