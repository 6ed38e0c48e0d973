// fuse-conv-epilogue: text in / text out, exact numerics against the unfused graph (the fused
// reference kernel runs the same Conv / Add / activation kernels), and the cases it must skip.
#include "tests/passes/numeric_check.h"

namespace kiln {
namespace {

using test::check_passes;

TEST(FuseConvEpilogue, BiasResidualReluBecomeOneNode) {
  const auto r = check_passes(R"(graph main (opset 17) {
  input %x: f32[1,3,4,4]
  input %res: f32[1,2,4,4]
  const %w: f32[2,3,3,3]
  const %bias: f32[1,2,1,1] = [0.5, -0.25]
  %c = Conv(%x, %w) {kernel_shape=[3,3], pads=[1,1,1,1]} : f32[1,2,4,4]  # conv1
  %cb = Add(%c, %bias) : f32[1,2,4,4]
  %s = Add(%res, %cb) : f32[1,2,4,4]
  %y = Relu(%s) : f32[1,2,4,4]
  output %y
})",
                              {"fuse-conv-epilogue"});
  EXPECT_EQ(r.text, R"(graph main (opset 17) {
  input %x: f32[1,3,4,4]
  input %res: f32[1,2,4,4]
  const %w: f32[2,3,3,3]
  const %bias_bias: f32[2] = [0.5, -0.25]
  %y = KilnFusedConv(%x, %w, %bias_bias, %res) {activation="Relu", kernel_shape=[3,3], pads=[1,1,1,1]} : f32[1,2,4,4]  # conv1
  output %y
}
)");
  EXPECT_EQ(test::report_lines(r.ctx),
            (std::vector<std::string>{"fuse-conv-epilogue: 4 nodes fused into 1 KilnFusedConv"}));
  EXPECT_EQ(r.ctx.report.at(0).nodes_removed, 3);
}

// Relu6 as exported by PyTorch (Clip with constant min/max inputs), on a Conv with its own bias.
TEST(FuseConvEpilogue, ClipBoundsBecomeActivationParameters) {
  const auto r = check_passes(R"(graph main (opset 13) {
  input %x: f32[2,4,5,5]
  const %w: f32[4,1,3,3]
  const %b: f32[4] = [0.0, 1.0, 2.0, 3.0]
  const %lo: f32[] = [0.0]
  const %hi: f32[] = [6.0]
  %c = Conv(%x, %w, %b) {group=4, kernel_shape=[3,3], strides=[2,2]} : f32[2,4,2,2]
  %y = Clip(%c, %lo, %hi) : f32[2,4,2,2]
  output %y
})",
                              {"fuse-conv-epilogue", "dce"});
  EXPECT_EQ(r.text, R"(graph main (opset 13) {
  input %x: f32[2,4,5,5]
  const %w: f32[4,1,3,3]
  const %b: f32[4] = [0.0, 1.0, 2.0, 3.0]
  %y = KilnFusedConv(%x, %w, %b) {activation="Clip", activation_alpha=0.0, activation_beta=6.0, group=4, kernel_shape=[3,3], strides=[2,2]} : f32[2,4,2,2]
  output %y
}
)");
}

// Every supported activation, each exact against its unfused form.
TEST(FuseConvEpilogue, EveryActivationMatchesTheUnfusedGraph) {
  const std::vector<std::string> acts = {
      "Relu(%c)",          "LeakyRelu(%c) {alpha=0.2}",         "Sigmoid(%c)", "Tanh(%c)",
      "HardSigmoid(%c)",   "HardSigmoid(%c) {alpha=0.3, beta=0.4}", "HardSwish(%c)",
      "Gelu(%c)",          "Clip(%c) {min=-1.0, max=1.5}"};
  for (const std::string& act : acts) {
    const int opset = act.rfind("Clip", 0) == 0 ? 10 : 20;
    const auto r = check_passes(
        "graph main (opset " + std::to_string(opset) + R"() {
  input %x: f32[1,2,6,6]
  const %w: f32[3,2,3,3]
  const %b: f32[3] = [0.5, -0.5, 0.0]
  %c = Conv(%x, %w, %b) {kernel_shape=[3,3]} : f32[1,3,4,4]
  %y = )" + act + R"( : f32[1,3,4,4]
  output %y
})",
        {"fuse-conv-epilogue"});
    ASSERT_EQ(r.graph->nodes().size(), 1u) << act;
    EXPECT_EQ(r.graph->nodes()[0]->op, OpKind::KilnFusedConv) << act;
  }
}

TEST(FuseConvEpilogue, StopsAtIntermediatesWithOtherUsesOrThatAreOutputs) {
  const std::string in = R"(graph main (opset 17) {
  input %x: f32[1,2,4,4]
  const %w: f32[2,2,1,1]
  const %b: f32[2] = [1.0, 2.0]
  const %row: f32[4] = [1.0, 2.0, 3.0, 4.0]
  const %chan: f32[1,2,1,1] = [1.0, 2.0]
  %c1 = Conv(%x, %w) {kernel_shape=[1,1]} : f32[1,2,4,4]
  %r1 = Relu(%c1) : f32[1,2,4,4]
  %n1 = Neg(%c1) : f32[1,2,4,4]
  %c2 = Conv(%x, %w) {kernel_shape=[1,1], strides=[1,1]} : f32[1,2,4,4]
  %r2 = Relu(%c2) : f32[1,2,4,4]
  %c3 = Conv(%x, %w) {kernel_shape=[1,1], dilations=[1,1]} : f32[1,2,4,4]
  %a3 = Add(%c3, %row) : f32[1,2,4,4]
  %c4 = Conv(%x, %w, %b) {kernel_shape=[1,1], group=1} : f32[1,2,4,4]
  %a4 = Add(%c4, %chan) : f32[1,2,4,4]
  output %r1
  output %n1
  output %c2
  output %r2
  output %a3
  output %a4
})";
  const auto r = check_passes(in, {"fuse-conv-epilogue"});
  EXPECT_FALSE(r.changed);
  EXPECT_EQ(r.text, graph_to_text(*parse_graph(in, true)));
}

// A residual that is itself a fused conv's output (ResNet's shortcut) and a graph output name
// at the end of the chain both survive.
TEST(FuseConvEpilogue, ResidualBlockKeepsOutputNames) {
  const auto r = check_passes(R"(graph main (opset 17) {
  input %x: f32[2,4,6,6]
  const %w1: f32[4,4,3,3]
  const %b1: f32[4] = [0.1, 0.2, 0.3, 0.4]
  const %w2: f32[4,4,3,3]
  const %b2: f32[4] = [-0.1, 0.0, 0.1, 0.2]
  %c1 = Conv(%x, %w1, %b1) {kernel_shape=[3,3], pads=[1,1,1,1]} : f32[2,4,6,6]
  %r1 = Relu(%c1) : f32[2,4,6,6]
  %c2 = Conv(%r1, %w2, %b2) {kernel_shape=[3,3], pads=[1,1,1,1]} : f32[2,4,6,6]
  %s = Add(%c2, %x) : f32[2,4,6,6]
  %out = Relu(%s) : f32[2,4,6,6]
  output %out
})",
                              {"fuse-conv-epilogue"});
  EXPECT_EQ(test::op_names(*r.graph), (std::vector<std::string>{"KilnFusedConv", "KilnFusedConv"}));
  EXPECT_EQ(r.graph->nodes()[1]->input(3)->name(), "x");
  EXPECT_EQ(r.graph->nodes()[1]->output(0)->name(), "out");
}

}  // namespace
}  // namespace kiln
