// fuse-matmul-epilogue: text in / text out, exact numerics against the unfused graph, Gemm's
// alpha / beta / C mapping, and the cases it must skip.
#include "tests/passes/numeric_check.h"

namespace kiln {
namespace {

using test::check_passes;

TEST(FuseMatMulEpilogue, MatMulBiasResidualGeluBecomeOneNode) {
  const auto r = check_passes(R"(graph main (opset 20) {
  input %a: f32[2,3,4]
  input %res: f32[2,3,5]
  const %w: f32[4,5]
  const %bias: f32[5] = [0.5, -0.5, 1.0, 0.0, 2.0]
  %m = MatMul(%a, %w) : f32[2,3,5]  # fc
  %mb = Add(%bias, %m) : f32[2,3,5]
  %s = Add(%mb, %res) : f32[2,3,5]
  %y = Gelu(%s) : f32[2,3,5]
  output %y
})",
                              {"fuse-matmul-epilogue"});
  EXPECT_EQ(r.text, R"(graph main (opset 20) {
  input %a: f32[2,3,4]
  input %res: f32[2,3,5]
  const %w: f32[4,5]
  const %bias: f32[5] = [0.5, -0.5, 1.0, 0.0, 2.0]
  %y = KilnFusedMatMul(%a, %w, %bias, %res) {activation="Gelu"} : f32[2,3,5]  # fc
  output %y
}
)");
  EXPECT_EQ(test::report_lines(r.ctx),
            (std::vector<std::string>{
                "fuse-matmul-epilogue: 4 nodes fused into 1 KilnFusedMatMul (0 from Gemm)"}));
}

// Gemm transB, alpha and beta * C with C [1, N]: C is scaled into a [N] bias.
TEST(FuseMatMulEpilogue, GemmMapsAlphaBetaAndTransB) {
  const auto r = check_passes(R"(graph main (opset 17) {
  input %a: f32[3,4]
  const %w: f32[2,4]
  const %c: f32[1,2] = [1.5, -3.0]
  %g = Gemm(%a, %w, %c) {alpha=0.5, beta=2.0, transB=1} : f32[3,2]
  %y = LeakyRelu(%g) {alpha=0.1} : f32[3,2]
  output %y
})",
                              {"fuse-matmul-epilogue", "dce"});
  EXPECT_EQ(r.text, R"(graph main (opset 17) {
  input %a: f32[3,4]
  const %w: f32[2,4] = [-0.75, -0.625, -0.5, -0.375, -0.25, -0.125, 0.0, 0.125]
  const %c_bias: f32[2] = [3.0, -6.0]
  %y = KilnFusedMatMul(%a, %w, %c_bias) {activation="LeakyRelu", activation_alpha=0.1, alpha=0.5, trans_b=1} : f32[3,2]
  output %y
}
)");
}

// C of shape [M, N] (and a non-constant one) becomes the residual Z; a scalar C a bias.
TEST(FuseMatMulEpilogue, GemmFullCIsResidualScalarCIsBias) {
  const auto r = check_passes(R"(graph main (opset 17) {
  input %a: f32[3,4]
  input %cm: f32[3,2]
  const %w: f32[4,2]
  const %cs: f32[] = [0.75]
  const %cc: f32[3,2] = [1.0, 2.0, 3.0, 4.0, 5.0, 6.0]
  %g1 = Gemm(%a, %w, %cm) : f32[3,2]
  %g2 = Gemm(%a, %w, %cs) {beta=-1.0} : f32[3,2]
  %g3 = Gemm(%a, %w, %cc) {beta=0.5} : f32[3,2]
  %s = Sum(%g1, %g2, %g3) : f32[3,2]
  output %s
})",
                              {"fuse-matmul-epilogue", "dce"});
  ASSERT_EQ(test::op_names(*r.graph),
            (std::vector<std::string>{"KilnFusedMatMul", "KilnFusedMatMul", "KilnFusedMatMul", "Sum"}));
  const Value* g1_z = r.graph->find_value("g1")->producer()->input(3);
  ASSERT_NE(g1_z, nullptr);
  EXPECT_EQ(g1_z->name(), "cm");
  const Value* g2_bias = r.graph->find_value("g2")->producer()->input(2);
  ASSERT_NE(g2_bias, nullptr);
  EXPECT_EQ(g2_bias->type.to_string(), "f32[2]");
  EXPECT_EQ(g2_bias->constant->as_double(1), -0.75);
  const Value* g3_z = r.graph->find_value("g3")->producer()->input(3);
  ASSERT_NE(g3_z, nullptr);
  EXPECT_EQ(g3_z->constant->as_double(5), 3.0);
}

TEST(FuseMatMulEpilogue, MlpOfGemmsAndRelus) {
  const auto r = check_passes(R"(graph main (opset 17) {
  input %x: f32[batch,8]
  const %w1: f32[6,8]
  const %b1: f32[6]
  const %w2: f32[4,6]
  const %b2: f32[4]
  %h = Gemm(%x, %w1, %b1) {transB=1} : f32[batch,6]
  %hr = Relu(%h) : f32[batch,6]
  %o = Gemm(%hr, %w2, %b2) {transB=1} : f32[batch,4]
  %y = LogSoftmax(%o) {axis=1} : f32[batch,4]
  output %y
})",
                              {"fuse-matmul-epilogue"}, 0, 0, 3, {{"batch", 5}});
  EXPECT_EQ(test::op_names(*r.graph),
            (std::vector<std::string>{"KilnFusedMatMul", "KilnFusedMatMul", "LogSoftmax"}));
  EXPECT_EQ(test::report_lines(r.ctx),
            (std::vector<std::string>{
                "fuse-matmul-epilogue: 3 nodes fused into 2 KilnFusedMatMul (2 from Gemm)"}));
}

TEST(FuseMatMulEpilogue, SkipsTransAOtherUsesOutputsAndGrowingAdds) {
  const std::string in = R"(graph main (opset 17) {
  input %a: f32[4,3]
  input %b: f32[3,4]
  input %big: f32[2,3,5]
  const %w: f32[4,5]
  const %bias: f32[5] = [1.0, 2.0, 3.0, 4.0, 5.0]
  %g = Gemm(%a, %w) {transA=1} : f32[3,5]
  %r = Relu(%g) : f32[3,5]
  %m1 = MatMul(%b, %w) : f32[3,5]
  %a1 = Add(%m1, %bias) : f32[3,5]
  %n1 = Neg(%m1) : f32[3,5]
  %m2 = MatMul(%b, %w) : f32[3,5]
  %r2 = Relu(%m2) : f32[3,5]
  %m3 = MatMul(%b, %w) : f32[3,5]
  %a3 = Add(%m3, %big) : f32[2,3,5]
  output %r
  output %a1
  output %n1
  output %m2
  output %r2
  output %a3
})";
  const auto r = check_passes(in, {"fuse-matmul-epilogue"});
  EXPECT_FALSE(r.changed);
  EXPECT_EQ(r.text, graph_to_text(*parse_graph(in, true)));
}

}  // namespace
}  // namespace kiln
