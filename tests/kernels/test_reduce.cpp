// Reduce* family and ArgMax/ArgMin: values (checked against numpy / the ONNX reference),
// opset differences in how axes are given, empty reductions, dtypes, inference and errors.
#include <cmath>
#include <limits>

#include "ir/infer.h"
#include "tests/kernels/infer_test_util.h"
#include "tests/test_util.h"

namespace kiln::test {
namespace {

Shape sym_shape(std::vector<Dim> dims) { return Shape{true, std::move(dims)}; }

const float kInf = std::numeric_limits<float>::infinity();

// x = (i+1)/10 over [2,3,4], with x[0,1,2] = -0.7.
Tensor sample() {
  std::vector<float> v(24);
  for (int i = 0; i < 24; ++i) v[static_cast<size_t>(i)] = static_cast<float>(i + 1) * 0.1f;
  v[6] = -0.7f;
  return make<float>({2, 3, 4}, v);
}

TEST(Reduce, EveryOpOverAxes0And2MatchesNumpy) {
  const Tensor x = sample();
  const Tensor axes = make<int64_t>({2}, {0, 2});
  const Attributes keep0 = attrs_of({{"keepdims", Attribute::of_int(0)}});
  const struct {
    OpKind op;
    std::vector<float> want;
  } cases[] = {
      {OpKind::ReduceSum, {6.8f, 8.6f, 13.2f}},
      {OpKind::ReduceMean, {0.85f, 1.075f, 1.65f}},
      {OpKind::ReduceMax, {1.6f, 2.0f, 2.4f}},
      {OpKind::ReduceMin, {0.1f, -0.7f, 0.9f}},
      {OpKind::ReduceProd, {0.0104832f, -1.953504f, 30.29685f}},
      {OpKind::ReduceL1, {6.8f, 10.0f, 13.2f}},
      {OpKind::ReduceL2, {2.95973f, 3.934463f, 4.975942f}},
      {OpKind::ReduceLogSum, {1.916923f, 2.151762f, 2.580217f}},
      {OpKind::ReduceLogSumExp, {3.105818f, 3.459199f, 3.905818f}},
      {OpKind::ReduceSumSquare, {8.76f, 15.48f, 24.76f}},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(std::string(op_name(c.op)));
    expect_close(run_op1(c.op, {&x, &axes}, keep0, 18), make<float>({3}, c.want), 2e-6, 1e-6);
    // The same node before opset 18 (13 for ReduceSum) names its axes as an attribute.
    const int old_opset = c.op == OpKind::ReduceSum ? 11 : 13;
    const Attributes old = attrs_of({{"keepdims", Attribute::of_int(1)},
                                     {"axes", Attribute::of_ints({0, -1})}});
    expect_close(run_op1(c.op, {&x}, old, old_opset), make<float>({1, 3, 1}, c.want), 2e-6,
                 1e-6);
  }
}

TEST(Reduce, NoAxesReducesEverythingUnlessNoop) {
  const Tensor x = make<float>({2, 3}, {1, 2, 3, 4, 5, 6});
  expect_close(run_op1(OpKind::ReduceSum, {&x}), make<float>({1, 1}, {21}));
  expect_close(run_op1(OpKind::ReduceSum, {&x}, attrs_of({{"keepdims", Attribute::of_int(0)}})),
               make<float>({}, {21}));
  const Tensor empty_axes = make<int64_t>({0}, {});
  expect_close(run_op1(OpKind::ReduceMax, {&x, &empty_axes}), make<float>({1, 1}, {6}));
  const Attributes noop = attrs_of({{"noop_with_empty_axes", Attribute::of_int(1)}});
  expect_close(run_op1(OpKind::ReduceSum, {&x, &empty_axes}, noop), x);
  expect_close(run_op1(OpKind::ReduceSum, {&x}, noop), x);
  // A reduction over no axes is still the op applied to each single element.
  expect_close(run_op1(OpKind::ReduceSumSquare, {&x, &empty_axes}, noop),
               make<float>({2, 3}, {1, 4, 9, 16, 25, 36}));
  const Tensor neg = make<float>({2}, {-2, 3});
  expect_close(run_op1(OpKind::ReduceL1, {&neg}, noop), make<float>({2}, {2, 3}));
  // Opset 11: an empty axes attribute reduces everything.
  expect_close(run_op1(OpKind::ReduceMean, {&x}, attrs_of({{"axes", Attribute::of_ints({})}}), 11),
               make<float>({1, 1}, {3.5f}));
}

TEST(Reduce, EmptyReductionsGiveTheIdentity) {
  const Tensor x = Tensor(DType::F32, {2, 0});
  const Tensor axes = make<int64_t>({1}, {1});
  const Attributes keep0 = attrs_of({{"keepdims", Attribute::of_int(0)}});
  const struct {
    OpKind op;
    float want;
  } cases[] = {{OpKind::ReduceSum, 0},          {OpKind::ReduceProd, 1},
               {OpKind::ReduceMax, -kInf},      {OpKind::ReduceMin, kInf},
               {OpKind::ReduceL1, 0},           {OpKind::ReduceL2, 0},
               {OpKind::ReduceSumSquare, 0},    {OpKind::ReduceLogSum, -kInf},
               {OpKind::ReduceLogSumExp, -kInf}, {OpKind::ReduceMean, NAN}};
  for (const auto& c : cases) {
    SCOPED_TRACE(std::string(op_name(c.op)));
    const Tensor y = run_op1(c.op, {&x, &axes}, keep0);
    ASSERT_EQ(y.dims(), (Dims{2}));
    for (int i = 0; i < 2; ++i) {
      if (std::isnan(c.want)) {
        EXPECT_TRUE(std::isnan(y.data<float>()[i]));
      } else {
        EXPECT_EQ(y.data<float>()[i], c.want);
      }
    }
  }
  const Tensor xi = Tensor(DType::I32, {0, 3});
  const Tensor axis0 = make<int64_t>({1}, {0});
  expect_close(run_op1(OpKind::ReduceMax, {&xi, &axis0}, keep0),
               make<int32_t>({3}, {INT32_MIN, INT32_MIN, INT32_MIN}));
  expect_close(run_op1(OpKind::ReduceMin, {&xi, &axis0}, keep0),
               make<int32_t>({3}, {INT32_MAX, INT32_MAX, INT32_MAX}));
  const Tensor xb = Tensor(DType::Bool, {0});
  EXPECT_FALSE(run_op1(OpKind::ReduceMax, {&xb}, keep0, 20).data<bool>()[0]);
  EXPECT_TRUE(run_op1(OpKind::ReduceMin, {&xb}, keep0, 20).data<bool>()[0]);
}

TEST(Reduce, IntegerAndBoolDtypes) {
  const Tensor b = make<bool>({2, 2}, {true, false, false, false});
  const Tensor axis1 = make<int64_t>({1}, {1});
  expect_close(run_op1(OpKind::ReduceMax, {&b, &axis1}, {}, 20), make<bool>({2, 1}, {true, false}));
  expect_close(run_op1(OpKind::ReduceMin, {&b, &axis1}, {}, 20),
               make<bool>({2, 1}, {false, false}));
  // Integer mean truncates toward zero; L2 truncates; sums wrap instead of overflowing.
  const Tensor i = make<int32_t>({2, 2}, {-3, -4, 3, 4});
  expect_close(run_op1(OpKind::ReduceMean, {&i, &axis1}), make<int32_t>({2, 1}, {-3, 3}));
  expect_close(run_op1(OpKind::ReduceL2, {&i, &axis1}), make<int32_t>({2, 1}, {5, 5}));
  expect_close(run_op1(OpKind::ReduceL1, {&i}), make<int32_t>({1, 1}, {14}));
  expect_close(run_op1(OpKind::ReduceProd, {&i}), make<int32_t>({1, 1}, {144}));
  const Tensor big = make<int32_t>({2}, {INT32_MAX, 1});
  expect_close(run_op1(OpKind::ReduceSum, {&big}), make<int32_t>({1}, {INT32_MIN}));
  const Tensor u = make<uint8_t>({3}, {200, 7, 255});
  expect_close(run_op1(OpKind::ReduceMax, {&u}), make<uint8_t>({1}, {255}));
  expect_close(run_op1(OpKind::ReduceMin, {&u}), make<uint8_t>({1}, {7}));
  const Tensor l = make<int64_t>({2}, {INT64_MAX - 1, 1});
  expect_close(run_op1(OpKind::ReduceSum, {&l}), make<int64_t>({1}, {INT64_MAX}));
}

TEST(Reduce, HalfAccumulatesWide) {
  // 4096 ones: a half accumulator would stall at 2048.
  const Tensor h = make<half>({4096}, std::vector<half>(4096, half(1.0f)));
  EXPECT_EQ(static_cast<float>(run_op1(OpKind::ReduceSum, {&h}).data<half>()[0]), 4096.0f);
  const Tensor bf = make<bfloat16>({512}, std::vector<bfloat16>(512, bfloat16(1.0f)));
  EXPECT_EQ(static_cast<float>(run_op1(OpKind::ReduceSum, {&bf}).data<bfloat16>()[0]), 512.0f);
  EXPECT_EQ(static_cast<float>(run_op1(OpKind::ReduceMean, {&h}).data<half>()[0]), 1.0f);
}

TEST(Reduce, LogSumExpIsStableAndMaxPropagatesNaN) {
  const Tensor x = make<float>({2, 2}, {1000, 1000, -1000, -kInf});
  const Tensor axis1 = make<int64_t>({1}, {1});
  expect_close(run_op1(OpKind::ReduceLogSumExp, {&x, &axis1}),
               make<float>({2, 1}, {1000.0f + std::log(2.0f), -1000.0f}));
  const Tensor n = make<float>({3}, {1, NAN, 2});
  EXPECT_TRUE(std::isnan(run_op1(OpKind::ReduceMax, {&n}).data<float>()[0]));
  EXPECT_TRUE(std::isnan(run_op1(OpKind::ReduceMin, {&n}).data<float>()[0]));
  const Tensor ninf = make<float>({2}, {-kInf, -kInf});
  EXPECT_EQ(run_op1(OpKind::ReduceLogSumExp, {&ninf}).data<float>()[0], -kInf);
}

TEST(Reduce, InferenceSymbolic) {
  const ValueType x{DType::F32, sym_shape({Dim::sym("N"), Dim::of(3), Dim::unknown(), Dim::of(1)}),
                    {}};
  const Attributes keep0 = attrs_of({{"keepdims", Attribute::of_int(0)}});
  // Axes known from an attribute (opset 13 ReduceMean).
  auto out = infer(OpKind::ReduceMean, 13, attrs_of({{"axes", Attribute::of_ints({1})}}), {x});
  EXPECT_EQ(out[0].shape.to_string(), "[N,1,?,1]");
  out = infer(OpKind::ReduceMean, 13,
              attrs_of({{"axes", Attribute::of_ints({-2, 1})}, {"keepdims", Attribute::of_int(0)}}),
              {x});
  EXPECT_EQ(out[0].shape.to_string(), "[N,1]");
  // Axes given by an input whose value is unknown.
  const ValueType axes_any{DType::I64, Shape::of_rank(1), {}};
  out = infer(OpKind::ReduceSum, 13, {}, {x, axes_any});
  EXPECT_EQ(out[0].shape.to_string(), "[?,?,?,1]");
  EXPECT_EQ(out[0].dtype, DType::F32);
  const ValueType axes2{DType::I64, Shape::of({2}), {}};
  EXPECT_EQ(infer(OpKind::ReduceSum, 13, keep0, {x, axes2})[0].shape.to_string(), "[?,?]");
  EXPECT_FALSE(infer(OpKind::ReduceSum, 13, keep0, {x, axes_any})[0].shape.rank_known);
  // Axes input with a known value.
  const Tensor axes_val = make<int64_t>({1}, {0});
  EXPECT_EQ(infer(OpKind::ReduceSum, 13, keep0, {x, axes2}, {nullptr, &axes_val})[0]
                .shape.to_string(),
            "[3,?,1]");
  // Unknown rank: reduce-all without keepdims is still a scalar.
  const ValueType any{DType::F16, Shape::unknown_rank(), {}};
  EXPECT_EQ(infer(OpKind::ReduceMax, 18, keep0, {any})[0].shape.to_string(), "[]");
  EXPECT_FALSE(infer(OpKind::ReduceMax, 18, {}, {any})[0].shape.rank_known);
  EXPECT_EQ(infer(OpKind::ReduceMax, 18, {}, {any})[0].dtype, DType::F16);
}

TEST(Reduce, BadInputFailsCleanly) {
  const Tensor x = make<float>({2, 3}, {1, 2, 3, 4, 5, 6});
  const Tensor axes = make<int64_t>({1}, {2});
  EXPECT_THROW(run_op1(OpKind::ReduceSum, {&x, &axes}), Error);  // axis out of range
  const Tensor dup = make<int64_t>({2}, {1, -1});
  EXPECT_THROW(run_op1(OpKind::ReduceSum, {&x, &dup}), Error);  // repeated axis
  const Tensor ok = make<int64_t>({1}, {1});
  EXPECT_THROW(run_op1(OpKind::ReduceSum, {&x, &ok}, {}, 11), Error);   // input before opset 13
  EXPECT_THROW(run_op1(OpKind::ReduceMean, {&x, &ok}, {}, 17), Error);  // input before opset 18
  EXPECT_THROW(run_op1(OpKind::ReduceSum, {&x, &ok}, attrs_of({{"keepdims", Attribute::of_int(2)}})),
               Error);
  const Tensor fax = make<float>({1}, {1});
  EXPECT_THROW(run_op1(OpKind::ReduceSum, {&x, &fax}), Error);  // float axes
  const Tensor b = make<bool>({2}, {true, false});
  EXPECT_THROW(run_op1(OpKind::ReduceSum, {&b}), Error);  // bool only for Max/Min
  EXPECT_THROW(run_op1(OpKind::ReduceSum, {&x, &ok},
                       attrs_of({{"axes", Attribute::of_ints({0})}})),
               Error);  // axes twice
}

TEST(Reduce, HostileEmptyShapeFailsInsteadOfOverflowing) {
  // 0 x 2^40 x 2^40 holds no elements, but the reduced shape 1 x 2^40 x 2^40 does not fit.
  const Tensor x = Tensor(DType::F32, {0, int64_t{1} << 40, int64_t{1} << 40});
  const Tensor axes = make<int64_t>({1}, {0});
  EXPECT_THROW(run_op1(OpKind::ReduceSum, {&x, &axes}), Error);
  const Tensor keep_first = make<int64_t>({2}, {1, 2});
  EXPECT_EQ(run_op1(OpKind::ReduceMax, {&x, &keep_first}).dims(), (Dims{0, 1, 1}));
}

TEST(ArgMax, AxesKeepdimsAndTies) {
  const Tensor x = make<float>({2, 3}, {1, 5, 5, 7, 2, 7});
  expect_close(run_op1(OpKind::ArgMax, {&x}), make<int64_t>({1, 3}, {1, 0, 1}));
  const Attributes a1 = attrs_of({{"axis", Attribute::of_int(-1)}, {"keepdims", Attribute::of_int(0)}});
  expect_close(run_op1(OpKind::ArgMax, {&x}, a1), make<int64_t>({2}, {1, 0}));
  Attributes last = a1;
  last.set("select_last_index", Attribute::of_int(1));
  expect_close(run_op1(OpKind::ArgMax, {&x}, last), make<int64_t>({2}, {2, 2}));
  expect_close(run_op1(OpKind::ArgMin, {&x}, a1), make<int64_t>({2}, {0, 1}));
  const Tensor y = make<int32_t>({4}, {3, 1, 1, 3});
  Attributes k0 = attrs_of({{"keepdims", Attribute::of_int(0)}});
  expect_close(run_op1(OpKind::ArgMin, {&y}, k0), make<int64_t>({}, {1}));
  k0.set("select_last_index", Attribute::of_int(1));
  expect_close(run_op1(OpKind::ArgMin, {&y}, k0), make<int64_t>({}, {2}));
  expect_close(run_op1(OpKind::ArgMax, {&y}, k0), make<int64_t>({}, {3}));
  // NaN is picked like numpy does, by both ArgMax and ArgMin.
  const Tensor n = make<float>({3}, {1, NAN, 3});
  expect_close(run_op1(OpKind::ArgMax, {&n}), make<int64_t>({1}, {1}));
  expect_close(run_op1(OpKind::ArgMin, {&n}), make<int64_t>({1}, {1}));
}

TEST(ArgMax, InferenceAndErrors) {
  const ValueType x{DType::F16, sym_shape({Dim::sym("B"), Dim::of(10)}), {}};
  auto out = infer(OpKind::ArgMax, 13, attrs_of({{"axis", Attribute::of_int(1)}}), {x});
  EXPECT_EQ(out[0].dtype, DType::I64);
  EXPECT_EQ(out[0].shape.to_string(), "[B,1]");
  out = infer(OpKind::ArgMin, 13, attrs_of({{"keepdims", Attribute::of_int(0)}}), {x});
  EXPECT_EQ(out[0].shape.to_string(), "[10]");
  const Tensor t = make<float>({2, 2}, {1, 2, 3, 4});
  EXPECT_THROW(run_op1(OpKind::ArgMax, {&t}, attrs_of({{"axis", Attribute::of_int(2)}})), Error);
  const Tensor empty = Tensor(DType::F32, {3, 0});
  EXPECT_THROW(run_op1(OpKind::ArgMax, {&empty}, attrs_of({{"axis", Attribute::of_int(1)}})),
               Error);
  const Tensor scalar = make<float>({}, {1});
  EXPECT_THROW(run_op1(OpKind::ArgMax, {&scalar}), Error);
  const Tensor b = make<bool>({2}, {true, false});
  EXPECT_THROW(run_op1(OpKind::ArgMax, {&b}), Error);
}

}  // namespace
}  // namespace kiln::test
