// cancel-transposes: text in / text out and exact numerics (data movement only).
#include "tests/passes/numeric_check.h"

namespace kiln {
namespace {

using test::check_passes;

TEST(CancelTransposesPass, TransposePairsComposeOrVanish) {
  const auto r = check_passes(R"(graph main (opset 17) {
  input %x: f32[2,3,4]
  %t1 = Transpose(%x) {perm=[0,2,1]} : f32[2,4,3]
  %t2 = Transpose(%t1) {perm=[2,0,1]} : f32[3,2,4]
  %u1 = Transpose(%t2) {perm=[1,0,2]} : f32[2,3,4]
  %y = Relu(%u1) : f32[2,3,4]
  %v1 = Transpose(%x) : f32[4,3,2]
  %z = Transpose(%v1) {perm=[1,2,0]} : f32[3,2,4]
  output %y
  output %z
})",
                              {"cancel-transposes"});
  // t1 o t2 = perm [1,0,2]; with u1 the three cancel. reverse o [1,2,0] = [1,0,2].
  EXPECT_EQ(r.text, R"(graph main (opset 17) {
  input %x: f32[2,3,4]
  %y = Relu(%x) : f32[2,3,4]
  %z = Transpose(%x) {perm=[1,0,2]} : f32[3,2,4]
  output %y
  output %z
}
)");
  EXPECT_EQ(test::report_lines(r.ctx),
            (std::vector<std::string>{"cancel-transposes: merged 2 pairs into one node",
                                      "cancel-transposes: removed 1 pairs that cancel"}));
}

TEST(CancelTransposesPass, ReshapePairsMergeAndSqueezePairsCancel) {
  const auto r = check_passes(R"(graph main (opset 17) {
  input %x: f32[2,3,4]
  input %d: f32[batch,6]
  const %s1: i64[2] = [6, 4]
  const %s2: i64[3] = [3, 2, 4]
  const %s3: i64[2] = [2, 12]
  const %s4: i64[2] = [24, -1]
  const %s5: i64[3] = [-1, 2, 3]
  const %s6: i64[2] = [0, 6]
  const %ax: i64[1] = [1]
  %r1 = Reshape(%x, %s1) : f32[6,4]
  %r2 = Reshape(%r1, %s2) : f32[3,2,4]
  %q1 = Reshape(%x, %s3) : f32[2,12]
  %q2 = Reshape(%q1, %s4) : f32[24,1]
  %dd1 = Reshape(%d, %s5) : f32[batch,2,3]
  %dd2 = Reshape(%dd1, %s6) : f32[batch,6]
  %u = Unsqueeze(%r2, %ax) : f32[3,1,2,4]
  %sq = Squeeze(%u, %ax) : f32[3,2,4]
  %o = Neg(%sq) : f32[3,2,4]
  output %o
  output %q2
  output %dd2
})",
                              {"cancel-transposes"}, 0, 0, 3, {{"batch", 3}});
  // The static results get constants of the final shape; the dynamic pair keeps its 0.
  EXPECT_EQ(r.text, R"(graph main (opset 17) {
  input %x: f32[2,3,4]
  input %d: f32[batch,6]
  const %s5: i64[3] = [-1, 2, 3]
  const %s6: i64[2] = [0, 6]
  const %s2_1: i64[3] = [3, 2, 4]
  const %s4_2: i64[2] = [24, 1]
  %dd1 = Reshape(%d, %s5) : f32[batch,2,3]
  %dd2 = Reshape(%dd1, %s6) : f32[batch,6]
  %r2 = Reshape(%x, %s2_1) : f32[3,2,4]
  %o = Neg(%r2) : f32[3,2,4]
  %q2 = Reshape(%x, %s4_2) : f32[24,1]
  output %o
  output %q2
  output %dd2
}
)");
}

// A pair whose end is a graph output: the name survives through an Identity.
TEST(CancelTransposesPass, GraphOutputKeepsItsName) {
  const auto r = check_passes(R"(graph main (opset 11) {
  input %x: f32[3,1,2]
  %s = Squeeze(%x) {axes=[1]} : f32[3,2]
  %y = Unsqueeze(%s) {axes=[-2]} : f32[3,1,2]
  output %y
})",
                              {"cancel-transposes"});
  EXPECT_EQ(r.text, R"(graph main (opset 11) {
  input %x: f32[3,1,2]
  %y = Identity(%x) : f32[3,1,2]
  output %y
}
)");
}

TEST(CancelTransposesPass, LeavesPairsWithOtherUsesOrDifferentAxes) {
  const std::string in = R"(graph main (opset 17) {
  input %x: f32[2,3]
  const %a0: i64[1] = [0]
  const %a1: i64[1] = [1]
  %t1 = Transpose(%x) : f32[3,2]
  %t2 = Transpose(%t1) : f32[2,3]
  %u = Unsqueeze(%x, %a0) : f32[1,2,3]
  %u2 = Unsqueeze(%u, %a1) : f32[1,1,2,3]
  %s = Squeeze(%u2, %a0) : f32[1,2,3]
  output %t1
  output %t2
  output %s
})";
  const auto r = check_passes(in, {"cancel-transposes"});
  EXPECT_FALSE(r.changed);
  EXPECT_EQ(r.text, graph_to_text(*parse_graph(in, true)));
}

}  // namespace
}  // namespace kiln
