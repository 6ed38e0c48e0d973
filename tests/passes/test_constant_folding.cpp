#include "tests/passes/pass_test_util.h"

namespace kiln {
namespace {

using test::f32;
using test::i64;
using test::op_sequence;

TEST(ConstantFolding, FoldsConstantChainsAndKeepsOutputNames) {
  Graph g;
  Value* x = g.add_value("x", ValueType::of(DType::F32, {2}));
  Value* a = g.add_constant("a", f32({2}, {1, 2}));
  Value* b = g.add_constant("b", f32({2}, {3, 4}));
  Value* sum = g.add_value("sum", ValueType::of(DType::F32, {2}));
  Value* scaled = g.add_value("scaled", ValueType::of(DType::F32, {2}));
  Value* y = g.add_value("y", ValueType::of(DType::F32, {2}));
  g.add_node(OpKind::Add, {a, b}, {sum}, {}, "add");
  g.add_node(OpKind::Mul, {sum, sum}, {scaled}, {}, "square");
  g.add_node(OpKind::Add, {x, scaled}, {y}, {}, "add_x");
  g.inputs = {x};
  g.outputs = {y, scaled};

  PassContext ctx;
  EXPECT_TRUE(test::run_pass_checked(g, "constant-fold", {{"x", f32({2}, {10, 20})}}, &ctx));
  EXPECT_EQ(op_sequence(g), (std::vector<std::string>{"Add"}));
  ASSERT_TRUE(scaled->is_constant());
  EXPECT_TRUE(scaled->constant->bytes_equal(f32({2}, {16, 36})));
  EXPECT_EQ(test::output_names(g), (std::vector<std::string>{"y", "scaled"}));
  EXPECT_EQ(g.find_value("a"), nullptr);
  EXPECT_EQ(g.find_value("sum"), nullptr);
  EXPECT_EQ(ctx.report.at(0).changes,
            (std::vector<std::string>{"folded 2 nodes with constant inputs"}));
}

TEST(ConstantFolding, FoldsShapeAndSizeOfStaticShapes) {
  Graph g;
  Value* x = g.add_value("x", ValueType::of(DType::F32, {2, 3}));
  Value* s = g.add_value("s", ValueType::of(DType::I64, {2}));
  Value* n = g.add_value("n", ValueType::of(DType::I64, {}));
  Value* y = g.add_value("y", ValueType::of(DType::F32, {3, 2}));
  g.add_node(OpKind::Shape, {x}, {s}, {}, "shape");
  g.add_node(OpKind::Size, {x}, {n}, {}, "size");
  Value* rev = g.add_constant("rev", i64({2}, {3, 2}));
  g.add_node(OpKind::Reshape, {x, rev}, {y}, {}, "reshape");
  g.inputs = {x};
  g.outputs = {y, s, n};
  PassContext ctx;
  EXPECT_TRUE(test::run_pass_checked(g, "constant-fold", {{"x", f32({2, 3}, {1, 2, 3, 4, 5, 6})}},
                                     &ctx));
  EXPECT_EQ(op_sequence(g), (std::vector<std::string>{"Reshape"}));
  EXPECT_TRUE(s->constant->bytes_equal(i64({2}, {2, 3})));
  EXPECT_TRUE(n->constant->bytes_equal(Tensor::scalar<int64_t>(6)));
  EXPECT_EQ(ctx.report.at(0).changes,
            (std::vector<std::string>{"folded 2 Shape/Size of static shapes"}));
}

TEST(ConstantFolding, LeavesSymbolicShapesAndNonConstantInputs) {
  Graph g;
  Value* x = g.add_value("x", ValueType{DType::F32, Shape{true, {Dim::sym("batch"), Dim::of(3)}}, {}});
  Value* s = g.add_value("s");
  Value* y = g.add_value("y");
  g.add_node(OpKind::Shape, {x}, {s}, {}, "shape");
  g.add_node(OpKind::Relu, {x}, {y}, {}, "relu");
  g.inputs = {x};
  g.outputs = {s, y};
  EXPECT_FALSE(test::run_pass_checked(g, "constant-fold", {{"x", f32({1, 3}, {1, -2, 3})}}));
  EXPECT_EQ(op_sequence(g), (std::vector<std::string>{"Shape", "Relu"}));
}

TEST(ConstantFolding, DoesNotMaterializeHugeConstantOfShape) {
  Graph g;
  Value* shape = g.add_constant("shape", i64({2}, {1 << 14, 1 << 14}));  // 1 GiB of f32
  Value* big = g.add_value("big");
  Value* total = g.add_value("total");
  g.add_node(OpKind::ConstantOfShape, {shape}, {big}, {}, "fill");
  Attributes keep;
  keep.set("keepdims", Attribute::of_int(0));
  g.add_node(OpKind::ReduceSum, {big}, {total}, keep, "sum");
  g.outputs = {total};
  infer_shapes(g);
  PassContext ctx;
  ctx.verify_after_each = true;
  EXPECT_FALSE(run_passes(g, {"constant-fold"}, ctx));
  EXPECT_EQ(op_sequence(g), (std::vector<std::string>{"ConstantOfShape", "ReduceSum"}));
  EXPECT_EQ(ctx.report.at(0).changes,
            (std::vector<std::string>{"kept 1 nodes whose results exceed the size cap"}));
}

TEST(ConstantFolding, SmallConstantOfShapeFoldsAndInitializerInputsDoNot) {
  Graph g;
  Value* shape = g.add_constant("shape", i64({1}, {3}));
  Value* filled = g.add_value("filled");
  Value* w = g.add_constant("w", f32({3}, {1, 2, 3}));  // also a graph input: overridable
  Value* y = g.add_value("y");
  Attributes value;
  value.set("value", Attribute::of_tensor(f32({1}, {2.5f})));
  g.add_node(OpKind::ConstantOfShape, {shape}, {filled}, value, "fill");
  g.add_node(OpKind::Mul, {filled, w}, {y}, {}, "mul");
  g.inputs = {w};
  g.outputs = {y};
  EXPECT_TRUE(test::run_pass_checked(g, "constant-fold", {{"w", f32({3}, {4, 5, 6})}}));
  EXPECT_EQ(op_sequence(g), (std::vector<std::string>{"Mul"}));
  EXPECT_TRUE(filled->constant->bytes_equal(f32({3}, {2.5f, 2.5f, 2.5f})));
}

}  // namespace
}  // namespace kiln
