// quantize-int8 and quantize-int8-dynamic on small graphs: what they rewrite (text out), the
// report, and numeric closeness to the fp32 graph. Tolerance: int8 rounding of the weights
// (per channel, 1/254 of the channel's range) and activations (1/255 of the calibrated range)
// gives errors of about 1% of an output's magnitude; the checks allow 3% of the largest |y|.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>

#include "codegen/ref/interpreter.h"
#include "ir/parser.h"
#include "ir/printer.h"
#include "passes/pass_manager.h"
#include "tests/passes/numeric_check.h"
#include "tests/passes/quantize_test_util.h"

namespace kiln::test {
namespace {

double max_abs(const Tensor& t) {
  double m = 0;
  for (int64_t i = 0; i < t.numel(); ++i) m = std::max(m, std::fabs(t.as_double(i)));
  return m;
}

void expect_within_fraction(const Tensor& got, const Tensor& want, double fraction) {
  ASSERT_EQ(got.dims(), want.dims());
  const double tol = fraction * max_abs(want);
  double worst = 0;
  for (int64_t i = 0; i < got.numel(); ++i)
    worst = std::max(worst, std::fabs(got.as_double(i) - want.as_double(i)));
  EXPECT_LE(worst, tol) << "max |int8 - fp32| " << worst << " > " << tol;
  EXPECT_GT(worst, 0.0) << "int8 should not be bit-identical to fp32";
}

TEST(QuantizeInt8, DynamicMatMulTextOut) {
  const std::string in = R"(graph main (opset 17) {
  input %x: f32[1,2]
  const %w: f32[2,2] = [1.0, -0.5, 0.25, 2.0]
  %y = MatMul(%x, %w) : f32[1,2]
  output %y
})";
  auto g = parse_graph(in, /*infer=*/true);
  PassContext ctx;
  ctx.verify_after_each = true;
  ASSERT_TRUE(run_passes(*g, {"quantize-int8-dynamic"}, ctx));
  const std::string text = graph_to_text(*g);
  // Per column: scale max|w| / 127; 0.25 / (1/127) = 31.75 -> 32, -0.5 / (2/127) -> -32.
  EXPECT_NE(text.find("const %y_w_s8: i8[2,2] = [127, -32, 32, 127]"), std::string::npos)
      << text;
  EXPECT_NE(text.find("const %y_w_scale: f32[2] = [0.007874016, 0.015748031]"),
            std::string::npos)
      << text;
  EXPECT_NE(text.find("%y = KilnQMatMul(%x, %y_w_s8, %y_w_scale) : f32[1,2]"), std::string::npos)
      << text;
  EXPECT_EQ(text.find("x_scale"), std::string::npos) << "dynamic: no static scale\n" << text;
  // 16 bytes of f32 weights -> 4 bytes of s8 plus 2 f32 scales.
  EXPECT_EQ(report_lines(ctx).at(0), "quantize-int8-dynamic: 1 nodes quantized to dynamic int8 "
                                     "(MatMul x1); constants 16 -> 12 bytes");
}

TEST(QuantizeInt8, StaticCnnIsCloseToFp32) {
  Graph fp32;
  build_small_cnn(fp32);
  const auto dir = calib_dir("static_cnn", {8, 10, 10}, 2, 4, -2.0f, 2.0f);
  std::mt19937 rng(3);
  std::map<std::string, Tensor> in;
  in.emplace("x", uniform({2, 8, 10, 10}, rng, -2.0f, 2.0f));
  const auto want = Interpreter(fp32).run(in);
  for (const char* method : {"minmax", "percentile", "entropy"}) {
    Graph g;
    build_small_cnn(g);
    PassContext ctx;
    ctx.verify_after_each = true;
    ctx.calib_data_dir = dir.string();
    ctx.calib_method = method;
    ASSERT_TRUE(run_passes(g, {"quantize-int8", "dce"}, ctx));
    EXPECT_EQ(op_names(g), (std::vector<std::string>{"KilnQConv", "Relu", "MaxPool", "Reshape",
                                                     "KilnQMatMul"}))
        << method;
    const auto lines = report_lines(ctx);
    ASSERT_GE(lines.size(), 2u);
    EXPECT_EQ(lines[0], cat("quantize-int8: calibrated 2 activations on 8 samples (4 runs, ",
                            method, ")"));
    EXPECT_EQ(lines[1].rfind("quantize-int8: 2 nodes quantized to int8 (Conv x1, Gemm x1); "
                             "constants ", 0),
              0u)
        << lines[1];
    // Weights shrink to a quarter (s8) plus one f32 scale per channel.
    EXPECT_LT(g.parameter_bytes() * 3, fp32.parameter_bytes()) << method;
    expect_within_fraction(Interpreter(g).run(in).at("y"), want.at("y"), 0.03);
  }
}

// The calibrated range decides x_scale / x_zero_point: under minmax, scale = (max - min) / 255
// and zero point = round(-min / scale) of the calibration data.
TEST(QuantizeInt8, MinMaxParametersFollowTheData) {
  Graph g;
  build_small_cnn(g);
  const auto dir = calib_dir("minmax_params", {8, 10, 10}, 1, 2, -2.0f, 2.0f);
  PassContext ctx;
  ctx.calib_data_dir = dir.string();
  run_passes(g, {"quantize-int8"}, ctx);
  const Node* conv = nullptr;
  for (const auto& n : g.nodes())
    if (n->op == OpKind::KilnQConv) conv = n.get();
  ASSERT_NE(conv, nullptr);
  const Tensor data = read_npy(dir / "sample_0.npy");
  const float* p = data.data<float>();
  const float lo = *std::min_element(p, p + data.numel());
  const float hi = *std::max_element(p, p + data.numel());
  const float scale = (hi - lo) / 255.0f;
  EXPECT_FLOAT_EQ(conv->attrs.get_float("x_scale", 0), scale);
  EXPECT_EQ(conv->attrs.get_int("x_zero_point", -1), std::lround(-lo / scale));
  EXPECT_GT(scale, 3.9f / 255.0f);  // the data spans nearly [-2, 2]
}

TEST(QuantizeInt8, FusedOpsKeepTheirEpilogue) {
  Graph fp32;
  build_small_cnn(fp32);
  std::mt19937 rng(4);
  std::map<std::string, Tensor> in;
  in.emplace("x", uniform({2, 8, 10, 10}, rng, -1.0f, 1.0f));
  const auto want = Interpreter(fp32).run(in);
  Graph g;
  build_small_cnn(g);
  PassContext ctx;
  ctx.verify_after_each = true;
  ctx.calib_data_dir = calib_dir("fused", {8, 10, 10}, 1, 4).string();
  run_passes(g, {"fuse-conv-epilogue", "fuse-matmul-epilogue", "quantize-int8", "dce"}, ctx);
  EXPECT_EQ(op_names(g),
            (std::vector<std::string>{"KilnQConv", "MaxPool", "Reshape", "KilnQMatMul"}));
  for (const auto& n : g.nodes()) {
    if (n->op == OpKind::KilnQConv) {
      EXPECT_EQ(n->attrs.get_string("activation", ""), "Relu");
    }
  }
  expect_within_fraction(Interpreter(g).run(in).at("y"), want.at("y"), 0.03);
}

TEST(QuantizeInt8, BadCalibrationDataFailsWithOneLine) {
  auto expect_error = [](const std::string& dir, const std::string& want) {
    Graph g;
    build_small_cnn(g);
    PassContext ctx;
    ctx.calib_data_dir = dir;
    try {
      run_passes(g, {"quantize-int8"}, ctx);
      ADD_FAILURE() << "no error for " << dir;
    } catch (const Error& e) {
      const std::string msg = e.what();
      EXPECT_NE(msg.find(want), std::string::npos) << msg;
      EXPECT_EQ(msg.find('\n'), std::string::npos) << msg;
    }
  };
  expect_error("", "quantize-int8 needs calibration data: pass --calib-data DIR");
  const auto empty = quant_temp_dir("empty");
  expect_error(empty.string(), "no .npy files in the folder");
  expect_error((empty / "missing").string(), "not a directory");
  const auto wrong = calib_dir("wrong_shape", {3, 9, 10}, 1, 2);
  expect_error(wrong.string(),
               "'sample_0.npy' is f32 [2x3x9x10] but input 'x' is f32 [2x8x10x10]");
  const auto few = calib_dir("too_few", {8, 10, 10}, 1, 1);
  expect_error(few.string(), "1 samples, fewer than the model's batch of 2");
  const auto dtype = quant_temp_dir("dtype");
  write_npy(dtype / "x.npy", Tensor(DType::I64, {2, 8, 10, 10}));
  expect_error(dtype.string(), "'x.npy' is i64 [2x8x10x10] but input 'x' is f32");
  Graph g;
  build_small_cnn(g);
  PassContext ctx;
  ctx.calib_data_dir = calib_dir("method", {8, 10, 10}, 1, 2).string();
  ctx.calib_method = "median";
  EXPECT_THROW(run_passes(g, {"quantize-int8"}, ctx), Error);
}

}  // namespace
}  // namespace kiln::test
