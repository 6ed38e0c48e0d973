// fuse-gelu, fuse-layernorm and fuse-attention fire whatever the model's opset: the same
// decomposed patterns written at opsets 11 to 21 (ReduceMean takes its axes as an input from
// opset 18, Softmax normalizes over dims[axis:] before 13).
#include "tests/passes/numeric_check.h"

namespace kiln {
namespace {

std::string gelu_text(int opset) {
  return cat("graph main (opset ", opset, R"() {
  input %x: f32[2,8]
  const %sqrt2: f32[1] = [1.4142135]
  const %one: f32[] = [1.0]
  const %half: f32[] = [0.5]
  %d = Div(%x, %sqrt2) : f32[2,8]
  %e = Erf(%d) : f32[2,8]
  %a = Add(%e, %one) : f32[2,8]
  %m = Mul(%x, %a) : f32[2,8]
  %y = Mul(%m, %half) : f32[2,8]
  output %y
})");
}

std::string layernorm_text(int opset) {
  const bool axes_input = opset >= 18;
  const std::string rm = axes_input ? "ReduceMean(%x, %axes)" : "ReduceMean(%x) {axes=[-1]}";
  const std::string rv = axes_input ? "ReduceMean(%sq, %axes)" : "ReduceMean(%sq) {axes=[-1]}";
  return cat("graph main (opset ", opset, R"() {
  input %x: f32[2,3,4]
  const %axes: i64[1] = [-1]
  const %two: f32[] = [2.0]
  const %eps: f32[] = [1e-05]
  const %g: f32[4] = [1.0, 2.0, 0.5, -1.0]
  const %b: f32[4] = [0.0, 0.25, -0.5, 1.0]
  %mu = )", rm, R"( : f32[2,3,1]
  %dx = Sub(%x, %mu) : f32[2,3,4]
  %sq = Pow(%dx, %two) : f32[2,3,4]
  %var = )", rv, R"( : f32[2,3,1]
  %ve = Add(%var, %eps) : f32[2,3,1]
  %sd = Sqrt(%ve) : f32[2,3,1]
  %n = Div(%dx, %sd) : f32[2,3,4]
  %ng = Mul(%n, %g) : f32[2,3,4]
  %y = Add(%ng, %b) : f32[2,3,4]
  output %y
})");
}

std::string attention_text(int opset) {
  return cat("graph main (opset ", opset, R"() {
  input %q: f32[2,3,4]
  input %kt: f32[2,4,3]
  input %v: f32[2,3,4]
  const %c: f32[] = [2.0]
  %s = MatMul(%q, %kt) : f32[2,3,3]
  %d = Div(%s, %c) : f32[2,3,3]
  %p = Softmax(%d) {axis=2} : f32[2,3,3]
  %y = MatMul(%p, %v) : f32[2,3,4]
  output %y
})");
}

TEST(FusionAnyOpset, GeluLayerNormAndAttentionFireAtEveryOpset) {
  for (int opset : {11, 13, 14, 17, 18, 20, 21}) {
    SCOPED_TRACE(cat("opset ", opset));
    const auto g = test::check_passes(gelu_text(opset), {"fuse-gelu"}, 1e-5, 1e-6);
    EXPECT_EQ(test::op_names(*g.graph), std::vector<std::string>{"Gelu"});
    const auto l = test::check_passes(layernorm_text(opset), {"fuse-layernorm"}, 1e-5, 1e-5);
    EXPECT_EQ(test::op_names(*l.graph), std::vector<std::string>{"LayerNormalization"});
    const auto a = test::check_passes(attention_text(opset), {"fuse-attention"}, 1e-6, 1e-7);
    EXPECT_EQ(test::op_names(*a.graph), std::vector<std::string>{"KilnAttention"});
  }
}

}  // namespace
}  // namespace kiln
