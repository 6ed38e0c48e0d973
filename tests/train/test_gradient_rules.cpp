// Every gradient rule against central finite differences (f64), and the rule table against
// ops.def's Grad column.
#include "tests/train/grad_check.h"
#include "train/gradient_rules.h"

namespace kiln {
namespace {

using test::check_gradient;
using test::GradInput;
using test::i64;
using test::random_f64;

Attributes attrs(std::initializer_list<std::pair<std::string, Attribute>> items) {
  Attributes a;
  for (const auto& [k, v] : items) a.set(k, v);
  return a;
}
Attribute ints(std::vector<int64_t> v) { return Attribute::of_ints(std::move(v)); }
Attribute one(int64_t v) { return Attribute::of_int(v); }

TEST(GradientRules, TableMatchesOpsDefGradColumn) {
  for (int i = 0; i < kNumOps; ++i) {
    const OpKind op = static_cast<OpKind>(i);
    EXPECT_EQ(op_info(op).has_gradient, train::gradient_rule(op) != nullptr)
        << op_name(op) << ": ops.def Grad column and train/gradient_rules.h disagree";
  }
}

TEST(GradientRules, Unary) {
  const Dims d = {2, 3};
  for (OpKind op : {OpKind::Abs, OpKind::Neg, OpKind::Exp, OpKind::Tanh, OpKind::Sigmoid,
                    OpKind::Relu, OpKind::Identity}) {
    check_gradient(op, {{random_f64(d, 1, -1, 1, 0.05)}});
  }
  check_gradient(OpKind::LeakyRelu, {{random_f64(d, 2, -1, 1, 0.05)}},
                 attrs({{"alpha", Attribute::of_float(0.2f)}}));
  check_gradient(OpKind::Sqrt, {{random_f64(d, 3, 0.5, 2)}});
  check_gradient(OpKind::Log, {{random_f64(d, 4, 0.5, 2)}});
  check_gradient(OpKind::Reciprocal, {{random_f64(d, 5, -2, 2, 0.5)}});
}

TEST(GradientRules, BroadcastBinary) {
  for (OpKind op : {OpKind::Add, OpKind::Sub, OpKind::Mul}) {
    check_gradient(op, {{random_f64({2, 3, 4}, 1)}, {random_f64({3, 1}, 2)}});
    check_gradient(op, {{random_f64({1, 4}, 3)}, {random_f64({2, 3, 4}, 4)}});
  }
  check_gradient(OpKind::Div, {{random_f64({2, 3, 4}, 5)}, {random_f64({4}, 6, -2, 2, 0.5)}});
  check_gradient(OpKind::Div, {{random_f64({3}, 7)}, {random_f64({2, 3}, 8, -2, 2, 0.5)}});
}

TEST(GradientRules, MatMul) {
  check_gradient(OpKind::MatMul, {{random_f64({3, 4}, 1)}, {random_f64({4, 5}, 2)}});
  check_gradient(OpKind::MatMul, {{random_f64({2, 3, 4}, 3)}, {random_f64({4, 2}, 4)}});
}

TEST(GradientRules, Gemm) {
  for (int ta = 0; ta < 2; ++ta) {
    for (int tb = 0; tb < 2; ++tb) {
      const Dims a = ta ? Dims{4, 3} : Dims{3, 4};
      const Dims b = tb ? Dims{5, 4} : Dims{4, 5};
      check_gradient(OpKind::Gemm,
                     {{random_f64(a, 1)}, {random_f64(b, 2)}, {random_f64({5}, 3)}},
                     attrs({{"transA", one(ta)}, {"transB", one(tb)},
                            {"alpha", Attribute::of_float(0.5f)}, {"beta", Attribute::of_float(2.0f)}}));
    }
  }
  check_gradient(OpKind::Gemm, {{random_f64({3, 4}, 4)}, {random_f64({4, 2}, 5)}, {random_f64({3, 1}, 6)}});
}

TEST(GradientRules, Conv) {
  // Plain, with bias.
  check_gradient(OpKind::Conv,
                 {{random_f64({2, 2, 5, 5}, 1)}, {random_f64({3, 2, 3, 3}, 2)}, {random_f64({3}, 3)}});
  // Strided (the last row is dropped), padded, grouped, dilated.
  check_gradient(OpKind::Conv, {{random_f64({1, 4, 6, 7}, 4)}, {random_f64({2, 2, 2, 3}, 5)}},
                 attrs({{"strides", ints({2, 2})}, {"pads", ints({1, 0, 0, 1})},
                        {"group", one(2)}, {"dilations", ints({1, 2})}}));
  check_gradient(OpKind::Conv, {{random_f64({1, 1, 5, 5}, 6)}, {random_f64({1, 1, 3, 3}, 7)}},
                 attrs({{"auto_pad", Attribute::of_string("SAME_UPPER")}, {"strides", ints({2, 2})}}));
}

TEST(GradientRules, Pooling) {
  // Distinct values so each window has a unique maximum.
  Tensor x = random_f64({1, 2, 5, 5}, 1);
  for (int64_t i = 0; i < x.numel(); ++i) x.data<double>()[i] += 0.01 * static_cast<double>(i % 7);
  check_gradient(OpKind::MaxPool, {{x}}, attrs({{"kernel_shape", ints({2, 2})}, {"strides", ints({2, 2})}}));
  check_gradient(OpKind::MaxPool, {{x}},
                 attrs({{"kernel_shape", ints({3, 3})}, {"pads", ints({1, 1, 1, 1})}}));  // overlapping
  check_gradient(OpKind::MaxPool, {{x}}, attrs({{"kernel_shape", ints({2, 2})}}), 2);  // saved indices
  for (int include = 0; include < 2; ++include) {
    check_gradient(OpKind::AveragePool, {{x}},
                   attrs({{"kernel_shape", ints({3, 3})}, {"strides", ints({2, 2})},
                          {"pads", ints({1, 1, 1, 1})}, {"count_include_pad", one(include)}}));
  }
  check_gradient(OpKind::GlobalAveragePool, {{x}});
}

TEST(GradientRules, SoftmaxFamily) {
  check_gradient(OpKind::Softmax, {{random_f64({2, 3, 4}, 1)}}, attrs({{"axis", one(1)}}));
  check_gradient(OpKind::LogSoftmax, {{random_f64({3, 5}, 2)}});
  for (const char* reduction : {"mean", "sum", "none"}) {
    check_gradient(OpKind::SoftmaxCrossEntropyLoss,
                   {{random_f64({4, 3}, 3)}, {i64({4}, {0, 2, 1, 2}), false}},
                   attrs({{"reduction", Attribute::of_string(reduction)}}));
  }
  // Class weights, an ignored label, spatial dims, and the log_prob output in the loss.
  check_gradient(OpKind::SoftmaxCrossEntropyLoss,
                 {{random_f64({2, 3, 2}, 4)}, {i64({2, 2}, {0, 2, 1, 1}), false},
                  {random_f64({3}, 5, 0.5, 2), false}},
                 attrs({{"ignore_index", one(1)}}), 2, {0, 1});
}

TEST(GradientRules, Reshapes) {
  const Tensor x = random_f64({2, 3, 4}, 1);
  check_gradient(OpKind::Reshape, {{x}, {i64({2}, {4, 6}), false}});
  check_gradient(OpKind::Flatten, {{x}}, attrs({{"axis", one(2)}}));
  check_gradient(OpKind::Transpose, {{x}}, attrs({{"perm", ints({1, 2, 0})}}));
  check_gradient(OpKind::Squeeze, {{random_f64({2, 1, 3}, 2)}, {i64({1}, {1}), false}});
  check_gradient(OpKind::Unsqueeze, {{x}, {i64({2}, {0, 3}), false}});
  check_gradient(OpKind::Expand, {{random_f64({3, 1}, 3)}, {i64({3}, {2, 3, 4}), false}});
}

TEST(GradientRules, ConcatSplitSliceGatherPad) {
  check_gradient(OpKind::Concat, {{random_f64({2, 3}, 1)}, {random_f64({2, 2}, 2)}},
                 attrs({{"axis", one(1)}}));
  check_gradient(OpKind::Split, {{random_f64({2, 5}, 3)}, {i64({2}, {2, 3}), false}},
                 attrs({{"axis", one(1)}}), 2, {0, 1});
  check_gradient(OpKind::Split, {{random_f64({4, 2}, 4)}}, {}, 2, {1});  // one output unused
  check_gradient(OpKind::Slice, {{random_f64({4, 5}, 5)}, {i64({2}, {1, -4}), false},
                                 {i64({2}, {3, 100}), false}, {i64({2}, {0, 1}), false}});
  check_gradient(OpKind::Gather, {{random_f64({4, 3}, 6)}, {i64({3}, {2, 0, 2}), false}});
  check_gradient(OpKind::Gather, {{random_f64({2, 4}, 7)}, {i64({2, 2}, {-1, 1, 3, 1}), false}},
                 attrs({{"axis", one(1)}}));
  check_gradient(OpKind::Pad, {{random_f64({2, 3}, 8)}, {i64({4}, {1, 0, 2, 1}), false}});
}

TEST(GradientRules, DropoutInferenceIsIdentity) {
  check_gradient(OpKind::Dropout, {{random_f64({2, 3}, 1)}});
}

TEST(GradientRules, MissingRuleFailsClearly) {
  Graph g;
  Value* x = g.add_value("x", ValueType::of(DType::F64, {1}));
  g.inputs.push_back(x);
  Value* y = g.add_value("y");
  g.add_node(OpKind::Floor, {x}, {y}, {}, "floor");
  Value* s = g.add_value("s");
  g.add_node(OpKind::Neg, {y}, {s});
  try {
    train::differentiate(g, s, {x});
    FAIL() << "expected an error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("Floor 'floor'"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("no gradient rule"), std::string::npos) << e.what();
  }
}

}  // namespace
}  // namespace kiln
