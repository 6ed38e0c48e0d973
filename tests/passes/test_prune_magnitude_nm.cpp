// prune-magnitude and prune-nm: text in / text out, sparsity reached exactly, the N:M pattern,
// and the pruned model's outputs equal to the original model's with the same weights zeroed.
#include <algorithm>
#include <cmath>

#include "passes/prune_weights.h"
#include "tests/passes/prune_test_util.h"

namespace kiln {
namespace {

using test::parse_random;
using test::run_prune;

const char* const kNet = R"(graph main (opset 17) {
  input %x: f32[2,8,6,6]
  const %w1: f32[12,8,3,3]
  const %b1: f32[12]
  const %w2: f32[16,12,1,1]
  const %fw: f32[64,10]
  const %fb: f32[10]
  %c1 = Conv(%x, %w1, %b1) {kernel_shape=[3,3]} : f32[2,12,4,4]
  %r1 = Relu(%c1) : f32[2,12,4,4]
  %c2 = Conv(%r1, %w2) {kernel_shape=[1,1], strides=[2,2]} : f32[2,16,2,2]
  %f = Flatten(%c2) {axis=1} : f32[2,64]
  %y = Gemm(%f, %fw, %fb) : f32[2,10]
  output %y
})";

// The original model with the weights zeroed where `pruned` has zeros gives bit-identical
// outputs (so the pass changed nothing but those weights), and the biases are untouched.
void expect_same_as_zeroed(const Graph& pruned, Graph& original) {
  for (const auto& v : original.values()) {
    if (!v->constant) continue;
    const Tensor& p = *pruned.find_value(v->name())->constant;
    Tensor t = v->constant->clone();
    for (int64_t i = 0; i < t.numel(); ++i)
      if (p.data<float>()[i] == 0.0f) t.data<float>()[i] = 0.0f;
    v->constant = t;
  }
  for (uint32_t seed : {1u, 2u}) {
    const auto inputs = test::random_inputs(original, seed);
    const auto want = Interpreter(original).run(inputs);
    const auto got = Interpreter(pruned).run(inputs);
    EXPECT_TRUE(test::outputs_match(got.at("y"), want.at("y"), 0, 0));
  }
}

TEST(PruneMagnitude, TextInTextOut) {
  auto g = parse_graph(R"(graph main (opset 17) {
  input %x: f32[1,4]
  const %w: f32[4,2] = [0.5, -3.0, 0.25, 2.0, -1.0, 0.125, 4.0, -0.75]
  const %b: f32[2] = [0.001, 0.002]
  %y = Gemm(%x, %w, %b) : f32[1,2]
  output %y
})", true);
  const PassContext ctx = run_prune(*g, "prune-magnitude", "magnitude:0.5");
  EXPECT_EQ(graph_to_text(*g), R"(graph main (opset 17) {
  input %x: f32[1,4]
  const %w: f32[4,2] = [0.0, -3.0, 0.0, 2.0, -1.0, 0.0, 4.0, 0.0]
  const %b: f32[2] = [0.001, 0.002]
  %y = Gemm(%x, %w, %b) : f32[1,2]
  output %y
}
)");
  EXPECT_EQ(test::report_lines(ctx).at(0),
            "prune-magnitude: sparsity 50.0% (4 of 8 weights zero in 1 tensors, per tensor; was 0.0%)");
}

TEST(PruneMagnitude, PerTensorSparsityIsExactAndOutputsMatchZeroedModel) {
  auto g = parse_random(kNet);
  auto original = parse_random(kNet);
  run_prune(*g, "prune-magnitude", "magnitude:0.3");
  for (const char* name : {"w1", "w2", "fw"}) {
    const Tensor& p = *g->find_value(name)->constant;
    const Tensor& o = *original->find_value(name)->constant;
    EXPECT_EQ(count_zeros(p), std::llround(0.3 * static_cast<double>(p.numel()))) << name;
    // The zeroed ones are the smallest: no kept |w| is below a pruned one.
    float max_pruned = 0, min_kept = 1e9f;
    for (int64_t i = 0; i < p.numel(); ++i) {
      const float a = std::fabs(o.data<float>()[i]);
      if (p.data<float>()[i] == 0.0f) max_pruned = std::max(max_pruned, a);
      else min_kept = std::min(min_kept, a);
    }
    EXPECT_LE(max_pruned, min_kept) << name;
  }
  EXPECT_EQ(count_zeros(*g->find_value("b1")->constant), 0);
  expect_same_as_zeroed(*g, *original);
}

TEST(PruneMagnitude, GlobalThresholdReachesTheTotalExactly) {
  auto g = parse_random(kNet);
  auto original = parse_random(kNet);
  const PassContext ctx = run_prune(*g, "prune-magnitude", "magnitude:0.6:global");
  int64_t zeros = 0, total = 0;
  for (const char* name : {"w1", "w2", "fw"}) {
    zeros += count_zeros(*g->find_value(name)->constant);
    total += g->find_value(name)->constant->numel();
  }
  EXPECT_EQ(zeros, std::llround(0.6 * static_cast<double>(total)));
  EXPECT_NE(test::report_lines(ctx).at(0).find("one global threshold"), std::string::npos);
  EXPECT_EQ(ctx.report.at(0).bytes_saved, 0);  // only zeros: nothing shrinks
  expect_same_as_zeroed(*g, *original);
}

TEST(PruneNM, TwoFourPatternAlongTheReductionDim) {
  auto g = parse_random(kNet);
  auto original = parse_random(kNet);
  const PassContext ctx = run_prune(*g, "prune-nm", "2:4");
  for (const PrunableWeight& w : prunable_weights(*g)) {
    const Tensor& t = *w.value->constant;
    EXPECT_TRUE(satisfies_nm(t, w, 2, 4)) << w.value->name();
    // Random weights have no zeros of their own: exactly half of each group goes.
    EXPECT_EQ(count_zeros(t) * 2, t.numel()) << w.value->name();
  }
  // w1 [12, 8, 3, 3]: groups of 4 input channels at one kernel position (stride 9).
  const PrunableWeight w1 = prunable_weights(*g).at(0);
  EXPECT_EQ(w1.len, 8);
  EXPECT_EQ(w1.inner, 9);
  const float* p = g->find_value("w1")->constant->data<float>();
  const float* o = original->find_value("w1")->constant->data<float>();
  for (int c = 0; c < 4; ++c) {
    // The two kept of the first group are its two largest |w|.
    int larger = 0;
    for (int d = 0; d < 4; ++d) larger += std::fabs(o[d * 9]) > std::fabs(o[c * 9]);
    EXPECT_EQ(p[c * 9] != 0.0f, larger < 2) << c;
  }
  EXPECT_EQ(test::report_lines(ctx).at(0),
            "prune-nm: 2:4 pattern in 3 weight tensors; sparsity 50.0% (848 of 1696 weights zero)");
  expect_same_as_zeroed(*g, *original);
}

TEST(PruneNM, LeavesIndivisibleReductionsDenseAndSaysSo) {
  auto g = parse_random(R"(graph main (opset 17) {
  input %x: f32[1,3,4,4]
  const %w: f32[8,3,3,3]
  const %m: f32[5,6]
  const %g: f32[5,8]
  %c = Conv(%x, %w) {kernel_shape=[3,3]} : f32[1,8,2,2]
  %p = GlobalAveragePool(%c) : f32[1,8,1,1]
  %f = Flatten(%p) : f32[1,8]
  %h = Gemm(%f, %g) {transB=1} : f32[1,5]
  %y = MatMul(%h, %m) : f32[1,6]
  output %y
})");
  const PassContext ctx = run_prune(*g, "prune-nm", "2:4");
  EXPECT_EQ(count_zeros(*g->find_value("w")->constant), 0);  // 3 input channels
  EXPECT_EQ(count_zeros(*g->find_value("g")->constant), 20);  // transB: K = 8 along rows
  EXPECT_EQ(count_zeros(*g->find_value("m")->constant), 0);   // K = 5
  EXPECT_EQ(test::report_lines(ctx).at(1),
            "prune-nm: left dense (reduction length not a multiple of 4): w (3), m (5)");
}

TEST(PruneNM, PassRejectsAChannelSpec) {
  auto g = parse_random(kNet);
  PassContext ctx;
  ctx.prune_spec = "channel:0.5";
  EXPECT_THROW(run_passes(*g, {"prune-nm"}, ctx), Error);
}

}  // namespace
}  // namespace kiln
