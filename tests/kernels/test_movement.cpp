// Transpose, Concat, Split, Slice, Pad, DepthToSpace, SpaceToDepth, Trilu, ReverseSequence,
// CenterCropPad, Dropout.
#include "tests/kernels/shape_test_util.h"

namespace kiln::test {
namespace {

using A = Attribute;

TEST(Movement, Transpose) {
  const Tensor x = iota_f32({2, 3});
  const Tensor y = run_op1(OpKind::Transpose, {&x});
  EXPECT_EQ(y.dims(), (Dims{3, 2}));
  EXPECT_EQ(floats_of(y), (std::vector<float>{0, 3, 1, 4, 2, 5}));
  const Tensor z = iota_f32({2, 3, 4});
  const Tensor t = run_op1(OpKind::Transpose, {&z}, attrs_of({{"perm", A::of_ints({1, 2, 0})}}));
  EXPECT_EQ(t.dims(), (Dims{3, 4, 2}));
  // t[i][j][k] = z[k][i][j] = 12k + 4i + j; t[1][2][1] = 12 + 4 + 2.
  EXPECT_EQ(t.as_double((1 * 4 + 2) * 2 + 1), 18.0);
  EXPECT_THROW(run_op1(OpKind::Transpose, {&z}, attrs_of({{"perm", A::of_ints({0, 0, 1})}})),
               Error);
  EXPECT_THROW(run_op1(OpKind::Transpose, {&z}, attrs_of({{"perm", A::of_ints({0, 1})}})), Error);
  auto out = infer_types(OpKind::Transpose, {vt(DType::F32, {"b", "3"})}, {});
  EXPECT_EQ(out[0].shape, sym_shape({"3", "b"}));
}

TEST(Movement, Concat) {
  const Tensor a = f32s({2, 1}, {1, 2});
  const Tensor b = f32s({2, 2}, {3, 4, 5, 6});
  const Tensor y = run_op1(OpKind::Concat, {&a, &b}, attrs_of({{"axis", A::of_int(-1)}}));
  EXPECT_EQ(y.dims(), (Dims{2, 3}));
  EXPECT_EQ(floats_of(y), (std::vector<float>{1, 3, 4, 2, 5, 6}));
  const Tensor c = f32s({1, 2}, {7, 8});
  const Tensor z = run_op1(OpKind::Concat, {&b, &c}, attrs_of({{"axis", A::of_int(0)}}));
  EXPECT_EQ(floats_of(z), (std::vector<float>{3, 4, 5, 6, 7, 8}));
  EXPECT_THROW(run_op1(OpKind::Concat, {&a, &c}, attrs_of({{"axis", A::of_int(0)}})), Error);
  EXPECT_THROW(run_op1(OpKind::Concat, {&a, &b}), Error);  // axis is required
  const Tensor i = make<int32_t>({2, 1}, {1, 2});
  EXPECT_THROW(run_op1(OpKind::Concat, {&a, &i}, attrs_of({{"axis", A::of_int(1)}})), Error);
  auto out = infer_types(OpKind::Concat, {vt(DType::F32, {"n", "2"}), vt(DType::F32, {"?", "3"})},
                         {}, attrs_of({{"axis", A::of_int(1)}}));
  EXPECT_EQ(out[0].shape, sym_shape({"n", "5"}));
}

TEST(Movement, SplitVariants) {
  const Tensor x = iota_f32({2, 6});
  const Attributes ax1 = attrs_of({{"axis", A::of_int(1)}});
  auto ys = run_op(OpKind::Split, {&x}, ax1, 3);
  ASSERT_EQ(ys.size(), 3u);
  EXPECT_EQ(floats_of(ys[1]), (std::vector<float>{2, 3, 8, 9}));
  const Tensor sp = i64s({1, 5});
  ys = run_op(OpKind::Split, {&x, &sp}, ax1, 2);
  EXPECT_EQ(ys[1].dims(), (Dims{2, 5}));
  EXPECT_EQ(floats_of(ys[0]), (std::vector<float>{0, 6}));
  // opset 11: split attribute.
  const Attributes old = attrs_of({{"axis", A::of_int(1)}, {"split", A::of_ints({4, 2})}});
  ys = run_op(OpKind::Split, {&x}, old, 2, 11);
  EXPECT_EQ(floats_of(ys[1]), (std::vector<float>{4, 5, 10, 11}));
  // opset 18: num_outputs, uneven last chunk (7 -> 3, 3, 1).
  const Tensor v = iota_f32({7});
  ys = run_op(OpKind::Split, {&v}, attrs_of({{"num_outputs", A::of_int(3)}}), 3, 18);
  EXPECT_EQ(ys[0].dims(), (Dims{3}));
  EXPECT_EQ(floats_of(ys[2]), (std::vector<float>{6}));
  EXPECT_THROW(run_op(OpKind::Split, {&v}, attrs_of({{"num_outputs", A::of_int(2)}}), 3, 18),
               Error);
  EXPECT_THROW(run_op(OpKind::Split, {&v}, {}, 3, 13), Error);  // 7 not divisible by 3
  const Tensor bad = i64s({1, 1});
  EXPECT_THROW(run_op(OpKind::Split, {&x, &bad}, ax1, 2), Error);  // sums to 2, not 6
  auto out = infer_types(OpKind::Split, {vt(DType::F32, {"b", "6"})}, {}, ax1, 13, 2);
  EXPECT_EQ(out[1].shape, sym_shape({"b", "3"}));
}

TEST(Movement, SliceInputsAndNegativeSteps) {
  const Tensor x = iota_f32({2, 4});  // [[0,1,2,3],[4,5,6,7]]
  const Tensor s = i64s({1, 0}), e = i64s({2, 3}), ax = i64s({0, 1}), st = i64s({1, 2});
  Tensor y = run_op1(OpKind::Slice, {&x, &s, &e, &ax, &st});
  EXPECT_EQ(y.dims(), (Dims{1, 2}));
  EXPECT_EQ(floats_of(y), (std::vector<float>{4, 6}));
  // Reverse the last axis with INT64_MIN end; start is clamped to dim-1.
  const Tensor rs = i64s({100}), re = i64s({INT64_MIN}), rax = i64s({-1}), rst = i64s({-1});
  y = run_op1(OpKind::Slice, {&x, &rs, &re, &rax, &rst});
  EXPECT_EQ(floats_of(y), (std::vector<float>{3, 2, 1, 0, 7, 6, 5, 4}));
  const Tensor s2 = i64s({-1}), e2 = i64s({-4}), st2 = i64s({-2});
  y = run_op1(OpKind::Slice, {&x, &s2, &e2, &rax, &st2});
  EXPECT_EQ(floats_of(y), (std::vector<float>{3, 1, 7, 5}));
  // Empty result.
  const Tensor es = i64s({3}), ee = i64s({1});
  EXPECT_EQ(run_op1(OpKind::Slice, {&x, &es, &ee, &rax}).dims(), (Dims{2, 0}));
  const Tensor zero = i64s({0});
  EXPECT_THROW(run_op1(OpKind::Slice, {&x, &s2, &e2, &rax, &zero}), Error);
  const Tensor dup = i64s({1, 1});
  EXPECT_THROW(run_op1(OpKind::Slice, {&x, &s, &e, &dup}), Error);
}

TEST(Movement, SliceOpset1Attributes) {
  const Tensor x = iota_f32({3, 4});
  const Attributes a = attrs_of({{"starts", A::of_ints({1, -3})},
                                 {"ends", A::of_ints({1000, -1})},
                                 {"axes", A::of_ints({0, 1})}});
  const Tensor y = run_op1(OpKind::Slice, {&x}, a, 9);
  EXPECT_EQ(y.dims(), (Dims{2, 2}));
  EXPECT_EQ(floats_of(y), (std::vector<float>{5, 6, 9, 10}));
  EXPECT_THROW(run_op1(OpKind::Slice, {&x}, {}, 9), Error);
}

TEST(Movement, SliceSymbolic) {
  const Tensor s = i64s({0}), e = i64s({INT64_MAX}), ax = i64s({0});
  auto out = infer_types(OpKind::Slice,
                         {vt(DType::F32, {"n", "8"}), vt(DType::I64, {"1"}), vt(DType::I64, {"1"}),
                          vt(DType::I64, {"1"})},
                         {nullptr, &s, &e, &ax});
  EXPECT_EQ(out[0].shape, sym_shape({"n", "8"}));
  const Tensor ax1 = i64s({1});
  out = infer_types(OpKind::Slice,
                    {vt(DType::F32, {"n", "8"}), vt(DType::I64, {"1"}), vt(DType::I64, {"1"}),
                     vt(DType::I64, {"1"})},
                    {nullptr, nullptr, nullptr, &ax1});
  EXPECT_EQ(out[0].shape, sym_shape({"n", "?"}));
}

TEST(Movement, PadModes) {
  const Tensor x = f32s({3, 2}, {1.0f, 1.2f, 2.3f, 3.4f, 4.5f, 5.7f});
  const Tensor p = i64s({0, 2, 0, 0});
  const Tensor c = run_op1(OpKind::Pad, {&x, &p});
  EXPECT_EQ(floats_of(c),
            (std::vector<float>{0, 0, 1.0f, 1.2f, 0, 0, 2.3f, 3.4f, 0, 0, 4.5f, 5.7f}));
  const Tensor r = run_op1(OpKind::Pad, {&x, &p}, attrs_of({{"mode", A::of_string("reflect")}}));
  EXPECT_EQ(floats_of(r), (std::vector<float>{1.0f, 1.2f, 1.0f, 1.2f, 2.3f, 3.4f, 2.3f, 3.4f, 4.5f,
                                              5.7f, 4.5f, 5.7f}));
  const Tensor e = run_op1(OpKind::Pad, {&x, &p}, attrs_of({{"mode", A::of_string("edge")}}));
  EXPECT_EQ(floats_of(e), (std::vector<float>{1.0f, 1.0f, 1.0f, 1.2f, 2.3f, 2.3f, 2.3f, 3.4f, 4.5f,
                                              4.5f, 4.5f, 5.7f}));
  const Tensor v = f32s({3}, {1, 2, 3});
  const Tensor p3 = i64s({4, 2});
  // numpy.pad([1,2,3], (4,2), 'wrap') = [3,1,2,3,1,2,3,1,2]; 'reflect' = [1,2,3,2,1,2,3,2,1]
  EXPECT_EQ(
      floats_of(run_op1(OpKind::Pad, {&v, &p3}, attrs_of({{"mode", A::of_string("wrap")}}), 19)),
      (std::vector<float>{3, 1, 2, 3, 1, 2, 3, 1, 2}));
  EXPECT_EQ(
      floats_of(run_op1(OpKind::Pad, {&v, &p3}, attrs_of({{"mode", A::of_string("reflect")}}))),
      (std::vector<float>{1, 2, 3, 2, 1, 2, 3, 2, 1}));
  EXPECT_THROW(run_op1(OpKind::Pad, {&v, &p3}, attrs_of({{"mode", A::of_string("wrap")}}), 18),
               Error);
  EXPECT_THROW(run_op1(OpKind::Pad, {&v, &p3}, attrs_of({{"mode", A::of_string("mirror")}})),
               Error);
}

TEST(Movement, PadValueAxesAndCrop) {
  const Tensor x = make<int32_t>({2, 3}, {1, 2, 3, 4, 5, 6});
  const Tensor cv = Tensor::scalar<int32_t>(9);
  const Tensor p = i64s({1, -1});  // axis 1 only: begin +1, end -1
  const Tensor ax = i64s({1});
  const Tensor y = run_op1(OpKind::Pad, {&x, &p, &cv, &ax});
  EXPECT_EQ(y.dims(), (Dims{2, 3}));
  EXPECT_EQ(ints_of(y), (std::vector<int64_t>{9, 1, 2, 9, 4, 5}));
  // Opset 2: attribute pads and value.
  const Attributes old = attrs_of({{"pads", A::of_ints({1, 0, 0, 0})}, {"value", A::of_float(7)}});
  EXPECT_EQ(ints_of(run_op1(OpKind::Pad, {&x}, old, 2)),
            (std::vector<int64_t>{7, 7, 7, 1, 2, 3, 4, 5, 6}));
  const Tensor over = i64s({0, -4, 0, 0});
  EXPECT_THROW(run_op1(OpKind::Pad, {&x, &over}), Error);
  const Tensor short_pads = i64s({1, 1});
  EXPECT_THROW(run_op1(OpKind::Pad, {&x, &short_pads}), Error);
  const Tensor e(DType::F32, {0});
  const Tensor p1 = i64s({1, 1});
  EXPECT_THROW(run_op1(OpKind::Pad, {&e, &p1}, attrs_of({{"mode", A::of_string("edge")}})), Error);
  auto out = infer_types(OpKind::Pad, {vt(DType::F32, {"n", "3"}), vt(DType::I64, {"4"})}, {});
  EXPECT_EQ(out[0].shape, sym_shape({"?", "?"}));
  const Tensor p4 = i64s({0, 1, 0, 2});
  out =
      infer_types(OpKind::Pad, {vt(DType::F32, {"n", "3"}), vt(DType::I64, {"4"})}, {nullptr, &p4});
  EXPECT_EQ(out[0].shape, sym_shape({"n", "6"}));
}

TEST(Movement, DepthToSpaceAndBack) {
  const Tensor x = iota_f32({1, 8, 1, 1});
  const Attributes dcr = attrs_of({{"blocksize", A::of_int(2)}});
  const Tensor y = run_op1(OpKind::DepthToSpace, {&x}, dcr);
  EXPECT_EQ(y.dims(), (Dims{1, 2, 2, 2}));
  // DCR: out[c][i][j] = in[(i*2+j)*2 + c]
  EXPECT_EQ(floats_of(y), (std::vector<float>{0, 2, 4, 6, 1, 3, 5, 7}));
  const Attributes crd = attrs_of({{"blocksize", A::of_int(2)}, {"mode", A::of_string("CRD")}});
  EXPECT_EQ(floats_of(run_op1(OpKind::DepthToSpace, {&x}, crd)),
            (std::vector<float>{0, 1, 2, 3, 4, 5, 6, 7}));
  // SpaceToDepth inverts DCR DepthToSpace.
  const Tensor back = run_op1(OpKind::SpaceToDepth, {&y}, dcr);
  EXPECT_EQ(back.dims(), x.dims());
  EXPECT_EQ(floats_of(back), floats_of(x));
  const Tensor odd = iota_f32({1, 3, 2, 2});
  EXPECT_THROW(run_op1(OpKind::DepthToSpace, {&odd}, dcr), Error);
  const Tensor odd2 = iota_f32({1, 1, 3, 2});
  EXPECT_THROW(run_op1(OpKind::SpaceToDepth, {&odd2}, dcr), Error);
}

TEST(Movement, Trilu) {
  const Tensor x = iota_f32({3, 3});
  EXPECT_EQ(floats_of(run_op1(OpKind::Trilu, {&x})),
            (std::vector<float>{0, 1, 2, 0, 4, 5, 0, 0, 8}));
  const Tensor k = Tensor::scalar<int64_t>(-1);
  EXPECT_EQ(floats_of(run_op1(OpKind::Trilu, {&x, &k}, attrs_of({{"upper", A::of_int(0)}}))),
            (std::vector<float>{0, 0, 0, 3, 0, 0, 6, 7, 0}));
  const Tensor big = Tensor::scalar<int64_t>(INT64_MIN);
  EXPECT_EQ(floats_of(run_op1(OpKind::Trilu, {&x, &big})), floats_of(x));
  const Tensor v = iota_f32({3});
  EXPECT_THROW(run_op1(OpKind::Trilu, {&v}), Error);
}

TEST(Movement, ReverseSequence) {
  const Tensor x = iota_f32({4, 4});  // time-major: x[t][b] = 4t + b
  const Tensor lens = i64s({4, 3, 2, 1});
  const Tensor y = run_op1(OpKind::ReverseSequence, {&x, &lens});
  EXPECT_EQ(floats_of(y),
            (std::vector<float>{12, 9, 6, 3, 8, 5, 2, 7, 4, 1, 10, 11, 0, 13, 14, 15}));
  const Tensor bad = i64s({5, 1, 1, 1});
  EXPECT_THROW(run_op1(OpKind::ReverseSequence, {&x, &bad}), Error);
  EXPECT_THROW(run_op1(OpKind::ReverseSequence, {&x, &lens},
                       attrs_of({{"batch_axis", A::of_int(0)}, {"time_axis", A::of_int(0)}})),
               Error);
}

TEST(Movement, CenterCropPad) {
  const Tensor x = iota_f32({5, 2});
  const Tensor s = i64s({3, 4});
  const Tensor y = run_op1(OpKind::CenterCropPad, {&x, &s}, {}, 18);
  EXPECT_EQ(y.dims(), (Dims{3, 4}));
  // rows 1..3 kept (crop 5 -> 3 starts at 1); columns padded 1 each side.
  EXPECT_EQ(floats_of(y), (std::vector<float>{0, 2, 3, 0, 0, 4, 5, 0, 0, 6, 7, 0}));
  const Tensor s1 = i64s({1});
  const Tensor z =
      run_op1(OpKind::CenterCropPad, {&x, &s1}, attrs_of({{"axes", A::of_ints({-1})}}), 18);
  EXPECT_EQ(z.dims(), (Dims{5, 1}));
  EXPECT_EQ(floats_of(z), (std::vector<float>{0, 2, 4, 6, 8}));
  EXPECT_THROW(run_op1(OpKind::CenterCropPad, {&x, &s1}, {}, 18), Error);
}

TEST(Movement, DropoutInferenceAndTraining) {
  const Tensor x = f32s({4}, {1, 2, 3, 4});
  auto ys = run_op(OpKind::Dropout, {&x}, {}, 2);
  EXPECT_EQ(floats_of(ys[0]), floats_of(x));
  EXPECT_EQ(ys[1].dtype(), DType::Bool);
  EXPECT_EQ(ints_of(ys[1]), (std::vector<int64_t>{1, 1, 1, 1}));
  // Opset 7 mask has the input's type.
  ys = run_op(OpKind::Dropout, {&x}, attrs_of({{"ratio", A::of_float(0.2f)}}), 2, 7);
  EXPECT_EQ(ys[1].dtype(), DType::F32);
  // training_mode with ratio 0: identity.
  const Tensor r0 = Tensor::scalar<float>(0), on = Tensor::scalar<bool>(true);
  ys = run_op(OpKind::Dropout, {&x, &r0, &on}, {}, 2);
  EXPECT_EQ(floats_of(ys[0]), floats_of(x));
  // training with ratio 0.5: kept elements doubled, dropped zero; same seed, same mask.
  const Tensor big = iota_f32({64});
  const Tensor r5 = Tensor::scalar<float>(0.5f);
  const Attributes seed = attrs_of({{"seed", A::of_int(3)}});
  auto a = run_op(OpKind::Dropout, {&big, &r5, &on}, seed, 2);
  auto b = run_op(OpKind::Dropout, {&big, &r5, &on}, seed, 2);
  EXPECT_TRUE(a[1].bytes_equal(b[1]));
  int kept = 0;
  for (int64_t i = 0; i < 64; ++i) {
    const bool k = a[1].as_int64(i) != 0;
    kept += k;
    EXPECT_EQ(a[0].as_double(i), k ? 2.0 * static_cast<double>(i) : 0.0);
  }
  EXPECT_GT(kept, 10);
  EXPECT_LT(kept, 54);
  const Tensor r1 = Tensor::scalar<float>(1.0f);
  EXPECT_THROW(run_op(OpKind::Dropout, {&x, &r1}, {}, 1), Error);
  const Tensor xi = make<int32_t>({1}, {1});
  EXPECT_THROW(run_op(OpKind::Dropout, {&xi}, {}, 1), Error);
}

}  // namespace
}  // namespace kiln::test
