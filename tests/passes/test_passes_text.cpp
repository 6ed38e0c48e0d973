// Text-in / text-out checks of the clean-up passes, in the style of LLVM's opt tests.
#include <gtest/gtest.h>

#include "ir/graph.h"
#include "ir/parser.h"
#include "ir/printer.h"
#include "passes/pass_manager.h"

namespace kiln {
namespace {

std::string run_text(const std::string& in, const std::vector<std::string>& passes) {
  auto g = parse_graph(in, /*infer=*/true);
  PassContext ctx;
  ctx.verify_after_each = true;
  run_passes(*g, passes, ctx);
  return graph_to_text(*g);
}

TEST(PassesText, ConstantFoldThenDce) {
  const std::string in = R"(graph main (opset 17) {
  input %x: f32[2]
  const %a: f32[2] = [1.0, 2.0]
  const %b: f32[2] = [3.0, 4.0]
  %c = Add(%a, %b) : f32[2]
  %dead = Neg(%x) : f32[2]
  %y = Mul(%x, %c) : f32[2]
  output %y
})";
  const std::string want = R"(graph main (opset 17) {
  input %x: f32[2]
  const %c: f32[2] = [4.0, 6.0]
  %y = Mul(%x, %c) : f32[2]
  output %y
}
)";
  EXPECT_EQ(run_text(in, {"constant-fold", "dce"}), want);
}

TEST(PassesText, CseAndIdentity) {
  const std::string in = R"(graph main (opset 17) {
  input %x: f32[3]
  %i = Identity(%x) : f32[3]
  %r1 = Relu(%i) : f32[3]
  %r2 = Relu(%x) : f32[3]
  %y = Add(%r1, %r2) : f32[3]
  output %y
})";
  const std::string want = R"(graph main (opset 17) {
  input %x: f32[3]
  %r1 = Relu(%x) : f32[3]
  %y = Add(%r1, %r1) : f32[3]
  output %y
}
)";
  EXPECT_EQ(run_text(in, {"remove-identity", "cse", "dce"}), want);
}

}  // namespace
}  // namespace kiln
