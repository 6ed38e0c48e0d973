// prune-channel: the model shrinks (shapes, parameter counts), and its outputs equal the
// original model's with the removed channels zeroed (to float rounding): the proof that every
// consumer, BatchNorm, depthwise filter and residual partner was rewired to the right channels.
#include <algorithm>
#include <cmath>

#include "passes/prune_channel.h"
#include "tests/passes/prune_test_util.h"

namespace kiln {
namespace {

using test::parse_random;
using test::run_prune;

// Plans on one parse, removes there, zeroes the same channels in a second parse, and checks
// the outputs agree while differing from the unpruned model's (so the pruning did something).
ChannelPlan check_remove_equals_zero(const std::string& text, double ratio,
                                     const std::string& output = "y") {
  auto removed = parse_random(text);
  auto zeroed = parse_random(text);
  auto original = parse_random(text);
  const ChannelPlan plan = plan_channel_pruning(*removed, ratio, false);
  apply_channel_plan(*removed, plan, ChannelApply::Remove);
  apply_channel_plan(*zeroed, plan, ChannelApply::Zero);
  verify_graph_and_types(*removed);
  EXPECT_LT(removed->num_parameters(), original->num_parameters());
  for (uint32_t seed : {3u, 4u}) {
    const auto inputs = test::random_inputs(*original, seed);
    const Tensor got = Interpreter(*removed).run(inputs).at(output);
    const Tensor want = Interpreter(*zeroed).run(inputs).at(output);
    EXPECT_TRUE(test::outputs_match(got, want, 1e-5, 1e-5)) << "seed " << seed;
    bool finite = true;
    for (int64_t i = 0; i < want.numel(); ++i) finite = finite && std::isfinite(want.as_double(i));
    EXPECT_TRUE(finite);
    EXPECT_FALSE(test::outputs_match(Interpreter(*original).run(inputs).at(output), want, 1e-3, 1e-3));
  }
  return plan;
}

const ChannelGroup& group_of(const ChannelPlan& plan, const std::string& producer) {
  for (const ChannelGroup& g : plan.groups)
    for (const std::string& p : g.producers)
      if (p == producer) return g;
  throw Error("no group for " + producer);
}

TEST(PruneChannel, TextInTextOut) {
  // Channel norms |w| = [1, 3, 0.5, 2]: channels 0 and 2 go; conv2 keeps input channels 1, 3.
  auto g = parse_graph(R"(graph main (opset 17) {
  input %x: f32[1,1,2,2]
  const %w1: f32[4,1,1,1] = [1.0, -3.0, 0.5, 2.0]
  const %b1: f32[4] = [0.1, 0.2, 0.3, 0.4]
  const %w2: f32[2,4,1,1] = [1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0]
  %c1 = Conv(%x, %w1, %b1) {kernel_shape=[1,1]} : f32[1,4,2,2]  # conv1
  %r1 = Relu(%c1) : f32[1,4,2,2]
  %y = Conv(%r1, %w2) {kernel_shape=[1,1]} : f32[1,2,2,2]  # conv2
  output %y
})", true);
  const PassContext ctx = run_prune(*g, "prune-channel", "channel:0.5");
  EXPECT_EQ(graph_to_text(*g), R"(graph main (opset 17) {
  input %x: f32[1,1,2,2]
  const %w1: f32[2,1,1,1] = [-3.0, 2.0]
  const %b1: f32[2] = [0.2, 0.4]
  const %w2: f32[2,2,1,1] = [2.0, 4.0, 6.0, 8.0]
  %c1 = Conv(%x, %w1, %b1) {kernel_shape=[1,1]} : f32[1,2,2,2]  # conv1
  %r1 = Relu(%c1) : f32[1,2,2,2]
  %y = Conv(%r1, %w2) {kernel_shape=[1,1]} : f32[1,2,2,2]  # conv2
  output %y
}
)");
  EXPECT_EQ(test::report_lines(ctx),
            (std::vector<std::string>{
                "prune-channel: removed 2 of 6 output channels (33.3%) in 1 of 2 channel groups; "
                "params 16 -> 8",
                "prune-channel: kept whole: conv2, 2 channels: 'y' is a graph output"}));
  EXPECT_EQ(ctx.report.at(0).bytes_saved, 32);
}

// The MNIST CNN's shape with a BatchNorm: conv, BN, ReLU, max-pool, conv, ReLU, Flatten,
// Gemm, ReLU, Dropout, Gemm, LogSoftmax.
const char* const kCnn = R"(graph main (opset 17) {
  input %x: f32[2,1,8,8]
  const %w1: f32[8,1,3,3]
  const %b1: f32[8]
  const %s: f32[8]
  const %beta: f32[8]
  const %mean: f32[8]
  const %var: f32[8] = [1.0, 2.0, 0.5, 1.5, 1.0, 3.0, 0.25, 1.0]
  const %w2: f32[6,8,3,3]
  const %b2: f32[6]
  const %fw1: f32[24,10]
  const %fb1: f32[10]
  const %fw2: f32[3,10]
  const %fb2: f32[3]
  %c1 = Conv(%x, %w1, %b1) {kernel_shape=[3,3], pads=[1,1,1,1]} : f32[2,8,8,8]  # conv1
  %n1 = BatchNormalization(%c1, %s, %beta, %mean, %var) : f32[2,8,8,8]
  %r1 = Relu(%n1) : f32[2,8,8,8]
  %p1 = MaxPool(%r1) {kernel_shape=[2,2], strides=[2,2]} : f32[2,8,4,4]
  %c2 = Conv(%p1, %w2, %b2) {kernel_shape=[3,3]} : f32[2,6,2,2]  # conv2
  %r2 = Relu(%c2) : f32[2,6,2,2]
  %f = Flatten(%r2) {axis=1} : f32[2,24]
  %h = Gemm(%f, %fw1, %fb1) : f32[2,10]  # fc1
  %hr = Relu(%h) : f32[2,10]
  %hd = Dropout(%hr) : f32[2,10]
  %o = Gemm(%hd, %fw2, %fb2) {transB=1} : f32[2,3]  # fc2
  %y = LogSoftmax(%o) {axis=1} : f32[2,3]
  output %y
})";

TEST(PruneChannel, CnnWithBatchNormAndFlattenShrinksAndMatchesZeroed) {
  const ChannelPlan plan = check_remove_equals_zero(kCnn, 0.5);
  EXPECT_EQ(group_of(plan, "conv1").keep.size(), 4u);
  EXPECT_EQ(group_of(plan, "conv2").keep.size(), 3u);
  EXPECT_EQ(group_of(plan, "fc1").keep.size(), 5u);
  EXPECT_EQ(group_of(plan, "fc2").unprunable, "read by LogSoftmax");

  auto g = parse_random(kCnn);
  const int64_t before = g->num_parameters();
  const PassContext ctx = run_prune(*g, "prune-channel", "channel:0.5");
  EXPECT_EQ(g->find_value("w1")->type.to_string(), "f32[4,1,3,3]");
  EXPECT_EQ(g->find_value("var")->type.to_string(), "f32[4]");
  EXPECT_EQ(g->find_value("w2")->type.to_string(), "f32[3,4,3,3]");
  EXPECT_EQ(g->find_value("fw1")->type.to_string(), "f32[12,5]");  // 3 channels x 2x2 rows
  EXPECT_EQ(g->find_value("fw2")->type.to_string(), "f32[3,5]");
  EXPECT_EQ(g->find_value("f")->type.to_string(), "f32[2,12]");
  // 8*9+8+4*8 + 6*72+6 + 240+10 + 30+3 = 833 before; 4*9+4+16 + 3*36+3 + 60+5 + 15+3 = 250.
  EXPECT_EQ(before, 833);
  EXPECT_EQ(g->num_parameters(), 250);
  EXPECT_EQ(ctx.report.at(0).bytes_saved, (833 - 250) * 4);
}

// The trainer's models have a symbolic batch: Flatten still maps each channel to H*W rows.
TEST(PruneChannel, FlattenWithSymbolicBatch) {
  const char* text = R"(graph main (opset 17) {
  input %x: f32[N,1,4,4]
  const %w: f32[6,1,3,3]
  const %fw: f32[24,3]
  %c = Conv(%x, %w) {kernel_shape=[3,3]} : f32[N,6,2,2]  # conv
  %r = Relu(%c) : f32[N,6,2,2]
  %f = Flatten(%r) {axis=1} : f32[N,24]
  %y = Gemm(%f, %fw) : f32[N,3]
  output %y
})";
  const ChannelPlan plan = check_remove_equals_zero(text, 0.5);
  EXPECT_EQ(group_of(plan, "conv").keep.size(), 3u);
  auto g = parse_random(text);
  run_prune(*g, "prune-channel", "channel:0.5");
  EXPECT_EQ(g->find_value("fw")->type.to_string(), "f32[12,3]");
}

// Two convs joined by a residual Add form one group; the block's first conv is pruned alone.
const char* const kResidual = R"(graph main (opset 17) {
  input %x: f32[1,3,5,5]
  const %ws: f32[8,3,3,3]
  const %wa: f32[6,8,3,3]
  const %ba: f32[6]
  const %wb: f32[8,6,3,3]
  const %sb: f32[8]
  const %tb: f32[8]
  const %mb: f32[8]
  const %vb: f32[8] = [1.0, 1.0, 2.0, 2.0, 0.5, 0.5, 1.0, 1.0]
  const %k: f32[1,8,1,1]
  const %wc: f32[4,8,1,1]
  %s = Conv(%x, %ws) {kernel_shape=[3,3], pads=[1,1,1,1]} : f32[1,8,5,5]  # stem
  %sr = Relu(%s) : f32[1,8,5,5]
  %a = Conv(%sr, %wa, %ba) {kernel_shape=[3,3], pads=[1,1,1,1]} : f32[1,6,5,5]  # a
  %ar = Relu(%a) : f32[1,6,5,5]
  %b = Conv(%ar, %wb) {kernel_shape=[3,3], pads=[1,1,1,1]} : f32[1,8,5,5]  # b
  %bn = BatchNormalization(%b, %sb, %tb, %mb, %vb) : f32[1,8,5,5]
  %sum = Add(%bn, %sr) : f32[1,8,5,5]
  %scaled = Mul(%sum, %k) : f32[1,8,5,5]
  %out = Relu(%scaled) : f32[1,8,5,5]
  %avg = AveragePool(%out) {kernel_shape=[2,2]} : f32[1,8,4,4]
  %y = Conv(%avg, %wc) {kernel_shape=[1,1]} : f32[1,4,4,4]  # head
  output %y
})";

TEST(PruneChannel, ResidualGroupIsPrunedTogether) {
  const ChannelPlan plan = check_remove_equals_zero(kResidual, 0.5);
  const ChannelGroup& joined = group_of(plan, "stem");
  std::vector<std::string> producers = joined.producers;
  std::sort(producers.begin(), producers.end());
  EXPECT_EQ(producers, (std::vector<std::string>{"b", "stem"}));
  EXPECT_EQ(joined.keep.size(), 4u);
  EXPECT_EQ(group_of(plan, "a").keep.size(), 3u);
  auto g = parse_random(kResidual);
  run_prune(*g, "prune-channel", "channel:0.5");
  EXPECT_EQ(g->find_value("wb")->type.to_string(), "f32[4,3,3,3]");
  EXPECT_EQ(g->find_value("k")->type.to_string(), "f32[1,4,1,1]");
  EXPECT_EQ(g->find_value("wc")->type.to_string(), "f32[4,4,1,1]");
}

TEST(PruneChannel, ResidualWithAGraphInputStaysWholeAndSaysWhy) {
  auto g = parse_random(R"(graph main (opset 17) {
  input %x: f32[1,4,3,3]
  const %w: f32[4,4,1,1]
  const %w2: f32[2,4,1,1]
  %c = Conv(%x, %w) {kernel_shape=[1,1]} : f32[1,4,3,3]  # c
  %s = Add(%c, %x) : f32[1,4,3,3]
  %t = Sigmoid(%s) : f32[1,4,3,3]
  %y = Conv(%t, %w2) {kernel_shape=[1,1]} : f32[1,2,3,3]  # d
  output %y
})");
  const PassContext ctx = run_prune(*g, "prune-channel", "channel:0.5");
  EXPECT_EQ(g->find_value("w")->type.to_string(), "f32[4,4,1,1]");
  EXPECT_EQ(test::report_lines(ctx).at(1),
            "prune-channel: kept whole: c, 4 channels: read by Add with 'x', which is not "
            "pruned alike");
}

// MobileNetV2's inverted residual: expand 1x1, BN, ReLU6 (Clip 0..6), depthwise 3x3, BN,
// ReLU6, project 1x1. The depthwise conv follows the expand conv's channels.
const char* const kInverted = R"(graph main (opset 17) {
  input %x: f32[1,4,6,6]
  const %we: f32[8,4,1,1]
  const %s1: f32[8]
  const %t1: f32[8]
  const %m1: f32[8]
  const %v1: f32[8] = [1.0, 2.0, 1.0, 2.0, 1.0, 2.0, 1.0, 2.0]
  const %wd: f32[8,1,3,3]
  const %bd: f32[8]
  const %lo: f32[] = [0.0]
  const %hi: f32[] = [6.0]
  const %wp: f32[5,8,1,1]
  %e = Conv(%x, %we) {kernel_shape=[1,1]} : f32[1,8,6,6]  # expand
  %en = BatchNormalization(%e, %s1, %t1, %m1, %v1) : f32[1,8,6,6]
  %er = Clip(%en, %lo, %hi) : f32[1,8,6,6]
  %d = Conv(%er, %wd, %bd) {kernel_shape=[3,3], pads=[1,1,1,1], strides=[2,2], group=8} : f32[1,8,3,3]  # dw
  %dr = Clip(%d, %lo, %hi) : f32[1,8,3,3]
  %y = Conv(%dr, %wp) {kernel_shape=[1,1]} : f32[1,5,3,3]  # project
  output %y
})";

TEST(PruneChannel, DepthwiseConvFollowsTheExpandChannels) {
  const ChannelPlan plan = check_remove_equals_zero(kInverted, 0.5);
  EXPECT_EQ(group_of(plan, "expand").depthwise, (std::vector<std::string>{"d"}));
  auto g = parse_random(kInverted);
  run_prune(*g, "prune-channel", "channel:0.5");
  EXPECT_EQ(g->find_value("wd")->type.to_string(), "f32[4,1,3,3]");
  EXPECT_EQ(g->find_value("d")->producer()->attrs.get_int("group"), 4);
  EXPECT_EQ(g->find_value("wp")->type.to_string(), "f32[5,4,1,1]");
}

// MatMul + per-channel bias Add + Gelu, then Gemm with transB: the bias is sliced too.
TEST(PruneChannel, MatMulWithBiasAddAndTransposedConsumer) {
  const char* text = R"(graph main (opset 17) {
  input %x: f32[3,6]
  const %w: f32[6,8]
  const %b: f32[8]
  const %w2: f32[2,8]
  %m = MatMul(%x, %w) : f32[3,8]  # mm
  %a = Add(%m, %b) : f32[3,8]
  %g = Gelu(%a) : f32[3,8]
  %y = Gemm(%g, %w2) {transB=1} : f32[3,2]  # out
  output %y
})";
  check_remove_equals_zero(text, 0.25);
  auto g = parse_random(text);
  run_prune(*g, "prune-channel", "channel:0.25");
  EXPECT_EQ(g->find_value("w")->type.to_string(), "f32[6,6]");
  EXPECT_EQ(g->find_value("b")->type.to_string(), "f32[6]");
  EXPECT_EQ(g->find_value("w2")->type.to_string(), "f32[2,6]");
}

}  // namespace
}  // namespace kiln
