// TopK, CumSum and CumProd: values, attribute variants, the opset-10 move of k from an
// attribute to an input, inference with unknown k or dims, and errors.
#include <cmath>

#include "ir/infer.h"
#include "tests/kernels/infer_test_util.h"
#include "tests/test_util.h"

namespace kiln::test {
namespace {

// [[3, 1, 4, 1], [5, 9, 2, 6]]
const Tensor kX = make<float>({2, 4}, {3, 1, 4, 1, 5, 9, 2, 6});

TEST(TopK, LargestAndSmallestWithTiesByIndex) {
  const Tensor k = make<int64_t>({1}, {2});
  auto out = run_op(OpKind::TopK, {&kX, &k}, {}, 2);
  expect_close(out[0], make<float>({2, 2}, {4, 3, 9, 6}));
  expect_close(out[1], make<int64_t>({2, 2}, {2, 0, 1, 3}));
  out = run_op(OpKind::TopK, {&kX, &k}, attrs_of({{"largest", Attribute::of_int(0)}}), 2);
  expect_close(out[0], make<float>({2, 2}, {1, 1, 2, 5}));
  expect_close(out[1], make<int64_t>({2, 2}, {1, 3, 2, 0}));  // equal 1s: lower index first
  // Along axis 0, k = 1; sorted=0 is allowed (any order is valid; this one is sorted).
  const Tensor k1 = make<int64_t>({1}, {1});
  out = run_op(OpKind::TopK, {&kX, &k1},
               attrs_of({{"axis", Attribute::of_int(0)}, {"sorted", Attribute::of_int(0)}}), 2);
  expect_close(out[0], make<float>({1, 4}, {5, 9, 4, 6}));
  expect_close(out[1], make<int64_t>({1, 4}, {1, 1, 0, 1}));
  const Tensor ties = make<int32_t>({5}, {7, 7, 8, 7, 8});
  const Tensor k4 = make<int64_t>({1}, {4});
  out = run_op(OpKind::TopK, {&ties, &k4}, {}, 2);
  expect_close(out[0], make<int32_t>({4}, {8, 8, 7, 7}));
  expect_close(out[1], make<int64_t>({4}, {2, 4, 0, 1}));
}

TEST(TopK, KAttributeBeforeOpset10AndEdgeCases) {
  auto out = run_op(OpKind::TopK, {&kX}, attrs_of({{"k", Attribute::of_int(3)}}), 2, 9);
  expect_close(out[0], make<float>({2, 3}, {4, 3, 1, 9, 6, 5}));
  expect_close(out[1], make<int64_t>({2, 3}, {2, 0, 1, 1, 3, 0}));
  const Tensor k0 = make<int64_t>({1}, {0});
  out = run_op(OpKind::TopK, {&kX, &k0}, {}, 2);
  EXPECT_EQ(out[0].dims(), (Dims{2, 0}));
  // NaN counts as the largest value.
  const Tensor n = make<float>({3}, {1, NAN, 2});
  const Tensor k2 = make<int64_t>({1}, {2});
  out = run_op(OpKind::TopK, {&n, &k2}, {}, 2);
  expect_close(out[1], make<int64_t>({2}, {1, 2}));
  out = run_op(OpKind::TopK, {&n, &k2}, attrs_of({{"largest", Attribute::of_int(0)}}), 2);
  expect_close(out[1], make<int64_t>({2}, {0, 2}));
  const Tensor h = make<half>({3}, {half(0.5f), half(-1.0f), half(2.0f)});
  out = run_op(OpKind::TopK, {&h, &k2}, {}, 2);
  EXPECT_EQ(static_cast<float>(out[0].data<half>()[0]), 2.0f);
  EXPECT_EQ(static_cast<float>(out[0].data<half>()[1]), 0.5f);
}

TEST(TopK, InferenceAndErrors) {
  const ValueType x{DType::F32, Shape{true, {Dim::sym("N"), Dim::of(10)}}, {}};
  const ValueType kt{DType::I64, Shape::of({1}), {}};
  auto out = infer(OpKind::TopK, 11, {}, {x, kt}, {}, 2);
  EXPECT_EQ(out[0].shape.to_string(), "[N,?]");
  EXPECT_EQ(out[1].dtype, DType::I64);
  const Tensor k = make<int64_t>({1}, {3});
  out = infer(OpKind::TopK, 11, {}, {x, kt}, {nullptr, &k}, 2);
  EXPECT_EQ(out[1].shape.to_string(), "[N,3]");
  out = infer(OpKind::TopK, 1, attrs_of({{"k", Attribute::of_int(2)}, {"axis", Attribute::of_int(0)}}),
              {x}, {}, 2);
  EXPECT_EQ(out[0].shape.to_string(), "[2,10]");

  const Tensor big = make<int64_t>({1}, {5});
  EXPECT_THROW(run_op(OpKind::TopK, {&kX, &big}, {}, 2), Error);  // k > axis size
  const Tensor neg = make<int64_t>({1}, {-1});
  EXPECT_THROW(run_op(OpKind::TopK, {&kX, &neg}, {}, 2), Error);
  const Tensor two = make<int64_t>({2}, {1, 1});
  EXPECT_THROW(run_op(OpKind::TopK, {&kX, &two}, {}, 2), Error);
  EXPECT_THROW(run_op(OpKind::TopK, {&kX}, {}, 2), Error);  // no k at all
  EXPECT_THROW(run_op(OpKind::TopK, {&kX, &k}, {}, 2, 9), Error);  // input before opset 10
  EXPECT_THROW(run_op(OpKind::TopK, {&kX, &k}, attrs_of({{"axis", Attribute::of_int(2)}}), 2),
               Error);
  const Tensor s = make<float>({}, {1});
  const Tensor k1 = make<int64_t>({1}, {1});
  EXPECT_THROW(run_op(OpKind::TopK, {&s, &k1}, {}, 2), Error);
}

TEST(CumSum, ExclusiveReverseAndAxes) {
  const Tensor x = make<float>({2, 3}, {1, 2, 3, 4, 5, 6});
  const Tensor a0 = make<int32_t>({}, {0});
  const Tensor a1 = make<int64_t>({}, {-1});
  expect_close(run_op1(OpKind::CumSum, {&x, &a1}), make<float>({2, 3}, {1, 3, 6, 4, 9, 15}));
  expect_close(run_op1(OpKind::CumSum, {&x, &a0}), make<float>({2, 3}, {1, 2, 3, 5, 7, 9}));
  const Attributes ex = attrs_of({{"exclusive", Attribute::of_int(1)}});
  expect_close(run_op1(OpKind::CumSum, {&x, &a1}, ex), make<float>({2, 3}, {0, 1, 3, 0, 4, 9}));
  const Attributes rev = attrs_of({{"reverse", Attribute::of_int(1)}});
  expect_close(run_op1(OpKind::CumSum, {&x, &a1}, rev), make<float>({2, 3}, {6, 5, 3, 15, 11, 6}));
  const Attributes both =
      attrs_of({{"reverse", Attribute::of_int(1)}, {"exclusive", Attribute::of_int(1)}});
  expect_close(run_op1(OpKind::CumSum, {&x, &a1}, both), make<float>({2, 3}, {5, 3, 0, 11, 6, 0}));
  const Tensor i = make<int32_t>({3}, {INT32_MAX, 1, 1});
  const Tensor z = make<int64_t>({1}, {0});  // a 1-element 1-D axis is accepted too
  expect_close(run_op1(OpKind::CumSum, {&i, &z}, {}, 11),
               make<int32_t>({3}, {INT32_MAX, INT32_MIN, INT32_MIN + 1}));
  const Tensor u = make<uint64_t>({2}, {UINT64_MAX, 2});
  expect_close(run_op1(OpKind::CumSum, {&u, &z}), make<uint64_t>({2}, {UINT64_MAX, 1}));
}

TEST(CumProd, ExclusiveReverseAndDtypes) {
  const Tensor x = make<double>({4}, {1, 2, 3, 4});
  const Tensor a = make<int64_t>({}, {0});
  expect_close(run_op1(OpKind::CumProd, {&x, &a}, {}, 26), make<double>({4}, {1, 2, 6, 24}));
  const Attributes both =
      attrs_of({{"reverse", Attribute::of_int(1)}, {"exclusive", Attribute::of_int(1)}});
  expect_close(run_op1(OpKind::CumProd, {&x, &a}, both, 26), make<double>({4}, {24, 12, 4, 1}));
  const Tensor i = make<int64_t>({2, 2}, {2, -3, 4, 5});
  const Tensor a0 = make<int32_t>({}, {0});
  expect_close(run_op1(OpKind::CumProd, {&i, &a0}, {}, 26), make<int64_t>({2, 2}, {2, -3, 8, -15}));
  const Tensor h = make<bfloat16>({3}, {bfloat16(2.0f), bfloat16(0.5f), bfloat16(-4.0f)});
  const Tensor y = run_op1(OpKind::CumProd, {&h, &a}, {}, 26);
  EXPECT_EQ(static_cast<float>(y.data<bfloat16>()[2]), -4.0f);
}

TEST(CumSum, InferenceAndErrors) {
  const ValueType x{DType::I64, Shape{true, {Dim::sym("T"), Dim::of(3)}}, {}};
  const ValueType ax{DType::I32, Shape::of({}), {}};
  const auto out = infer(OpKind::CumSum, 14, {}, {x, ax});
  EXPECT_EQ(out[0].shape.to_string(), "[T,3]");
  EXPECT_EQ(out[0].dtype, DType::I64);
  const Tensor bad = make<int64_t>({}, {2});
  EXPECT_THROW(infer(OpKind::CumSum, 14, {}, {x, ax}, {nullptr, &bad}), Error);

  const Tensor v = make<float>({3}, {1, 2, 3});
  EXPECT_THROW(run_op1(OpKind::CumSum, {&v, &bad}), Error);  // axis out of range
  const Tensor fa = make<float>({}, {0});
  EXPECT_THROW(run_op1(OpKind::CumSum, {&v, &fa}), Error);  // float axis
  const Tensor two = make<int64_t>({2}, {0, 0});
  EXPECT_THROW(run_op1(OpKind::CumProd, {&v, &two}, {}, 26), Error);
  const Tensor a = make<int64_t>({}, {0});
  EXPECT_THROW(run_op1(OpKind::CumSum, {&v, &a}, attrs_of({{"reverse", Attribute::of_int(3)}})),
               Error);
  const Tensor b = make<bool>({2}, {true, true});
  EXPECT_THROW(run_op1(OpKind::CumSum, {&b, &a}), Error);
  const Tensor s = make<float>({}, {1});
  EXPECT_THROW(run_op1(OpKind::CumSum, {&s, &a}), Error);
}

}  // namespace
}  // namespace kiln::test
