// fold-batchnorm: text in / text out, and the folded graph against the original on random
// inputs (folding rounds once in double, so float rounding differences are allowed).
#include "tests/passes/numeric_check.h"

namespace kiln {
namespace {

using test::check_passes;

// s = scale / sqrt(var + eps) = [4, 3] / sqrt([3, 0] + 1) = [2, 3];
// W' = W * s = [2, 6]; B' = s * (B - mean) + beta = [2 * 0 + 0, 3 * -1 + 1] = [0, -2].
TEST(FoldBatchNorm, ConvWithBiasTextInTextOut) {
  const auto r = check_passes(R"(graph main (opset 17) {
  input %x: f32[1,1,3,3]
  const %w: f32[2,1,1,1] = [1.0, 2.0]
  const %b: f32[2] = [0.5, -1.0]
  const %scale: f32[2] = [4.0, 3.0]
  const %beta: f32[2] = [0.0, 1.0]
  const %mean: f32[2] = [0.5, 0.0]
  const %var: f32[2] = [3.0, 0.0]
  %c = Conv(%x, %w, %b) {kernel_shape=[1,1]} : f32[1,2,3,3]  # conv1
  %y = BatchNormalization(%c, %scale, %beta, %mean, %var) {epsilon=1.0} : f32[1,2,3,3]  # bn1
  output %y
})",
                              {"fold-batchnorm"}, 1e-6, 1e-6);
  EXPECT_TRUE(r.changed);
  EXPECT_EQ(r.text, R"(graph main (opset 17) {
  input %x: f32[1,1,3,3]
  const %w_bn: f32[2,1,1,1] = [2.0, 6.0]
  const %b_bn_bias: f32[2] = [0.0, -2.0]
  %y = Conv(%x, %w_bn, %b_bn_bias) {kernel_shape=[1,1]} : f32[1,2,3,3]  # conv1
  output %y
}
)");
  EXPECT_EQ(test::report_lines(r.ctx),
            (std::vector<std::string>{"fold-batchnorm: folded 1 BatchNormalization into Conv"}));
  // Four [2] statistics and the old W, B went; the new W, B came: 4 * 8 bytes net.
  EXPECT_EQ(r.ctx.report.at(0).nodes_removed, 1);
  EXPECT_EQ(r.ctx.report.at(0).bytes_saved, 32);
}

TEST(FoldBatchNorm, ConvWithoutBiasGetsOneAndNumericsMatch) {
  const auto r = check_passes(R"(graph main (opset 17) {
  input %x: f32[2,3,5,5]
  const %w: f32[4,3,3,3]
  const %scale: f32[4] = [0.5, 1.5, -2.0, 1.0]
  const %beta: f32[4] = [0.1, 0.2, 0.3, -0.4]
  const %mean: f32[4] = [0.25, -0.5, 1.0, 0.0]
  const %var: f32[4] = [1.0, 2.0, 0.5, 4.0]
  %c = Conv(%x, %w) {kernel_shape=[3,3], pads=[1,1,1,1], strides=[2,2]} : f32[2,4,3,3]
  %y = BatchNormalization(%c, %scale, %beta, %mean, %var) : f32[2,4,3,3]
  %z = Relu(%y) : f32[2,4,3,3]
  output %z
})",
                              {"fold-batchnorm", "dce"}, 1e-5, 1e-5);
  ASSERT_EQ(r.graph->nodes().size(), 2u);
  const Node& conv = *r.graph->nodes()[0];
  EXPECT_EQ(conv.op, OpKind::Conv);
  ASSERT_EQ(conv.inputs().size(), 3u);
  EXPECT_EQ(conv.input(2)->type.to_string(), "f32[4]");
}

// Gemm transB = 1 with C [N], alpha 2, beta 0.5; MatMul of 2-D A by a constant [K, N].
TEST(FoldBatchNorm, GemmAndMatMulBecomeGemmWithFoldedBias) {
  const auto r = check_passes(R"(graph main (opset 17) {
  input %a: f32[3,4]
  const %w: f32[5,4]
  const %c: f32[5] = [1.0, 2.0, 3.0, 4.0, 5.0]
  const %w2: f32[5,2]
  const %s1: f32[5] = [1.0, 2.0, 0.5, -1.0, 3.0]
  const %b1: f32[5] = [0.0, 0.5, 1.0, 1.5, 2.0]
  const %m1: f32[5] = [0.1, 0.2, 0.3, 0.4, 0.5]
  const %v1: f32[5] = [1.0, 0.25, 4.0, 2.0, 0.5]
  const %s2: f32[2] = [2.0, 0.5]
  const %b2: f32[2] = [1.0, -1.0]
  const %m2: f32[2] = [0.5, 0.0]
  const %v2: f32[2] = [1.0, 3.0]
  %g = Gemm(%a, %w, %c) {alpha=2.0, beta=0.5, transB=1} : f32[3,5]
  %y1 = BatchNormalization(%g, %s1, %b1, %m1, %v1) : f32[3,5]
  %m = MatMul(%y1, %w2) : f32[3,2]
  %y2 = BatchNormalization(%m, %s2, %b2, %m2, %v2) : f32[3,2]
  output %y2
})",
                              {"fold-batchnorm", "dce"}, 1e-5, 1e-5);
  EXPECT_EQ(r.text.find("BatchNormalization"), std::string::npos) << r.text;
  EXPECT_EQ(r.text.find("MatMul"), std::string::npos) << r.text;
  ASSERT_EQ(r.graph->nodes().size(), 2u);
  EXPECT_EQ(r.graph->nodes()[0]->attrs.get_float("beta", 0), 1.0f);
  EXPECT_EQ(r.graph->nodes()[0]->attrs.get_int("transB", 0), 1);
  EXPECT_EQ(test::report_lines(r.ctx),
            (std::vector<std::string>{"fold-batchnorm: folded 2 BatchNormalization into Gemm/MatMul"}));
}

TEST(FoldBatchNorm, LeavesBnWhoseInputHasOtherUsesOrIsAnOutputOrIsNotConstantFed) {
  const std::string in = R"(graph main (opset 17) {
  input %x: f32[1,2,3,3]
  input %w_in: f32[2,2,1,1]
  const %w: f32[2,2,1,1]
  const %s: f32[2] = [1.0, 2.0]
  const %b: f32[2] = [0.0, 1.0]
  const %m: f32[2] = [0.5, 0.5]
  const %v: f32[2] = [1.0, 1.0]
  %c1 = Conv(%x, %w) {kernel_shape=[1,1]} : f32[1,2,3,3]
  %y1 = BatchNormalization(%c1, %s, %b, %m, %v) : f32[1,2,3,3]
  %r1 = Relu(%c1) : f32[1,2,3,3]
  %c2 = Conv(%x, %w) {kernel_shape=[1,1], pads=[0,0,0,0]} : f32[1,2,3,3]
  %y2 = BatchNormalization(%c2, %s, %b, %m, %v) : f32[1,2,3,3]
  %c3 = Conv(%x, %w_in) {kernel_shape=[1,1]} : f32[1,2,3,3]
  %y3 = BatchNormalization(%c3, %s, %b, %m, %v) : f32[1,2,3,3]
  %y4 = BatchNormalization(%x, %s, %b, %m, %v) : f32[1,2,3,3]
  output %y1
  output %r1
  output %c2
  output %y2
  output %y3
  output %y4
})";
  const auto r = check_passes(in, {"fold-batchnorm"});
  EXPECT_FALSE(r.changed);
  EXPECT_EQ(r.text, graph_to_text(*parse_graph(in, true)));
}

}  // namespace
}  // namespace kiln
