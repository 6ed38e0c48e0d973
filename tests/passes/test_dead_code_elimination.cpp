#include "tests/passes/pass_test_util.h"

namespace kiln {
namespace {

using test::f32;
using test::op_sequence;

TEST(DeadCodeElimination, RemovesUnreachableNodesAndValues) {
  Graph g;
  Value* x = g.add_value("x", ValueType::of(DType::F32, {2}));
  Value* w = g.add_constant("w", f32({2}, {1, 2}));
  Value* unused_w = g.add_constant("unused_w", f32({2}, {3, 4}));
  Value* a = g.add_value("a", ValueType::of(DType::F32, {2}));
  Value* dead1 = g.add_value("dead1", ValueType::of(DType::F32, {2}));
  Value* dead2 = g.add_value("dead2", ValueType::of(DType::F32, {2}));
  Value* y = g.add_value("y", ValueType::of(DType::F32, {2}));
  g.add_node(OpKind::Add, {x, w}, {a}, {}, "add");
  g.add_node(OpKind::Mul, {a, unused_w}, {dead1}, {}, "dead_mul");
  g.add_node(OpKind::Exp, {dead1}, {dead2}, {}, "dead_exp");
  g.add_node(OpKind::Relu, {a}, {y}, {}, "relu");
  g.inputs = {x};
  g.outputs = {y};

  PassContext ctx;
  EXPECT_TRUE(test::run_pass_checked(g, "dce", {{"x", f32({2}, {-5, 1})}}, &ctx));
  EXPECT_EQ(op_sequence(g), (std::vector<std::string>{"Add", "Relu"}));
  EXPECT_EQ(g.find_value("unused_w"), nullptr);
  EXPECT_EQ(g.find_value("dead1"), nullptr);
  EXPECT_EQ(g.find_value("dead2"), nullptr);
  EXPECT_NE(g.find_value("w"), nullptr);
  ASSERT_EQ(ctx.report.size(), 1u);
  EXPECT_EQ(ctx.report[0].pass, "dce");
  EXPECT_EQ(ctx.report[0].changes,
            (std::vector<std::string>{"removed 2 dead nodes", "removed 3 unused values"}));
}

TEST(DeadCodeElimination, KeepsMultiOutputNodeWithOneLiveOutputAndUnusedInputs) {
  Graph g;
  Value* x = g.add_value("x", ValueType::of(DType::F32, {4}));
  Value* unused_input = g.add_value("unused_input", ValueType::of(DType::F32, {1}));
  Value* s0 = g.add_value("s0");
  Value* s1 = g.add_value("s1");
  Attributes attrs;
  attrs.set("axis", Attribute::of_int(0));
  attrs.set("num_outputs", Attribute::of_int(2));
  g.add_node(OpKind::Split, {x}, {s0, s1}, attrs, "split", 18);
  g.inputs = {x, unused_input};
  g.outputs = {s1};
  EXPECT_FALSE(test::run_pass_checked(
      g, "dce", {{"x", f32({4}, {1, 2, 3, 4})}, {"unused_input", f32({1}, {0})}}));
  EXPECT_EQ(op_sequence(g), (std::vector<std::string>{"Split"}));
  EXPECT_NE(g.find_value("unused_input"), nullptr);  // graph inputs stay
}

}  // namespace
}  // namespace kiln
