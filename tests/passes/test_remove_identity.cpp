#include "tests/passes/pass_test_util.h"

namespace kiln {
namespace {

using test::f32;
using test::i64;
using test::op_sequence;

ValueType f32_type(Dims d) { return ValueType::of(DType::F32, std::move(d)); }

TEST(RemoveIdentity, RemovesNoOpsAndRewiresConsumers) {
  Graph g;
  Value* x = g.add_value("x", f32_type({2, 3}));
  Value* a = g.add_value("a", f32_type({2, 3}));
  Value* b = g.add_value("b", f32_type({2, 3}));
  Value* c = g.add_value("c", f32_type({2, 3}));
  Value* d = g.add_value("d", f32_type({2, 3}));
  Value* e = g.add_value("e", f32_type({2, 3}));
  Value* mask = g.add_value("mask");
  Value* y = g.add_value("y", f32_type({2, 3}));
  Value* shape = g.add_constant("shape", i64({2}, {2, 3}));
  Attributes to_f32;
  to_f32.set("to", Attribute::of_int(1));  // ONNX FLOAT
  Attributes perm_id;
  perm_id.set("perm", Attribute::of_ints({0, 1}));
  g.add_node(OpKind::Identity, {x}, {a}, {}, "id");
  g.add_node(OpKind::Dropout, {a}, {b, mask}, {}, "drop");  // mask unused
  g.add_node(OpKind::Cast, {b}, {c}, to_f32, "cast");
  g.add_node(OpKind::Reshape, {c, shape}, {d}, {}, "reshape");
  g.add_node(OpKind::Transpose, {d}, {e}, perm_id, "transpose");
  g.add_node(OpKind::Relu, {e}, {y}, {}, "relu");
  g.inputs = {x};
  g.outputs = {y};

  PassContext ctx;
  EXPECT_TRUE(test::run_pass_checked(g, "remove-identity", {{"x", f32({2, 3}, {-1, 2, -3, 4, -5, 6})}},
                                     &ctx));
  EXPECT_EQ(op_sequence(g), (std::vector<std::string>{"Relu"}));
  EXPECT_EQ(g.nodes()[0]->input(0), x);
  EXPECT_EQ(g.find_value("mask"), nullptr);
  EXPECT_EQ(g.find_value("shape"), nullptr);
  EXPECT_EQ(ctx.report.at(0).changes, (std::vector<std::string>{"removed 5 no-op nodes"}));
}

TEST(RemoveIdentity, KeepsNodesThatChangeSomething) {
  Graph g;
  Value* x = g.add_value("x", f32_type({2, 3}));
  Value* t = g.add_value("t", f32_type({3, 2}));
  Value* r = g.add_value("r", f32_type({6}));
  Value* c = g.add_value("c", ValueType::of(DType::F64, {6}));
  Value* training = g.add_constant("training", Tensor::scalar<bool>(true));
  Value* ratio = g.add_constant("ratio", Tensor::scalar<float>(0.5f));
  Value* dr = g.add_value("dr", ValueType::of(DType::F64, {6}));
  Value* shape = g.add_constant("shape", i64({1}, {6}));
  Attributes to_f64;
  to_f64.set("to", Attribute::of_int(11));  // ONNX DOUBLE
  g.add_node(OpKind::Transpose, {x}, {t}, {}, "transpose");
  g.add_node(OpKind::Reshape, {t, shape}, {r}, {}, "reshape");
  g.add_node(OpKind::Cast, {r}, {c}, to_f64, "cast");
  g.add_node(OpKind::Dropout, {c, ratio, training}, {dr}, {}, "train_dropout");
  g.inputs = {x};
  g.outputs = {dr};
  EXPECT_FALSE(test::run_pass_checked(g, "remove-identity", {{"x", f32({2, 3}, {1, 2, 3, 4, 5, 6})}}));
  EXPECT_EQ(op_sequence(g), (std::vector<std::string>{"Transpose", "Reshape", "Cast", "Dropout"}));
}

TEST(RemoveIdentity, GraphOutputKeepsItsNameByRenamingTheProducer) {
  Graph g;
  Value* x = g.add_value("x", f32_type({4}));
  Value* r = g.add_value("r", f32_type({4}));
  Value* y = g.add_value("y", f32_type({4}));
  Value* z = g.add_value("z", f32_type({4}));
  g.add_node(OpKind::Relu, {x}, {r}, {}, "relu");
  g.add_node(OpKind::Identity, {r}, {y}, {}, "id");
  g.add_node(OpKind::Neg, {r}, {z}, {}, "neg");  // another use of r: must now read y
  g.inputs = {x};
  g.outputs = {y, z};
  EXPECT_TRUE(test::run_pass_checked(g, "remove-identity", {{"x", f32({4}, {-1, 2, -3, 4})}}));
  EXPECT_EQ(op_sequence(g), (std::vector<std::string>{"Relu", "Neg"}));
  EXPECT_EQ(test::output_names(g), (std::vector<std::string>{"y", "z"}));
  EXPECT_EQ(g.nodes()[0]->output(0), y);
  EXPECT_EQ(g.nodes()[0]->name, "relu");
  EXPECT_EQ(g.nodes()[1]->input(0), y);
  EXPECT_EQ(g.find_value("r"), nullptr);
}

TEST(RemoveIdentity, KeepsIdentityBetweenGraphInputAndOutput) {
  Graph g;
  Value* x = g.add_value("x", f32_type({2}));
  Value* y = g.add_value("y", f32_type({2}));
  Value* y2 = g.add_value("y2", f32_type({2}));
  g.add_node(OpKind::Identity, {x}, {y}, {}, "pass_through");
  g.add_node(OpKind::Identity, {y}, {y2}, {}, "output_of_output");
  g.inputs = {x};
  g.outputs = {y, y2};
  PassContext ctx;
  EXPECT_FALSE(test::run_pass_checked(g, "remove-identity", {{"x", f32({2}, {1, 2})}}, &ctx));
  EXPECT_EQ(op_sequence(g), (std::vector<std::string>{"Identity", "Identity"}));
  EXPECT_EQ(ctx.report.at(0).changes,
            (std::vector<std::string>{"kept 2 no-op nodes that name graph outputs"}));
}

}  // namespace
}  // namespace kiln
