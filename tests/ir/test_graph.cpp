#include <gtest/gtest.h>

#include <cmath>

#include "ir/graph.h"
#include "ir/infer.h"
#include "ir/printer.h"
#include "ir/verifier.h"

namespace kiln {
namespace {

TEST(OpTable, NamesRoundTrip) {
  for (int i = 0; i < kNumOps; ++i) {
    auto op = static_cast<OpKind>(i);
    auto back = op_from_name(op_name(op));
    ASSERT_TRUE(back.has_value()) << op_name(op);
    EXPECT_EQ(*back, op);
  }
  EXPECT_FALSE(op_from_name("NoSuchOp").has_value());
}

TEST(Graph, TopoSortDetectsCycle) {
  Graph g;
  Value* a = g.add_value("a", ValueType::of(DType::F32, {2}));
  Value* b = g.add_value("b");
  Value* c = g.add_value("c");
  g.add_node(OpKind::Add, {a, c}, {b}, {}, "n1");
  g.add_node(OpKind::Relu, {b}, {c}, {}, "n2");
  try {
    g.topo_sort();
    FAIL() << "expected a cycle error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("cycle"), std::string::npos) << e.what();
  }
}

TEST(Graph, TopoSortOrdersProducersFirst) {
  Graph g;
  Value* x = g.add_value("x", ValueType::of(DType::F32, {2}));
  Value* y = g.add_value("y");
  Value* z = g.add_value("z");
  g.add_node(OpKind::Relu, {y}, {z}, {}, "second");
  g.add_node(OpKind::Relu, {x}, {y}, {}, "first");
  g.inputs = {x};
  g.outputs = {z};
  g.topo_sort();
  EXPECT_EQ(g.nodes()[0]->name, "first");
  EXPECT_EQ(g.nodes()[1]->name, "second");
  verify_graph(g);
}

TEST(Verifier, RejectsUndefinedInput) {
  Graph g;
  Value* x = g.add_value("x", ValueType::of(DType::F32, {2}));
  Value* ghost = g.add_value("ghost");
  Value* y = g.add_value("y");
  g.add_node(OpKind::Add, {x, ghost}, {y}, {}, "add1");
  g.inputs = {x};
  g.outputs = {y};
  try {
    verify_graph(g);
    FAIL() << "expected an error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("ghost"), std::string::npos) << e.what();
  }
}

TEST(Dtype, HalfRoundTrip) {
  for (float f : {0.0f, 1.0f, -2.5f, 65504.0f, 6.1035156e-05f, 5.9604645e-08f}) {
    EXPECT_EQ(static_cast<float>(half(f)), f) << f;
  }
  EXPECT_EQ(static_cast<float>(half(1.0f + 1.0f / 4096)), 1.0f);  // rounds to nearest even
  EXPECT_TRUE(std::isinf(static_cast<float>(half(70000.0f))));
  EXPECT_EQ(static_cast<float>(bfloat16(1.0f)), 1.0f);
}

TEST(Tensor, OverflowingDimsFail) {
  EXPECT_THROW(Tensor(DType::F32, {int64_t{1} << 40, int64_t{1} << 40}), Error);
  EXPECT_THROW(Tensor(DType::F32, {-1}), Error);
  EXPECT_THROW(Tensor(DType::F32, {int64_t{1} << 39}), Error);  // > 1 TiB
}

}  // namespace
}  // namespace kiln
