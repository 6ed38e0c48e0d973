// The -O2 pipeline on a small ResNet-style block as PyTorch exports it (Conv, BatchNorm, Relu,
// residual Add, then a Flatten + Gemm head): every pass in order, checked against the original.
#include "tests/passes/numeric_check.h"

namespace kiln {
namespace {

TEST(FusionPipelinePass, O2FoldsAndFusesAResidualBlock) {
  std::vector<std::string> o2;
  for (const PipelineEntry& e : pipeline_for_opt_level(2)) o2.push_back(e.pass);
  const auto r = test::check_passes(R"(graph main (opset 17) {
  input %x: f32[batch,4,6,6]
  const %w1: f32[4,4,3,3]
  const %w2: f32[4,4,3,3]
  const %s: f32[4] = [1.0, 0.5, 2.0, 1.5]
  const %b: f32[4] = [0.1, -0.2, 0.3, 0.0]
  const %m: f32[4] = [0.0, 0.25, -0.5, 1.0]
  const %v: f32[4] = [1.0, 2.0, 0.5, 0.25]
  const %fw: f32[3,4]
  const %fb: f32[3] = [0.5, 0.0, -0.5]
  const %axes: i64[2] = [2, 3]
  %c1 = Conv(%x, %w1) {kernel_shape=[3,3], pads=[1,1,1,1]} : f32[batch,4,6,6]
  %n1 = BatchNormalization(%c1, %s, %b, %m, %v) : f32[batch,4,6,6]
  %r1 = Relu(%n1) : f32[batch,4,6,6]
  %c2 = Conv(%r1, %w2) {kernel_shape=[3,3], pads=[1,1,1,1]} : f32[batch,4,6,6]
  %n2 = BatchNormalization(%c2, %s, %b, %m, %v) : f32[batch,4,6,6]
  %i = Identity(%x) : f32[batch,4,6,6]
  %sum = Add(%n2, %i) : f32[batch,4,6,6]
  %r2 = Relu(%sum) : f32[batch,4,6,6]
  %pool = ReduceMean(%r2) {axes=[2,3], keepdims=0} : f32[batch,4]
  %y = Gemm(%pool, %fw, %fb) {transB=1} : f32[batch,3]
  output %y
})",
                                    o2, 1e-5, 1e-5, 3, {{"batch", 3}});
  EXPECT_EQ(test::op_names(*r.graph),
            (std::vector<std::string>{"KilnFusedConv", "KilnFusedConv", "ReduceMean", "KilnFusedMatMul"}));
}

}  // namespace
}  // namespace kiln
