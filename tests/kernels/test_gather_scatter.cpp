// Gather, GatherElements, GatherND, ScatterElements, Scatter, ScatterND, OneHot, NonZero,
// Compress, Unique. Expected values are hand-checked or from onnx.reference (onnx 1.22).
#include "tests/kernels/shape_test_util.h"

namespace kiln::test {
namespace {

using A = Attribute;

TEST(GatherScatter, GatherAxesAndNegativeIndices) {
  const Tensor x = iota_f32({3, 2});
  const Tensor i = make<int32_t>({2, 2}, {0, 1, -1, 0});
  const Tensor y = run_op1(OpKind::Gather, {&x, &i});
  EXPECT_EQ(y.dims(), (Dims{2, 2, 2}));
  EXPECT_EQ(floats_of(y), (std::vector<float>{0, 1, 2, 3, 4, 5, 0, 1}));
  const Tensor j = i64s({1});
  const Tensor z = run_op1(OpKind::Gather, {&x, &j}, attrs_of({{"axis", A::of_int(1)}}));
  EXPECT_EQ(z.dims(), (Dims{3, 1}));
  EXPECT_EQ(floats_of(z), (std::vector<float>{1, 3, 5}));
  const Tensor s = Tensor::scalar<int64_t>(2);
  EXPECT_EQ(run_op1(OpKind::Gather, {&x, &s}).dims(), (Dims{2}));
  const Tensor bad = i64s({3});
  EXPECT_THROW(run_op1(OpKind::Gather, {&x, &bad}), Error);
  const Tensor fi = f32s({1}, {0});
  EXPECT_THROW(run_op1(OpKind::Gather, {&x, &fi}), Error);
  auto out = infer_types(OpKind::Gather, {vt(DType::F32, {"n", "4"}), vt(DType::I64, {"b", "2"})},
                         {}, attrs_of({{"axis", A::of_int(1)}}));
  EXPECT_EQ(out[0].shape, sym_shape({"n", "b", "2"}));
}

TEST(GatherScatter, GatherElements) {
  const Tensor x = f32s({2, 2}, {1, 2, 3, 4});
  const Tensor i = make<int64_t>({2, 2}, {0, 0, 1, 0});
  EXPECT_EQ(
      floats_of(run_op1(OpKind::GatherElements, {&x, &i}, attrs_of({{"axis", A::of_int(1)}}))),
      (std::vector<float>{1, 1, 4, 3}));
  const Tensor y = iota_f32({3, 3});
  const Tensor k = make<int64_t>({2, 3}, {1, 2, 0, 2, 0, -1});
  EXPECT_EQ(floats_of(run_op1(OpKind::GatherElements, {&y, &k})),
            (std::vector<float>{3, 7, 2, 6, 1, 8}));
  const Tensor oob = make<int64_t>({1, 1}, {3});
  EXPECT_THROW(run_op1(OpKind::GatherElements, {&y, &oob}), Error);
  const Tensor wrong_rank = i64s({0});
  EXPECT_THROW(run_op1(OpKind::GatherElements, {&y, &wrong_rank}), Error);
}

TEST(GatherScatter, GatherND) {
  const Tensor d = iota_f32({2, 2, 2});
  const Tensor i = make<int64_t>({2, 2}, {0, 1, 1, 0});
  const Tensor y = run_op1(OpKind::GatherND, {&d, &i});
  EXPECT_EQ(y.dims(), (Dims{2, 2}));
  EXPECT_EQ(floats_of(y), (std::vector<float>{2, 3, 4, 5}));
  const Tensor data = iota_f32({2, 3, 4});
  const Tensor bi = make<int64_t>({2, 1, 2}, {1, 0, 0, 2});
  const Tensor z =
      run_op1(OpKind::GatherND, {&data, &bi}, attrs_of({{"batch_dims", A::of_int(1)}}));
  EXPECT_EQ(z.dims(), (Dims{2, 1}));
  EXPECT_EQ(floats_of(z), (std::vector<float>{4, 14}));
  const Tensor neg = make<int64_t>({1, 3}, {-1, -1, -1});
  EXPECT_EQ(floats_of(run_op1(OpKind::GatherND, {&d, &neg})), (std::vector<float>{7}));
  const Tensor oob = make<int64_t>({1, 1}, {2});
  EXPECT_THROW(run_op1(OpKind::GatherND, {&d, &oob}), Error);
  const Tensor too_long = make<int64_t>({1, 4}, {0, 0, 0, 0});
  EXPECT_THROW(run_op1(OpKind::GatherND, {&d, &too_long}), Error);
}

TEST(GatherScatter, ScatterElementsReductions) {
  const Tensor data(DType::F32, {3, 3});
  const Tensor i = make<int64_t>({2, 3}, {1, 0, 2, 0, 2, 1});
  const Tensor u = f32s({2, 3}, {1, 1.1f, 1.2f, 2, 2.1f, 2.2f});
  EXPECT_EQ(floats_of(run_op1(OpKind::ScatterElements, {&data, &i, &u})),
            (std::vector<float>{2, 1.1f, 0, 1, 0, 2.2f, 0, 2.1f, 1.2f}));
  // Scatter (opset 9-10) is the same op without reduction.
  EXPECT_EQ(floats_of(run_op1(OpKind::Scatter, {&data, &i, &u}, {}, 10)),
            (std::vector<float>{2, 1.1f, 0, 1, 0, 2.2f, 0, 2.1f, 1.2f}));
  const Tensor row = f32s({1, 5}, {1, 2, 3, 4, 5});
  const Tensor ri = make<int64_t>({1, 3}, {1, 3, 1});
  const Tensor ru = f32s({1, 3}, {1.1f, 2.1f, 2.5f});
  auto red = [&](const char* r) {
    return floats_of(run_op1(OpKind::ScatterElements, {&row, &ri, &ru},
                             attrs_of({{"axis", A::of_int(1)}, {"reduction", A::of_string(r)}})));
  };
  EXPECT_EQ(red("max"), (std::vector<float>{1, 2.5f, 3, 4, 5}));
  EXPECT_EQ(red("min"), (std::vector<float>{1, 1.1f, 3, 2.1f, 5}));
  expect_close(f32s({5}, red("add")), f32s({5}, {1, 5.6f, 3, 6.1f, 5}));
  expect_close(f32s({5}, red("mul")), f32s({5}, {1, 5.5f, 3, 8.4f, 5}));
  EXPECT_THROW(run_op1(OpKind::ScatterElements, {&row, &ri, &ru},
                       attrs_of({{"axis", A::of_int(1)}, {"reduction", A::of_string("max")}}), 16),
               Error);  // max needs opset 18
  const Tensor oob = make<int64_t>({1, 3}, {1, 5, 1});
  EXPECT_THROW(
      run_op1(OpKind::ScatterElements, {&row, &oob, &ru}, attrs_of({{"axis", A::of_int(1)}})),
      Error);
}

TEST(GatherScatter, ScatterND) {
  const Tensor x = f32s({8}, {1, 2, 3, 4, 5, 6, 7, 8});
  const Tensor i = make<int64_t>({4, 1}, {4, 3, 1, 7});
  const Tensor u = f32s({4}, {9, 10, 11, 12});
  EXPECT_EQ(floats_of(run_op1(OpKind::ScatterND, {&x, &i, &u})),
            (std::vector<float>{1, 11, 3, 10, 9, 6, 7, 12}));
  const Tensor ia = make<int64_t>({5, 1}, {4, 3, 1, 7, 4});
  const Tensor ua = f32s({5}, {9, 10, 11, 12, 1});
  EXPECT_EQ(floats_of(run_op1(OpKind::ScatterND, {&x, &ia, &ua},
                              attrs_of({{"reduction", A::of_string("add")}}))),
            (std::vector<float>{1, 13, 3, 14, 15, 6, 7, 20}));
  const Tensor im = make<int64_t>({3, 1}, {4, 3, 4});
  const Tensor um = f32s({3}, {2, 10, 3});
  EXPECT_EQ(floats_of(run_op1(OpKind::ScatterND, {&x, &im, &um},
                              attrs_of({{"reduction", A::of_string("mul")}}))),
            (std::vector<float>{1, 2, 3, 40, 30, 6, 7, 8}));
  // Slice updates: data [2,2], one index tuple of length 1 replaces a row.
  const Tensor m = make<int32_t>({2, 2}, {1, 2, 3, 4});
  const Tensor ri = make<int64_t>({1, 1}, {-1});
  const Tensor ru = make<int32_t>({1, 2}, {8, 9});
  EXPECT_EQ(ints_of(run_op1(OpKind::ScatterND, {&m, &ri, &ru})),
            (std::vector<int64_t>{1, 2, 8, 9}));
  const Tensor bad_u = make<int32_t>({1, 3}, {8, 9, 0});
  EXPECT_THROW(run_op1(OpKind::ScatterND, {&m, &ri, &bad_u}), Error);
}

TEST(GatherScatter, OneHot) {
  const Tensor idx = make<int64_t>({2, 2}, {1, -1, 5, 0});
  const Tensor depth = Tensor::scalar<int64_t>(3);
  const Tensor vals = make<int32_t>({2}, {0, 7});
  const Tensor y =
      run_op1(OpKind::OneHot, {&idx, &depth, &vals}, attrs_of({{"axis", A::of_int(1)}}));
  EXPECT_EQ(y.dims(), (Dims{2, 3, 2}));
  // -1 means depth-1; 5 is out of range -> all off (the spec; onnx.reference wraps instead).
  EXPECT_EQ(ints_of(y), (std::vector<int64_t>{0, 0, 7, 0, 0, 7, 0, 7, 0, 0, 0, 0}));
  const Tensor fidx = f32s({2}, {2.0f, 0.0f});
  const Tensor fdepth = Tensor::scalar<float>(3.0f);
  const Tensor fv = f32s({2}, {-1, 1});
  EXPECT_EQ(floats_of(run_op1(OpKind::OneHot, {&fidx, &fdepth, &fv})),
            (std::vector<float>{-1, -1, 1, 1, -1, -1}));
  const Tensor zero = Tensor::scalar<int64_t>(0);
  EXPECT_THROW(run_op1(OpKind::OneHot, {&idx, &zero, &vals}), Error);
  const Tensor three = make<int32_t>({3}, {0, 1, 2});
  EXPECT_THROW(run_op1(OpKind::OneHot, {&idx, &depth, &three}), Error);
}

TEST(GatherScatter, NonZero) {
  const Tensor x = make<int32_t>({2, 2}, {1, 0, 1, 1});
  const Tensor y = run_op1(OpKind::NonZero, {&x});
  EXPECT_EQ(y.dims(), (Dims{2, 3}));
  EXPECT_EQ(ints_of(y), (std::vector<int64_t>{0, 1, 1, 0, 0, 1}));
  const Tensor z(DType::F32, {3});
  EXPECT_EQ(run_op1(OpKind::NonZero, {&z}).dims(), (Dims{1, 0}));
  auto out = infer_types(OpKind::NonZero, {vt(DType::F32, {"n", "4", "2"})}, {});
  EXPECT_EQ(out[0].shape, sym_shape({"3", "?"}));
}

TEST(GatherScatter, Compress) {
  const Tensor x = iota_f32({3, 2});
  const Tensor c = make<bool>({3}, {false, true, true});
  const Tensor y = run_op1(OpKind::Compress, {&x, &c}, attrs_of({{"axis", A::of_int(0)}}));
  EXPECT_EQ(y.dims(), (Dims{2, 2}));
  EXPECT_EQ(floats_of(y), (std::vector<float>{2, 3, 4, 5}));
  const Tensor c2 = make<bool>({2}, {false, true});
  EXPECT_EQ(floats_of(run_op1(OpKind::Compress, {&x, &c2}, attrs_of({{"axis", A::of_int(-1)}}))),
            (std::vector<float>{1, 3, 5}));
  // No axis: flattened, a short condition selects from the front.
  EXPECT_EQ(floats_of(run_op1(OpKind::Compress, {&x, &c})), (std::vector<float>{1, 2}));
  const Tensor long_c = make<bool>({4}, {true, true, true, true});
  EXPECT_THROW(run_op1(OpKind::Compress, {&x, &long_c}, attrs_of({{"axis", A::of_int(0)}})), Error);
  const Tensor ic = make<int64_t>({1}, {1});
  EXPECT_THROW(run_op1(OpKind::Compress, {&x, &ic}), Error);
}

TEST(GatherScatter, UniqueFlatSortedAndUnsorted) {
  const Tensor x = make<int32_t>({6}, {2, 1, 1, 3, 4, 3});
  auto r = run_op(OpKind::Unique, {&x}, attrs_of({{"sorted", A::of_int(0)}}), 4);
  EXPECT_EQ(ints_of(r[0]), (std::vector<int64_t>{2, 1, 3, 4}));
  EXPECT_EQ(ints_of(r[1]), (std::vector<int64_t>{0, 1, 3, 4}));
  EXPECT_EQ(ints_of(r[2]), (std::vector<int64_t>{0, 1, 1, 2, 3, 2}));
  EXPECT_EQ(ints_of(r[3]), (std::vector<int64_t>{1, 2, 2, 1}));
  const Tensor m = make<int32_t>({2, 2}, {1, 3, 2, 3});
  r = run_op(OpKind::Unique, {&m}, {}, 4);
  EXPECT_EQ(ints_of(r[0]), (std::vector<int64_t>{1, 2, 3}));
  EXPECT_EQ(ints_of(r[1]), (std::vector<int64_t>{0, 2, 1}));
  EXPECT_EQ(ints_of(r[2]), (std::vector<int64_t>{0, 2, 1, 2}));
  EXPECT_EQ(ints_of(r[3]), (std::vector<int64_t>{1, 1, 2}));
  EXPECT_EQ(run_op(OpKind::Unique, {&m}, {}, 1).size(), 1u);
}

TEST(GatherScatter, UniqueAxis) {
  const Tensor x = f32s({3, 3}, {1, 0, 0, 1, 0, 0, 2, 3, 4});
  auto r = run_op(OpKind::Unique, {&x}, attrs_of({{"axis", A::of_int(0)}}), 4);
  EXPECT_EQ(r[0].dims(), (Dims{2, 3}));
  EXPECT_EQ(floats_of(r[0]), (std::vector<float>{1, 0, 0, 2, 3, 4}));
  EXPECT_EQ(ints_of(r[1]), (std::vector<int64_t>{0, 2}));
  EXPECT_EQ(ints_of(r[2]), (std::vector<int64_t>{0, 0, 1}));
  EXPECT_EQ(ints_of(r[3]), (std::vector<int64_t>{2, 1}));
  const Tensor y = f32s({2, 4, 2}, {1, 1, 0, 1, 2, 1, 0, 1, 1, 1, 0, 1, 2, 1, 0, 1});
  r = run_op(OpKind::Unique, {&y}, attrs_of({{"axis", A::of_int(1)}}), 4);
  EXPECT_EQ(r[0].dims(), (Dims{2, 3, 2}));
  EXPECT_EQ(floats_of(r[0]), (std::vector<float>{0, 1, 1, 1, 2, 1, 0, 1, 1, 1, 2, 1}));
  EXPECT_EQ(ints_of(r[1]), (std::vector<int64_t>{1, 0, 2}));
  EXPECT_EQ(ints_of(r[2]), (std::vector<int64_t>{1, 0, 2, 0}));
  EXPECT_EQ(ints_of(r[3]), (std::vector<int64_t>{2, 1, 1}));
  auto out = infer_types(OpKind::Unique, {vt(DType::F32, {"n", "4"})}, {},
                         attrs_of({{"axis", A::of_int(0)}}), 22, 3);
  EXPECT_EQ(out[0].shape, sym_shape({"?", "4"}));
  EXPECT_EQ(out[2].shape, sym_shape({"n"}));
}

}  // namespace
}  // namespace kiln::test
