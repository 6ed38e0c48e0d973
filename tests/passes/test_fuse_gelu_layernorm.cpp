// fuse-gelu and fuse-layernorm: the decomposed forms PyTorch exports, text in / text out, and
// numerics against the decomposition (equal up to float rounding: the fused kernels evaluate
// the same formulas in a different order).
#include "tests/passes/numeric_check.h"

namespace kiln {
namespace {

using test::check_passes;

constexpr double kRtol = 1e-5, kAtol = 1e-6;

TEST(FuseGelu, ErfFormAsTorchExportsIt) {
  const auto r = check_passes(R"(graph main (opset 17) {
  input %x: f32[2,8]
  const %sqrt2: f32[] = [1.4142135]
  const %one: f32[] = [1.0]
  const %half: f32[] = [0.5]
  %d = Div(%x, %sqrt2) : f32[2,8]  # gelu_div
  %e = Erf(%d) : f32[2,8]
  %a = Add(%e, %one) : f32[2,8]
  %m = Mul(%x, %a) : f32[2,8]
  %y = Mul(%m, %half) : f32[2,8]
  output %y
})",
                              {"fuse-gelu"}, kRtol, kAtol);
  EXPECT_EQ(r.text, R"(graph main (opset 17) {
  input %x: f32[2,8]
  %y = Gelu(%x) {approximate="none"} : f32[2,8]  # gelu_div
  output %y
}
)");
  EXPECT_EQ(test::report_lines(r.ctx),
            (std::vector<std::string>{"fuse-gelu: 5 nodes fused into 1 Gelu (0 tanh form)"}));
}

// Half applied to x first, 1/sqrt(2) as a Mul, operands swapped; the tanh form with Pow and
// with x * x * x.
TEST(FuseGelu, OtherOrdersAndTheTanhForm) {
  const auto r = check_passes(R"(graph main (opset 17) {
  input %x: f32[3,5]
  const %isqrt2: f32[] = [0.70710677]
  const %one: f32[] = [1.0]
  const %half: f32[] = [0.5]
  const %three: f32[] = [3.0]
  const %kappa: f32[] = [0.044715]
  const %beta: f32[] = [0.7978846]
  %d = Mul(%isqrt2, %x) : f32[3,5]
  %e = Erf(%d) : f32[3,5]
  %a = Add(%one, %e) : f32[3,5]
  %hx = Mul(%half, %x) : f32[3,5]
  %g1 = Mul(%a, %hx) : f32[3,5]
  %p = Pow(%g1, %three) : f32[3,5]
  %k = Mul(%kappa, %p) : f32[3,5]
  %i = Add(%g1, %k) : f32[3,5]
  %s = Mul(%beta, %i) : f32[3,5]
  %t = Tanh(%s) : f32[3,5]
  %a2 = Add(%one, %t) : f32[3,5]
  %hx2 = Mul(%g1, %half) : f32[3,5]
  %g2 = Mul(%hx2, %a2) : f32[3,5]
  %sq = Mul(%g2, %g2) : f32[3,5]
  %cube = Mul(%sq, %g2) : f32[3,5]
  %k3 = Mul(%cube, %kappa) : f32[3,5]
  %i3 = Add(%k3, %g2) : f32[3,5]
  %s3 = Mul(%i3, %beta) : f32[3,5]
  %t3 = Tanh(%s3) : f32[3,5]
  %a3 = Add(%t3, %one) : f32[3,5]
  %h3 = Mul(%a3, %half) : f32[3,5]
  %y = Mul(%h3, %g2) : f32[3,5]
  output %y
})",
                              {"fuse-gelu"}, kRtol, kAtol);
  EXPECT_EQ(test::op_names(*r.graph), (std::vector<std::string>{"Gelu", "Gelu", "Gelu"}));
  EXPECT_EQ(r.graph->nodes()[1]->attrs.get_string("approximate", ""), "tanh");
  EXPECT_EQ(r.graph->nodes()[2]->attrs.get_string("approximate", ""), "tanh");
}

TEST(FuseGelu, SkipsWrongConstantsAndSharedIntermediates) {
  const std::string in = R"(graph main (opset 17) {
  input %x: f32[4]
  const %c: f32[] = [1.5]
  const %sqrt2: f32[] = [1.4142135]
  const %one: f32[] = [1.0]
  const %half: f32[] = [0.5]
  %d = Div(%x, %c) : f32[4]
  %e = Erf(%d) : f32[4]
  %a = Add(%e, %one) : f32[4]
  %m = Mul(%x, %a) : f32[4]
  %y = Mul(%m, %half) : f32[4]
  %d2 = Div(%x, %sqrt2) : f32[4]
  %e2 = Erf(%d2) : f32[4]
  %a2 = Add(%e2, %one) : f32[4]
  %m2 = Mul(%x, %a2) : f32[4]
  %y2 = Mul(%m2, %half) : f32[4]
  output %y
  output %y2
  output %e2
})";
  const auto r = check_passes(in, {"fuse-gelu"});
  EXPECT_FALSE(r.changed);
  EXPECT_EQ(r.text, graph_to_text(*parse_graph(in, true)));
}

TEST(FuseLayerNorm, TorchDecompositionWithAffine) {
  const auto r = check_passes(R"(graph main (opset 17) {
  input %x: f32[2,3,4]
  const %g: f32[4] = [1.0, 2.0, 0.5, -1.0]
  const %b: f32[4] = [0.0, 0.1, 0.2, 0.3]
  const %two: f32[] = [2.0]
  const %eps: f32[] = [1e-05]
  %mu = ReduceMean(%x) {axes=[-1]} : f32[2,3,1]  # ln
  %d = Sub(%x, %mu) : f32[2,3,4]
  %sq = Pow(%d, %two) : f32[2,3,4]
  %var = ReduceMean(%sq) {axes=[-1]} : f32[2,3,1]
  %ve = Add(%var, %eps) : f32[2,3,1]
  %sd = Sqrt(%ve) : f32[2,3,1]
  %n = Div(%d, %sd) : f32[2,3,4]
  %sc = Mul(%n, %g) : f32[2,3,4]
  %y = Add(%sc, %b) : f32[2,3,4]
  output %y
})",
                              {"fuse-layernorm"}, kRtol, kAtol);
  EXPECT_EQ(r.text, R"(graph main (opset 17) {
  input %x: f32[2,3,4]
  const %g: f32[4] = [1.0, 2.0, 0.5, -1.0]
  const %b: f32[4] = [0.0, 0.1, 0.2, 0.3]
  %y = LayerNormalization(%x, %g, %b) {axis=2, epsilon=1e-05} : f32[2,3,4]  # ln
  output %y
}
)");
  EXPECT_EQ(test::report_lines(r.ctx),
            (std::vector<std::string>{"fuse-layernorm: 9 nodes fused into 1 LayerNormalization"}));
}

// Opset 18 (axes as an input), two trailing axes, Mul(d, d), no gamma / beta: ones are made.
TEST(FuseLayerNorm, AxesInputTwoAxesNoAffine) {
  const auto r = check_passes(R"(graph main (opset 18) {
  input %x: f32[2,3,4]
  const %axes: i64[2] = [-2, -1]
  const %eps: f32[] = [0.001]
  %mu = ReduceMean(%x, %axes) : f32[2,1,1]
  %d = Sub(%x, %mu) : f32[2,3,4]
  %sq = Mul(%d, %d) : f32[2,3,4]
  %var = ReduceMean(%sq, %axes) : f32[2,1,1]
  %ve = Add(%eps, %var) : f32[2,1,1]
  %sd = Sqrt(%ve) : f32[2,1,1]
  %y = Div(%d, %sd) : f32[2,3,4]
  output %y
})",
                              {"fuse-layernorm"}, kRtol, kAtol);
  ASSERT_EQ(test::op_names(*r.graph), (std::vector<std::string>{"LayerNormalization"}));
  const Node& ln = *r.graph->nodes()[0];
  EXPECT_EQ(ln.attrs.get_int("axis", 0), 1);
  EXPECT_EQ(ln.input(1)->type.to_string(), "f32[3,4]");
  EXPECT_EQ(ln.inputs().size(), 2u);
}

TEST(FuseLayerNorm, SkipsLeadingAxesAndSharedIntermediates) {
  const std::string in = R"(graph main (opset 17) {
  input %x: f32[2,3,4]
  const %eps: f32[] = [1e-05]
  %mu = ReduceMean(%x) {axes=[1]} : f32[2,1,4]
  %d = Sub(%x, %mu) : f32[2,3,4]
  %sq = Mul(%d, %d) : f32[2,3,4]
  %var = ReduceMean(%sq) {axes=[1]} : f32[2,1,4]
  %ve = Add(%var, %eps) : f32[2,1,4]
  %sd = Sqrt(%ve) : f32[2,1,4]
  %y = Div(%d, %sd) : f32[2,3,4]
  %mu2 = ReduceMean(%x) {axes=[-1]} : f32[2,3,1]
  %d2 = Sub(%x, %mu2) : f32[2,3,4]
  %sq2 = Mul(%d2, %d2) : f32[2,3,4]
  %var2 = ReduceMean(%sq2) {axes=[-1]} : f32[2,3,1]
  %ve2 = Add(%var2, %eps) : f32[2,3,1]
  %sd2 = Sqrt(%ve2) : f32[2,3,1]
  %y2 = Div(%d2, %sd2) : f32[2,3,4]
  %other = Neg(%d2) : f32[2,3,4]
  output %y
  output %y2
  output %other
})";
  const auto r = check_passes(in, {"fuse-layernorm"});
  EXPECT_FALSE(r.changed);
  EXPECT_EQ(r.text, graph_to_text(*parse_graph(in, true)));
}

}  // namespace
}  // namespace kiln
