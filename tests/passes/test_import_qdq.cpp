// import-qdq on small quantized graphs built in code: the QDQ form (as onnxruntime's
// quantize_static writes it), QLinearConv, MatMulInteger, and inconsistent parameters.
// Against the original graph on the reference kernels: QDQ differs only by the float rounding of
// the original Conv's sum (1e-4 of the output range); QLinearConv's u8 output by at most 1 where
// that rounding crosses a .5; MatMulInteger exactly.
#include <gtest/gtest.h>

#include "codegen/ref/interpreter.h"
#include "passes/pass_manager.h"
#include "tests/passes/numeric_check.h"
#include "tests/passes/quantize_test_util.h"

namespace kiln::test {
namespace {

Tensor s8_tensor(const Dims& d, std::mt19937& rng) {
  Tensor t(DType::I8, d);
  for (int64_t i = 0; i < t.numel(); ++i)
    t.data<int8_t>()[i] = static_cast<int8_t>(static_cast<int>(rng() % 255) - 127);
  return t;
}

Value* node1(Graph& g, OpKind op, std::vector<Value*> in, const std::string& out,
             Attributes attrs = {}) {
  Value* v = g.add_value(out);
  g.add_node(op, std::move(in), {v}, std::move(attrs), out, 21);
  return v;
}

// x -> Q -> DQ -> Conv(DQ(w, per-channel), DQ(int32 bias)) -> Relu -> y. `scale0` replaces the
// first weight scale (to test validation).
void build_qdq_conv(Graph& g, float scale0 = 0.01f) {
  g.opset = 21;
  std::mt19937 rng(31);
  Value* x = g.add_value("x", f32_of({1, 4, 6, 6}));
  g.inputs = {x};
  Value* sx = g.add_constant("sx", Tensor::scalar<float>(0.02f));
  Value* zx = g.add_constant("zx", Tensor::scalar<uint8_t>(120));
  Value* xq = node1(g, OpKind::QuantizeLinear, {x, sx, zx}, "xq");
  Value* xd = node1(g, OpKind::DequantizeLinear, {xq, sx, zx}, "xd");
  Tensor sw = uniform({8}, rng, 0.005f, 0.02f);
  sw.data<float>()[0] = scale0;
  Value* wq = g.add_constant("wq", s8_tensor({8, 4, 3, 3}, rng));
  Value* swv = g.add_constant("sw", sw);
  Attributes axis0;
  axis0.set("axis", Attribute::of_int(0));
  Value* wd = node1(g, OpKind::DequantizeLinear, {wq, swv}, "wd", axis0);
  Tensor bq(DType::I32, {8});
  Tensor sb(DType::F32, {8});
  for (int i = 0; i < 8; ++i) {
    bq.data<int32_t>()[i] = (i - 4) * 300;
    sb.data<float>()[i] = 0.02f * sw.data<float>()[i];
  }
  Value* bd = node1(g, OpKind::DequantizeLinear,
                    {g.add_constant("bq", bq), g.add_constant("sb", sb)}, "bd", axis0);
  Attributes pads;
  pads.set("pads", Attribute::of_ints({1, 1, 1, 1}));
  Value* c = node1(g, OpKind::Conv, {xd, wd, bd}, "conv", pads);
  g.outputs = {node1(g, OpKind::Relu, {c}, "y")};
  infer_shapes(g);
}

TEST(ImportQdq, QdqConvBecomesKilnQConv) {
  Graph original, g;
  build_qdq_conv(original);
  build_qdq_conv(g);
  PassContext ctx;
  ctx.verify_after_each = true;
  ASSERT_TRUE(run_passes(g, {"import-qdq"}, ctx));
  EXPECT_EQ(op_names(g), (std::vector<std::string>{"KilnQConv", "Relu"}));
  EXPECT_EQ(report_lines(ctx).at(0),
            "import-qdq: 1 QDQ patterns, 0 QLinear ops and 0 integer ops imported as int8 ops; "
            "1 Quantize/Dequantize pairs skipped");
  const auto in = random_inputs(original, 5);
  const Tensor want = Interpreter(original).run(in).at("y");
  EXPECT_TRUE(outputs_match(Interpreter(g).run(in).at("y"), want, 1e-4, 1e-4));
}

TEST(ImportQdq, QLinearConvAndMatMulInteger) {
  Graph g;
  g.opset = 21;
  std::mt19937 rng(32);
  Value* x = g.add_value("x", typed(DType::U8, {1, 3, 5, 5}));
  Value* a = g.add_value("a", typed(DType::U8, {3, 7}));
  g.inputs = {x, a};
  Tensor bias(DType::I32, {4});
  for (int i = 0; i < 4; ++i) bias.data<int32_t>()[i] = 1000 * i - 1500;
  Value* y = node1(g, OpKind::QLinearConv,
                   {x, g.add_constant("xs", Tensor::scalar<float>(0.05f)),
                    g.add_constant("xz", Tensor::scalar<uint8_t>(100)),
                    g.add_constant("w", s8_tensor({4, 3, 3, 3}, rng)),
                    g.add_constant("ws", uniform({4}, rng, 0.002f, 0.01f)),
                    g.add_constant("wz", Tensor::scalar<int8_t>(0)),
                    g.add_constant("ys", Tensor::scalar<float>(0.04f)),
                    g.add_constant("yz", Tensor::scalar<uint8_t>(128)), g.add_constant("b", bias)},
                   "y");
  Value* m = node1(g, OpKind::MatMulInteger,
                   {a, g.add_constant("bm", s8_tensor({7, 6}, rng)),
                    g.add_constant("az", Tensor::scalar<uint8_t>(17))},
                   "m");
  g.outputs = {y, m};
  infer_shapes(g);
  std::map<std::string, Tensor> in;
  Tensor xt(DType::U8, {1, 3, 5, 5}), at(DType::U8, {3, 7});
  for (int64_t i = 0; i < xt.numel(); ++i) xt.data<uint8_t>()[i] = static_cast<uint8_t>(rng());
  for (int64_t i = 0; i < at.numel(); ++i) at.data<uint8_t>()[i] = static_cast<uint8_t>(rng());
  in.emplace("x", xt);
  in.emplace("a", at);
  const auto want = Interpreter(g).run(in);
  PassContext ctx;
  ctx.verify_after_each = true;
  ASSERT_TRUE(run_passes(g, {"import-qdq"}, ctx));
  const auto ops = op_names(g);
  EXPECT_EQ(std::count(ops.begin(), ops.end(), "KilnQConv"), 1);
  EXPECT_EQ(std::count(ops.begin(), ops.end(), "KilnQMatMul"), 1);
  const auto got = Interpreter(g).run(in);
  EXPECT_TRUE(outputs_match(got.at("m"), want.at("m"), 0, 0));
  EXPECT_TRUE(outputs_match(got.at("y"), want.at("y"), 0, 1));
}

TEST(ImportQdq, InconsistentParametersFailWithOneLine) {
  Graph g;
  build_qdq_conv(g, /*scale0=*/-0.5f);
  PassContext ctx;
  try {
    run_passes(g, {"import-qdq"}, ctx);
    ADD_FAILURE() << "a negative weight scale was accepted";
  } catch (const Error& e) {
    const std::string msg = e.what();
    EXPECT_NE(msg.find("scale[0] is -0.5; quantization scales must be finite and > 0"),
              std::string::npos)
        << msg;
    EXPECT_EQ(msg.find('\n'), std::string::npos);
  }
  // A zero point whose dtype does not match its quantized tensor.
  Graph h;
  h.opset = 21;
  Value* x = h.add_value("x", f32_of({2, 3}));
  h.inputs = {x};
  Value* sx = h.add_constant("sx", Tensor::scalar<float>(0.1f));
  Value* xq = node1(h, OpKind::QuantizeLinear, {x, sx, h.add_constant("zq", Tensor::scalar<uint8_t>(3))}, "xq");
  Value* xd = node1(h, OpKind::DequantizeLinear, {xq, sx, h.add_constant("zd", Tensor::scalar<uint8_t>(3))}, "xd");
  std::mt19937 rng(1);
  Value* wd = node1(h, OpKind::DequantizeLinear,
                    {h.add_constant("w", s8_tensor({3, 4}, rng)), sx,
                     h.add_constant("wz", Tensor::scalar<int8_t>(0))},
                    "wd");
  h.outputs = {node1(h, OpKind::MatMul, {xd, wd}, "y")};
  infer_shapes(h);
  // Consistent: imports; then break the weight zero point's dtype.
  h.find_value("wz")->constant = Tensor::scalar<uint8_t>(0);
  h.find_value("wz")->type.dtype = DType::U8;
  try {
    run_passes(h, {"import-qdq"}, ctx);
    ADD_FAILURE() << "a u8 zero point for s8 weights was accepted";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("zero point is u8 but the quantized tensor is i8"),
              std::string::npos)
        << e.what();
  }
}

}  // namespace
}  // namespace kiln::test
