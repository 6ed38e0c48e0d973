// Softmax, LogSoftmax, Hardmax and the losses SoftmaxCrossEntropyLoss and
// NegativeLogLikelihoodLoss: values (from numpy / the ONNX reference implementation),
// the opset-13 change of axis semantics, reductions, weights, ignore_index, inference, errors.
#include <cmath>
#include <limits>

#include "ir/infer.h"
#include "tests/test_util.h"

namespace kiln::test {
namespace {

Attributes attrs_of(std::initializer_list<std::pair<const char*, Attribute>> kv) {
  Attributes a;
  for (const auto& [k, v] : kv) a.set(k, v);
  return a;
}

std::vector<ValueType> infer(OpKind op, int opset, const Attributes& attrs,
                             const std::vector<ValueType>& inputs, size_t num_outputs = 1) {
  InferContext ctx;
  ctx.op = op;
  ctx.opset = opset;
  ctx.attrs = &attrs;
  for (const ValueType& t : inputs) ctx.input_types.push_back(&t);
  ctx.input_values.assign(inputs.size(), nullptr);
  ctx.outputs.resize(num_outputs);
  infer_node(ctx);
  return ctx.outputs;
}

Attributes axis(int64_t a) { return attrs_of({{"axis", Attribute::of_int(a)}}); }

// [[[1,2,3],[4,5,6]]]
const Tensor kX = make<float>({1, 2, 3}, {1, 2, 3, 4, 5, 6});

TEST(Softmax, AlongAnAxisFromOpset13) {
  const float a = 0.09003057f, b = 0.24472847f, c = 0.66524096f;
  expect_close(run_op1(OpKind::Softmax, {&kX}), make<float>({1, 2, 3}, {a, b, c, a, b, c}));
  const float lo = 0.04742587f, hi = 0.95257413f;
  expect_close(run_op1(OpKind::Softmax, {&kX}, axis(1)),
               make<float>({1, 2, 3}, {lo, lo, lo, hi, hi, hi}));
  expect_close(run_op1(OpKind::Softmax, {&kX}, axis(-2), 13),
               make<float>({1, 2, 3}, {lo, lo, lo, hi, hi, hi}));
  expect_close(run_op1(OpKind::LogSoftmax, {&kX}),
               make<float>({1, 2, 3}, {-2.40760596f, -1.40760596f, -0.40760596f, -2.40760596f,
                                       -1.40760596f, -0.40760596f}));
}

TEST(Softmax, CoercedTo2DBeforeOpset13) {
  // Opset 11, axis 1 (the default): rows are everything after dim 0, here all six values.
  const Tensor want = make<float>({1, 2, 3}, {0.00426978f, 0.01160646f, 0.03154963f, 0.08576079f,
                                              0.23312201f, 0.63369132f});
  expect_close(run_op1(OpKind::Softmax, {&kX}, {}, 11), want);
  expect_close(run_op1(OpKind::Softmax, {&kX}, axis(-2), 1), want);
  // axis 2 in opset 11 is the same as the last axis.
  const float a = 0.09003057f, b = 0.24472847f, c = 0.66524096f;
  expect_close(run_op1(OpKind::Softmax, {&kX}, axis(2), 11),
               make<float>({1, 2, 3}, {a, b, c, a, b, c}));
  // axis == rank is a valid split: every row has one element.
  expect_close(run_op1(OpKind::Softmax, {&kX}, axis(3), 11),
               make<float>({1, 2, 3}, {1, 1, 1, 1, 1, 1}));
  const Tensor lsm = run_op1(OpKind::LogSoftmax, {&kX}, {}, 11);
  EXPECT_NEAR(lsm.data<float>()[5], std::log(0.63369132f), 1e-6);
  // Hardmax before 13: one hot over the flattened tail.
  expect_close(run_op1(OpKind::Hardmax, {&kX}, {}, 11), make<float>({1, 2, 3}, {0, 0, 0, 0, 0, 1}));
}

TEST(Softmax, StableForLargeInputsAndHalf) {
  const Tensor big = make<float>({2}, {10000, 10001});
  expect_close(run_op1(OpKind::Softmax, {&big}), make<float>({2}, {0.26894142f, 0.73105858f}));
  expect_close(run_op1(OpKind::LogSoftmax, {&big}), make<float>({2}, {-1.31326169f, -0.31326169f}));
  const Tensor h = make<half>({2}, {half(1.0f), half(1.0f)});
  const Tensor y = run_op1(OpKind::Softmax, {&h});
  ASSERT_EQ(y.dtype(), DType::F16);
  EXPECT_EQ(static_cast<float>(y.data<half>()[1]), 0.5f);
  const Tensor d = make<double>({3}, {0, 0, 0});
  expect_close(run_op1(OpKind::Softmax, {&d}), make<double>({3}, {1.0 / 3, 1.0 / 3, 1.0 / 3}),
               1e-12, 0);
  const Tensor empty = Tensor(DType::F32, {2, 0});
  EXPECT_EQ(run_op1(OpKind::Softmax, {&empty}).dims(), (Dims{2, 0}));
}

TEST(Softmax, HardmaxPicksTheFirstMax) {
  const Tensor x = make<float>({2, 3}, {3, 1, 3, 0, 2, 1});
  expect_close(run_op1(OpKind::Hardmax, {&x}), make<float>({2, 3}, {1, 0, 0, 0, 1, 0}));
  expect_close(run_op1(OpKind::Hardmax, {&x}, axis(0)), make<float>({2, 3}, {1, 0, 1, 0, 1, 0}));
}

TEST(Softmax, InferenceAndErrors) {
  const ValueType x{DType::BF16, Shape{true, {Dim::sym("N"), Dim::of(5)}}, {}};
  const auto out = infer(OpKind::LogSoftmax, 13, {}, {x});
  EXPECT_EQ(out[0].dtype, DType::BF16);
  EXPECT_EQ(out[0].shape.to_string(), "[N,5]");
  EXPECT_THROW(infer(OpKind::Softmax, 13, axis(2), {x}), Error);
  const ValueType any{DType::F32, Shape::unknown_rank(), {}};
  EXPECT_FALSE(infer(OpKind::Hardmax, 13, axis(7), {any})[0].shape.rank_known);
  const Tensor i = make<int32_t>({2}, {1, 2});
  EXPECT_THROW(run_op1(OpKind::Softmax, {&i}), Error);
  EXPECT_THROW(run_op1(OpKind::Softmax, {&kX}, axis(3)), Error);
  EXPECT_THROW(run_op1(OpKind::Softmax, {&kX}, axis(4), 11), Error);
  // An empty tensor whose trailing dims multiply past int64 fails cleanly.
  const Tensor hostile = Tensor(DType::F32, {0, int64_t{1} << 40, int64_t{1} << 40});
  EXPECT_THROW(run_op1(OpKind::Softmax, {&hostile}, axis(0)), Error);
}

// Scores [N=2, C=3, D=2] and labels [2, 2]; expected values from the ONNX reference.
const Tensor kScores = make<float>({2, 3, 2}, {1, 2, 3, 1, 1, 1, 0, -1, 2, 3, 0, 0});
const Tensor kLabels = make<int64_t>({2, 2}, {0, 2, 1, 1});
const Tensor kWeights = make<float>({3}, {1, 2, 0.5f});

Attributes reduction(const char* r) { return attrs_of({{"reduction", Attribute::of_string(r)}}); }

TEST(Loss, SoftmaxCrossEntropyReductions) {
  const auto sce = OpKind::SoftmaxCrossEntropyLoss;
  expect_close(run_op1(sce, {&kScores, &kLabels}, reduction("none")),
               make<float>({2, 2}, {2.23954487f, 1.55144477f, 0.23954484f, 0.06588392f}));
  expect_close(run_op1(sce, {&kScores, &kLabels}, reduction("sum")), make<float>({}, {4.09641838f}));
  expect_close(run_op1(sce, {&kScores, &kLabels}), make<float>({}, {1.0241046f}));  // mean
  // Weighted, with label 1 ignored: mean divides by the weights of the counted elements.
  Attributes a = reduction("mean");
  a.set("ignore_index", Attribute::of_int(1));
  expect_close(run_op1(sce, {&kScores, &kLabels, &kWeights}, a), make<float>({}, {2.01017833f}));
  a.set("reduction", Attribute::of_string("none"));
  expect_close(run_op1(sce, {&kScores, &kLabels, &kWeights}, a),
               make<float>({2, 2}, {2.23954487f, 0.77572238f, 0, 0}));
  // Every element ignored: the mean is 0/0.
  a.set("reduction", Attribute::of_string("mean"));
  const Tensor ones = make<int32_t>({2, 2}, {1, 1, 1, 1});
  EXPECT_TRUE(std::isnan(run_op1(sce, {&kScores, &ones}, a).data<float>()[0]));
}

TEST(Loss, SoftmaxCrossEntropyLogProbOutput) {
  const auto out = run_op(OpKind::SoftmaxCrossEntropyLoss, {&kScores, &kLabels}, reduction("sum"), 2);
  ASSERT_EQ(out.size(), 2u);
  expect_close(out[1], make<float>({2, 3, 2}, {-2.23954487f, -0.55144465f, -0.23954484f,
                                               -1.55144477f, -2.23954487f, -1.55144477f,
                                               -2.23954487f, -4.06588411f, -0.23954484f,
                                               -0.06588392f, -2.23954487f, -3.06588387f}));
  // [N, C] scores: one loss per row.
  const Tensor s2 = make<float>({1, 2}, {0, 0});
  const Tensor l2 = make<int64_t>({1}, {1});
  expect_close(run_op1(OpKind::SoftmaxCrossEntropyLoss, {&s2, &l2}, {}, 12),
               make<float>({}, {std::log(2.0f)}));
}

TEST(Loss, NegativeLogLikelihood) {
  const auto nll = OpKind::NegativeLogLikelihoodLoss;
  expect_close(run_op1(nll, {&kScores, &kLabels, &kWeights}, reduction("none")),
               make<float>({2, 2}, {-1, -0.5f, -4, -6}));
  expect_close(run_op1(nll, {&kScores, &kLabels, &kWeights}, reduction("sum")),
               make<float>({}, {-11.5f}));
  expect_close(run_op1(nll, {&kScores, &kLabels, &kWeights}), make<float>({}, {-2.09090909f}));
  // A negative ignore_index may appear among the labels; other labels must be in range.
  const Tensor neg = make<int64_t>({2, 2}, {-5, 2, 1, 1});
  Attributes a = reduction("sum");
  a.set("ignore_index", Attribute::of_int(-5));
  expect_close(run_op1(nll, {&kScores, &neg}, a, 13), make<float>({}, {-1 - 2 - 0.0f - 3}));
  const Tensor d = make<double>({1, 2}, {-0.25, -2});
  const Tensor l = make<int32_t>({1}, {0});
  expect_close(run_op1(nll, {&d, &l}), make<double>({}, {0.25}));
}

TEST(Loss, InferenceAndErrors) {
  const ValueType x{DType::F32, Shape{true, {Dim::sym("N"), Dim::of(10), Dim::unknown()}}, {}};
  const ValueType t{DType::I64, Shape{true, {Dim::unknown(), Dim::of(7)}}, {}};
  auto out = infer(OpKind::SoftmaxCrossEntropyLoss, 13, reduction("none"), {x, t}, 2);
  EXPECT_EQ(out[0].shape.to_string(), "[N,7]");
  EXPECT_EQ(out[1].shape.to_string(), "[N,10,?]");
  out = infer(OpKind::NegativeLogLikelihoodLoss, 22, {}, {x, t});
  EXPECT_EQ(out[0].shape.to_string(), "[]");
  EXPECT_EQ(out[0].dtype, DType::F32);
  const ValueType any{DType::I32, Shape::unknown_rank(), {}};
  EXPECT_EQ(infer(OpKind::NegativeLogLikelihoodLoss, 22, reduction("none"), {x, any})[0]
                .shape.to_string(),
            "[N,?]");
  EXPECT_THROW(infer(OpKind::SoftmaxCrossEntropyLoss, 13, reduction("avg"), {x, t}), Error);
  const ValueType bad_t{DType::I64, Shape{true, {Dim::of(3)}}, {}};
  EXPECT_THROW(infer(OpKind::SoftmaxCrossEntropyLoss, 13, {}, {x, bad_t}), Error);
  const ValueType float_t{DType::F32, Shape{true, {Dim::of(3), Dim::of(7)}}, {}};
  EXPECT_THROW(infer(OpKind::NegativeLogLikelihoodLoss, 13, {}, {x, float_t}), Error);

  const Tensor out_of_range = make<int64_t>({2, 2}, {0, 3, 1, 1});
  EXPECT_THROW(run_op1(OpKind::SoftmaxCrossEntropyLoss, {&kScores, &out_of_range}), Error);
  const Tensor negative = make<int64_t>({2, 2}, {0, -1, 1, 1});
  EXPECT_THROW(run_op1(OpKind::NegativeLogLikelihoodLoss, {&kScores, &negative}), Error);
  const Tensor wrong_shape = make<int64_t>({2, 3}, {0, 0, 0, 0, 0, 0});
  EXPECT_THROW(run_op1(OpKind::NegativeLogLikelihoodLoss, {&kScores, &wrong_shape}), Error);
  const Tensor w2 = make<float>({2}, {1, 1});
  EXPECT_THROW(run_op1(OpKind::SoftmaxCrossEntropyLoss, {&kScores, &kLabels, &w2}), Error);
  const Tensor rank1 = make<float>({3}, {1, 2, 3});
  const Tensor l0 = make<int64_t>({}, {0});
  EXPECT_THROW(run_op1(OpKind::SoftmaxCrossEntropyLoss, {&rank1, &l0}), Error);
}

}  // namespace
}  // namespace kiln::test
