// convert-fp16: text in / text out on small graphs (boundary Casts, the op table's Never ops,
// the user block list, fp16 I/O), and numerics against the fp32 graph. Tolerance: fp16 keeps
// 11 significant bits, so each rounding of a value of magnitude m is off by up to m * 2^-11
// (~5e-4 m); the graphs below round inputs, weights and a few intermediates, so outputs are
// compared with rtol 1e-2 and atol 1e-2 for values of order 1..10.
#include "ir/parser.h"
#include "passes/registry.h"
#include "tests/passes/numeric_check.h"

namespace kiln {
namespace {

using test::check_passes;

constexpr double kRtol = 1e-2, kAtol = 1e-2;

TEST(ConvertFp16, ConvReluGemmKeepsFp32IoAndSoftmax) {
  const auto r = check_passes(R"(graph main (opset 17) {
  input %x: f32[1,2,4,4]
  const %w: f32[3,2,1,1] = [0.5, -0.25, 1.0, 0.75, -1.5, 0.125]
  const %b: f32[3] = [0.1, 0.2, -0.3]
  const %shape: i64[2] = [1, 48]
  const %fw: f32[48,2] = [0.01, -0.02, 0.03, -0.04, 0.05, -0.06, 0.07, -0.08, 0.09, -0.1, 0.11, -0.12, 0.13, -0.14, 0.15, -0.16, 0.17, -0.18, 0.19, -0.2, 0.21, -0.22, 0.23, -0.24, 0.25, -0.26, 0.27, -0.28, 0.29, -0.3, 0.31, -0.32, 0.33, -0.34, 0.35, -0.36, 0.37, -0.38, 0.39, -0.4, 0.41, -0.42, 0.43, -0.44, 0.45, -0.46, 0.47, -0.48, 0.49, -0.5, 0.51, -0.52, 0.53, -0.54, 0.55, -0.56, 0.57, -0.58, 0.59, -0.6, 0.61, -0.62, 0.63, -0.64, 0.65, -0.66, 0.67, -0.68, 0.69, -0.7, 0.71, -0.72, 0.73, -0.74, 0.75, -0.76, 0.77, -0.78, 0.79, -0.8, 0.81, -0.82, 0.83, -0.84, 0.85, -0.86, 0.87, -0.88, 0.89, -0.9, 0.91, -0.92, 0.93, -0.94, 0.95, -0.96]
  %c = Conv(%x, %w, %b) : f32[1,3,4,4]
  %r = Relu(%c) : f32[1,3,4,4]
  %f = Reshape(%r, %shape) : f32[1,48]
  %g = MatMul(%f, %fw) : f32[1,2]
  %y = Softmax(%g) {axis=-1} : f32[1,2]
  output %y
})",
                              {"convert-fp16"}, kRtol, kAtol);
  // Conv, Relu, Reshape, MatMul in fp16; one Cast in, one Cast before the fp32 Softmax.
  const std::string& t = r.text;
  EXPECT_NE(t.find("%x_fp16 = Cast(%x) {to=10} : f16[1,2,4,4]"), std::string::npos) << t;
  EXPECT_NE(t.find("%c = Conv(%x_fp16, %w_fp16, %b_fp16) : f16[1,3,4,4]"), std::string::npos) << t;
  EXPECT_NE(t.find("%r = Relu(%c) : f16[1,3,4,4]"), std::string::npos) << t;
  EXPECT_NE(t.find("%f = Reshape(%r, %shape) : f16[1,48]"), std::string::npos) << t;
  EXPECT_NE(t.find("%g_fp32 = Cast(%g) {to=1} : f32[1,2]"), std::string::npos) << t;
  EXPECT_NE(t.find("%y = Softmax(%g_fp32) {axis=-1} : f32[1,2]"), std::string::npos) << t;
  EXPECT_EQ(t.find("const %w: f32"), std::string::npos) << "the fp32 weights stay behind:\n" << t;
  EXPECT_EQ(test::report_lines(r.ctx),
            (std::vector<std::string>{
                "convert-fp16: 4 nodes in fp16, 1 kept fp32 by op policy, 0 by the block list",
                "convert-fp16: 3 constants converted (0 values clamped to +-65504), 2 Casts "
                "inserted"}));
  // The weights shrank: 3 fp32 constants (6 + 3 + 96 floats) became fp16.
  ASSERT_EQ(r.ctx.report.size(), 1u);
  EXPECT_EQ(r.ctx.report[0].bytes_saved, (6 + 3 + 96) * 2);
}

// An fp16 output gets its fp32 type back through a Cast that keeps the output's name, and a
// value read both inside and as an output is cast once.
TEST(ConvertFp16, OutputsStayFp32UnderTheirNames) {
  const auto r = check_passes(R"(graph main (opset 17) {
  input %a: f32[2,3]
  input %b: f32[3,2]
  %m = MatMul(%a, %b) : f32[2,2]
  %y = Relu(%m) : f32[2,2]
  output %m
  output %y
})",
                              {"convert-fp16"}, kRtol, kAtol);
  EXPECT_EQ(r.text, R"(graph main (opset 17) {
  input %a: f32[2,3]
  input %b: f32[3,2]
  %a_fp16 = Cast(%a) {to=10} : f16[2,3]  # a_fp16
  %b_fp16 = Cast(%b) {to=10} : f16[3,2]  # b_fp16
  %m_fp16 = MatMul(%a_fp16, %b_fp16) : f16[2,2]
  %m = Cast(%m_fp16) {to=1} : f32[2,2]  # m_to_fp32
  %y_fp16 = Relu(%m_fp16) : f16[2,2]
  %y = Cast(%y_fp16) {to=1} : f32[2,2]  # y_to_fp32
  output %m
  output %y
}
)");
}

TEST(ConvertFp16, BlockListKeepsNamedOpsFp32) {
  const std::string text = R"(graph main (opset 17) {
  input %a: f32[2,3]
  const %w: f32[3,3] = [1, 2, 3, 4, 5, 6, 7, 8, 9]
  %m = MatMul(%a, %w) : f32[2,3]
  %s = Sigmoid(%m) : f32[2,3]
  %y = MatMul(%s, %w) : f32[2,3]
  output %y
})";
  auto g = parse_graph(text, /*infer=*/true);
  PassContext ctx;
  ctx.verify_after_each = true;
  ctx.fp16_block_ops = {"MatMul"};
  EXPECT_FALSE(run_passes(*g, {"convert-fp16"}, ctx));  // nothing left to convert
  EXPECT_EQ(graph_to_text(*g), graph_to_text(*parse_graph(text, true)));

  // Blocking Sigmoid only: both MatMuls fp16, Sigmoid between them fp32 with Casts around it.
  const auto r = [&] {
    auto g2 = parse_graph(text, true);
    PassContext c2;
    c2.verify_after_each = true;
    c2.fp16_block_ops = {"Sigmoid"};
    run_passes(*g2, {"convert-fp16"}, c2);
    return graph_to_text(*g2);
  }();
  EXPECT_NE(r.find("%s = Sigmoid(%m_fp32) : f32[2,3]"), std::string::npos) << r;
  EXPECT_NE(r.find("%y_fp16 = MatMul(%s_fp16, %w_fp16) : f16[2,3]"), std::string::npos) << r;
  // One fp16 copy of %w serves both MatMuls.
  EXPECT_EQ(r.find("%w_fp16_"), std::string::npos) << r;
}

TEST(ConvertFp16, Fp16IoAndClampedConstants) {
  const std::string text = R"(graph main (opset 17) {
  input %x: f32[4]
  const %mask: f32[4] = [0, -1e9, 0, 1e9]
  %y = Add(%x, %mask) : f32[4]
  output %y
})";
  auto g = parse_graph(text, /*infer=*/true);
  PassContext ctx;
  ctx.verify_after_each = true;
  ctx.fp16_keep_io_fp32 = false;
  ASSERT_TRUE(run_passes(*g, {"convert-fp16"}, ctx));
  EXPECT_EQ(graph_to_text(*g), R"(graph main (opset 17) {
  input %x: f16[4]
  const %mask_fp16: f16[4] = [0.0, -65504.0, 0.0, 65504.0]
  %y = Add(%x, %mask_fp16) : f16[4]
  output %y
}
)");
  EXPECT_EQ(test::report_lines(ctx)[1],
            "convert-fp16: 1 constants converted (2 values clamped to +-65504), 0 Casts inserted");
}

// Sums stay fp32 (ReduceSum's policy is Never): 4096 terms of 1 would stop at 2048 in fp16
// arithmetic; MatMul's fp16 kernels accumulate in fp32, so a long dot product of exactly
// representable values is exact.
TEST(ConvertFp16, LongSumsAccumulateInFp32) {
  auto g = parse_graph(R"(graph main (opset 17) {
  input %x: f32[1,4096]
  input %w: f32[4096,1]
  const %axes: i64[1] = [1]
  %s = ReduceSum(%x, %axes) {keepdims=0} : f32[1]
  %d = MatMul(%x, %w) : f32[1,1]
  output %s
  output %d
})",
                       true);
  PassContext ctx;
  ctx.verify_after_each = true;
  ASSERT_TRUE(run_passes(*g, {"convert-fp16"}, ctx));
  std::map<std::string, Tensor> in;
  in.emplace("x", Tensor::from_vector<float>(std::vector<float>(4096, 1.0f), {1, 4096}));
  in.emplace("w", Tensor::from_vector<float>(std::vector<float>(4096, 1.0f), {4096, 1}));
  const auto out = Interpreter(*g).run(in);
  EXPECT_EQ(out.at("s").data<float>()[0], 4096.0f);
  EXPECT_EQ(out.at("d").data<float>()[0], 4096.0f);
}

TEST(ConvertFp16, IsInTheRegistryAndRunsAlone) {
  EXPECT_NO_THROW(create_pass("convert-fp16"));
}

}  // namespace
}  // namespace kiln
