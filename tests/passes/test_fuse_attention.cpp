// fuse-attention: the attention core as PyTorch exports it (text in / text out), numerics
// against the unfused graph through the reference interpreter (the fused reference kernel
// rounds where the unfused graph stores, so they agree to float rounding), and the patterns
// it must leave alone.
#include "tests/passes/numeric_check.h"

namespace kiln {
namespace {

using test::check_passes;

constexpr double kRtol = 1e-6, kAtol = 1e-7;

TEST(FuseAttention, DivMaskSoftmaxAsTorchExportsIt) {
  const auto r = check_passes(R"(graph main (opset 17) {
  input %q: f32[2,3,5,4]
  input %kt: f32[2,3,4,5]
  input %v: f32[2,3,5,4]
  input %mask: f32[2,1,1,5]
  const %c: f32[] = [2.0]
  %s = MatMul(%q, %kt) : f32[2,3,5,5]  # qk
  %d = Div(%s, %c) : f32[2,3,5,5]
  %a = Add(%d, %mask) : f32[2,3,5,5]
  %p = Softmax(%a) {axis=-1} : f32[2,3,5,5]
  %y = MatMul(%p, %v) : f32[2,3,5,4]
  output %y
})",
                              {"fuse-attention"}, kRtol, kAtol);
  EXPECT_EQ(r.text, R"(graph main (opset 17) {
  input %q: f32[2,3,5,4]
  input %kt: f32[2,3,4,5]
  input %v: f32[2,3,5,4]
  input %mask: f32[2,1,1,5]
  %y = KilnAttention(%q, %kt, %v, %mask) {divide=1, scale=2.0} : f32[2,3,5,4]  # qk
  output %y
}
)");
  EXPECT_EQ(test::report_lines(r.ctx),
            (std::vector<std::string>{"fuse-attention: 5 nodes fused into 1 KilnAttention (1 with a mask)"}));
}

// Mul by the scale first, mask first in the Add, opset 11 Softmax; and no scale, no mask.
TEST(FuseAttention, OtherForms) {
  const auto r = check_passes(R"(graph main (opset 11) {
  input %q: f32[4,6,8]
  input %kt: f32[4,8,6]
  input %v: f32[4,6,3]
  input %mask: f32[6,6]
  const %c: f32[1] = [0.35355338]
  %s = MatMul(%q, %kt) : f32[4,6,6]
  %d = Mul(%c, %s) : f32[4,6,6]
  %a = Add(%mask, %d) : f32[4,6,6]
  %p = Softmax(%a) {axis=2} : f32[4,6,6]
  %y = MatMul(%p, %v) : f32[4,6,3]
  %s2 = MatMul(%q, %kt) : f32[4,6,6]
  %p2 = Softmax(%s2) {axis=2} : f32[4,6,6]
  %y2 = MatMul(%p2, %v) : f32[4,6,3]
  output %y
  output %y2
})",
                              {"fuse-attention"}, kRtol, kAtol);
  EXPECT_EQ(test::op_names(*r.graph), (std::vector<std::string>{"KilnAttention", "KilnAttention"}));
  EXPECT_NE(r.text.find("KilnAttention(%q, %kt, %v, %mask) {divide=0, scale=0.35355338}"),
            std::string::npos)
      << r.text;
}

TEST(FuseAttention, LeavesOtherPatternsAlone) {
  // The probabilities are an output; the softmax is over another axis; the mask grows the
  // scores; the first MatMul broadcasts its batch.
  for (const char* text : {R"(graph main (opset 17) {
  input %q: f32[2,5,4]
  input %kt: f32[2,4,5]
  input %v: f32[2,5,4]
  %s = MatMul(%q, %kt) : f32[2,5,5]
  %p = Softmax(%s) {axis=-1} : f32[2,5,5]
  %y = MatMul(%p, %v) : f32[2,5,4]
  output %y
  output %p
})",
                           R"(graph main (opset 17) {
  input %q: f32[2,5,4]
  input %kt: f32[2,4,5]
  input %v: f32[2,5,4]
  %s = MatMul(%q, %kt) : f32[2,5,5]
  %p = Softmax(%s) {axis=1} : f32[2,5,5]
  %y = MatMul(%p, %v) : f32[2,5,4]
  output %y
})",
                           R"(graph main (opset 17) {
  input %q: f32[5,4]
  input %kt: f32[4,5]
  input %v: f32[5,4]
  input %mask: f32[3,5,5]
  %s = MatMul(%q, %kt) : f32[5,5]
  %a = Add(%s, %mask) : f32[3,5,5]
  %p = Softmax(%a) {axis=-1} : f32[3,5,5]
  %y = MatMul(%p, %v) : f32[3,5,4]
  output %y
})",
                           R"(graph main (opset 17) {
  input %q: f32[2,5,4]
  input %kt: f32[4,5]
  input %v: f32[2,5,4]
  %s = MatMul(%q, %kt) : f32[2,5,5]
  %p = Softmax(%s) {axis=-1} : f32[2,5,5]
  %y = MatMul(%p, %v) : f32[2,5,4]
  output %y
})"}) {
    const auto r = check_passes(text, {"fuse-attention"});
    EXPECT_FALSE(r.changed) << r.text;
  }
}

}  // namespace
}  // namespace kiln
