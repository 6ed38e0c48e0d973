// fold-shape-ops: static dims of partially known shapes become constants; constant-fold then
// folds what they feed.
#include "tests/passes/numeric_check.h"

namespace kiln {
namespace {

using test::check_passes;

// The flatten-by-shape idiom PyTorch exports: Reshape(x, Concat(Gather(Shape(x), 0), -1))
// keeps the dynamic batch; the channel count (a static dim) folds.
TEST(FoldShapeOps, GatherAndSliceOfStaticDims) {
  const auto r = check_passes(R"(graph main (opset 17) {
  input %x: f32[batch,3,4]
  const %i0: i64[] = [0]
  const %i1: i64[] = [1]
  const %st: i64[1] = [2]
  const %en: i64[1] = [3]
  const %ax: i64[1] = [0]
  %s = Shape(%x) : i64[3]
  %n = Gather(%s, %i0) {axis=0} : i64[]
  %c = Gather(%s, %i1) {axis=0} : i64[]
  %hw = Slice(%s, %st, %en) : i64[1]
  %nu = Unsqueeze(%n, %ax) : i64[1]
  %cu = Unsqueeze(%c, %ax) : i64[1]
  %shape = Concat(%nu, %cu, %hw) {axis=0} : i64[3]
  %y = Reshape(%x, %shape) : f32[batch,3,4]
  output %y
  output %hw
})",
                              {"fold-shape-ops", "constant-fold", "dce"}, 0, 0, 3, {{"batch", 2}});
  EXPECT_EQ(r.text, R"(graph main (opset 17) {
  input %x: f32[batch,3,4]
  const %i0: i64[] = [0]
  const %ax: i64[1] = [0]
  const %hw: i64[1] = [4]
  const %cu: i64[1] = [3]
  %s = Shape(%x) : i64[3]
  %n = Gather(%s, %i0) {axis=0} : i64[]
  %nu = Unsqueeze(%n, %ax) : i64[1]
  %shape = Concat(%nu, %cu, %hw) {axis=0} : i64[3]
  %y = Reshape(%x, %shape) : f32[batch,3,4]
  output %y
  output %hw
}
)");
  EXPECT_EQ(test::report_lines(r.ctx).at(0), "fold-shape-ops: folded 2 Gather/Slice of static dims");
}

TEST(FoldShapeOps, ShapeWithStartEndOverStaticDims) {
  const auto r = check_passes(R"(graph main (opset 17) {
  input %x: f32[batch,3,4]
  %s = Shape(%x) {start=-2} : i64[2]
  %t = Shape(%x) {end=2} : i64[2]
  output %s
  output %t
})",
                              {"fold-shape-ops"}, 0, 0, 3, {{"batch", 5}});
  EXPECT_EQ(r.text, R"(graph main (opset 17) {
  input %x: f32[batch,3,4]
  const %s: i64[2] = [3, 4]
  %t = Shape(%x) {end=2} : i64[2]
  output %s
  output %t
}
)");
}

}  // namespace
}  // namespace kiln
