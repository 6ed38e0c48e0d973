#include <gtest/gtest.h>

#include "ir/cost.h"
#include "ir/graph.h"
#include "ir/infer.h"

namespace kiln {
namespace {

TEST(Cost, ConvAndGemmMacs) {
  Graph g;
  Value* x = g.add_value("x", ValueType{DType::F32, Shape{true, {Dim::sym("n"), Dim::of(3),
                                                               Dim::of(8), Dim::of(8)}}, {}});
  Value* w = g.add_constant("w", Tensor(DType::F32, {4, 3, 3, 3}));
  Value* fw = g.add_constant("fw", Tensor(DType::F32, {144, 10}));
  Value* c = g.add_value("c");
  Value* f = g.add_value("f");
  Value* y = g.add_value("y");
  g.add_node(OpKind::Conv, {x, w}, {c});  // out [n,4,6,6]: 144 outputs x 27 products
  g.add_node(OpKind::Flatten, {c}, {f});
  g.add_node(OpKind::MatMul, {f, fw}, {y});  // [n,144] x [144,10]
  g.inputs = {x};
  g.outputs = {y};
  infer_shapes(g);
  EXPECT_EQ(*estimate_macs(*g.nodes()[0]), 4 * 6 * 6 * 27);
  EXPECT_EQ(*estimate_macs(*g.nodes()[1]), 0);
  EXPECT_EQ(*estimate_macs(*g.nodes()[2]), 144 * 10);
  bool complete = true;
  EXPECT_EQ(estimate_graph_macs(g, &complete), 4 * 6 * 6 * 27 + 1440);
  EXPECT_FALSE(complete);  // the batch is symbolic
}

}  // namespace
}  // namespace kiln
