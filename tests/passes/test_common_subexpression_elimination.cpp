#include "tests/passes/pass_test_util.h"

namespace kiln {
namespace {

using test::f32;
using test::op_sequence;

Attributes alpha(float a) {
  Attributes attrs;
  attrs.set("alpha", Attribute::of_float(a));
  return attrs;
}

TEST(Cse, MergesIdenticalNodesTransitively) {
  Graph g;
  Value* x = g.add_value("x", ValueType::of(DType::F32, {3}));
  Value* a1 = g.add_value("a1");
  Value* a2 = g.add_value("a2");
  Value* b1 = g.add_value("b1");
  Value* b2 = g.add_value("b2");
  Value* other = g.add_value("other");
  Value* y = g.add_value("y");
  Value* z = g.add_value("z");
  g.add_node(OpKind::LeakyRelu, {x}, {a1}, alpha(0.1f), "lr1");
  g.add_node(OpKind::LeakyRelu, {x}, {a2}, alpha(0.1f), "lr2");
  g.add_node(OpKind::LeakyRelu, {x}, {other}, alpha(0.2f), "lr_other_alpha");
  g.add_node(OpKind::Exp, {a1}, {b1}, {}, "exp1");
  g.add_node(OpKind::Exp, {a2}, {b2}, {}, "exp2");
  g.add_node(OpKind::Add, {b1, b2}, {y}, {}, "add");
  g.add_node(OpKind::Add, {y, other}, {z}, {}, "add2");
  g.inputs = {x};
  g.outputs = {z};
  PassContext ctx;
  EXPECT_TRUE(test::run_pass_checked(g, "cse", {{"x", f32({3}, {-1, 0.5f, 2})}}, &ctx));
  EXPECT_EQ(op_sequence(g),
            (std::vector<std::string>{"LeakyRelu", "LeakyRelu", "Exp", "Add", "Add"}));
  EXPECT_EQ(g.nodes()[3]->input(0), b1);
  EXPECT_EQ(g.nodes()[3]->input(1), b1);
  EXPECT_EQ(ctx.report.at(0).changes, (std::vector<std::string>{"merged 2 duplicate nodes"}));
}

TEST(Cse, KeepsTheDuplicateThatNamesAGraphOutput) {
  Graph g;
  Value* x = g.add_value("x", ValueType::of(DType::F32, {2}));
  Value* internal = g.add_value("internal");
  Value* out = g.add_value("out");
  Value* z = g.add_value("z");
  g.add_node(OpKind::Sigmoid, {x}, {internal}, {}, "s1");
  g.add_node(OpKind::Neg, {internal}, {z}, {}, "neg");
  g.add_node(OpKind::Sigmoid, {x}, {out}, {}, "s2");
  g.inputs = {x};
  g.outputs = {z, out};
  EXPECT_TRUE(test::run_pass_checked(g, "cse", {{"x", f32({2}, {-1, 1})}}));
  EXPECT_EQ(op_sequence(g), (std::vector<std::string>{"Sigmoid", "Neg"}));
  EXPECT_EQ(g.nodes()[0]->name, "s2");
  EXPECT_EQ(g.nodes()[1]->input(0), out);
  EXPECT_EQ(test::output_names(g), (std::vector<std::string>{"z", "out"}));
}

TEST(Cse, LeavesNonDeterministicAndDistinctNodes) {
  Graph g;
  Value* x = g.add_value("x", ValueType::of(DType::F32, {4}));
  Value* ratio = g.add_constant("ratio", Tensor::scalar<float>(0.5f));
  Value* training = g.add_constant("training", Tensor::scalar<bool>(true));
  Value* d1 = g.add_value("d1");
  Value* d2 = g.add_value("d2");
  Value* s = g.add_value("s");
  g.add_node(OpKind::Dropout, {x, ratio, training}, {d1}, {}, "drop1");
  g.add_node(OpKind::Dropout, {x, ratio, training}, {d2}, {}, "drop2");
  g.add_node(OpKind::Sub, {d1, d2}, {s}, {}, "sub");
  g.inputs = {x};
  g.outputs = {s};
  EXPECT_FALSE(test::run_pass_checked(g, "cse", {{"x", f32({4}, {1, 2, 3, 4})}}));
  EXPECT_EQ(op_sequence(g), (std::vector<std::string>{"Dropout", "Dropout", "Sub"}));
}

}  // namespace
}  // namespace kiln
