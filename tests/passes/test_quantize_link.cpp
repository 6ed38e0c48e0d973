// quantize-int8's u8 links (passes/quantize_link.h) on a small graph: which values become u8
// and with which parameters, where the int8 region ends (f32 at graph outputs and before f32
// ops), the "does not pay alone" rule, and numeric closeness to fp32 on the reference backend.
// Also the verifier's one-line errors for inconsistent u8 parameters.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>

#include "codegen/ref/interpreter.h"
#include "ir/infer.h"
#include "passes/pass_manager.h"
#include "tests/passes/numeric_check.h"
#include "tests/passes/quantize_test_util.h"

namespace kiln::test {
namespace {

const Node* producer_named(const Graph& g, const std::string& value) {
  for (const auto& n : g.nodes())
    for (const Value* v : n->outputs())
      if (v && v->name() == value) return n.get();
  return nullptr;
}

void quantize(Graph& g, PassContext& ctx) {
  ctx.verify_after_each = true;
  ctx.calib_data_dir = calib_dir("link", {16, 8, 8}, 1, 4, -1.0f, 1.0f).string();
  ASSERT_TRUE(run_passes(g, {"fuse-conv-epilogue", "quantize-int8", "dce"}, ctx));
}

TEST(QuantizeLink, KeepsActivationsU8BetweenInt8Convs) {
  Graph g;
  build_linked_cnn(g);
  PassContext ctx;
  quantize(g, ctx);
  std::vector<std::string> ops = op_names(g);
  std::sort(ops.begin(), ops.end());
  EXPECT_EQ(ops, (std::vector<std::string>{"Conv", "KilnQConv", "KilnQConv", "KilnQConv",
                                           "KilnQConv", "KilnQConv"}));
  const Node* P = producer_named(g, "p");
  const Node* A = producer_named(g, "a");
  const Node* B = producer_named(g, "s");
  const Node* D = producer_named(g, "D_out");
  ASSERT_TRUE(P && A && B && D);
  ASSERT_EQ(P->op, OpKind::KilnQConv);
  ASSERT_EQ(B->op, OpKind::KilnQConv);
  // D (3x3 depthwise, stride 1, padding 1) does not pay alone but reads the u8 s.
  ASSERT_EQ(D->op, OpKind::KilnQConv);
  // p, a and s are u8, written with the parameters their readers quantize with.
  for (const auto& [producer, reader] : {std::pair{P, A}, std::pair{A, B}, std::pair{B, D}}) {
    const Value* v = producer->output(0);
    EXPECT_EQ(v->type.dtype, DType::U8) << v->name();
    ASSERT_TRUE(v->type.quant.has_value()) << v->name();
    EXPECT_EQ(v->type.quant->scale.at(0), producer->attrs.get_float("y_scale", 0));
    EXPECT_EQ(v->type.quant->zero_point.at(0), producer->attrs.get_int("y_zero_point", -1));
    EXPECT_EQ(reader->attrs.get_float("x_scale", 0), producer->attrs.get_float("y_scale", 1));
    EXPECT_EQ(reader->attrs.get_int("x_zero_point", 0),
              producer->attrs.get_int("y_zero_point", -1));
  }
  // The residual p is read as u8 too; D writes the f32 graph output.
  EXPECT_EQ(B->input(4), P->output(0));
  EXPECT_EQ(B->attrs.get_float("z_scale", 0), P->attrs.get_float("y_scale", 1));
  EXPECT_EQ(D->input(0), B->output(0));
  EXPECT_EQ(D->output(0)->type.dtype, DType::F32);
  EXPECT_FALSE(D->attrs.find("y_scale"));
  // The input x of P is the f32 graph input, quantized inside P.
  EXPECT_EQ(P->input(0)->type.dtype, DType::F32);
  // N (1x1 64->8) would not pay alone but reads the u8 p; it writes the f32 graph output.
  const Node* N = producer_named(g, "N_out");
  EXPECT_EQ(N->op, OpKind::KilnQConv);
  EXPECT_EQ(N->input(0), P->output(0));
  EXPECT_EQ(N->output(0)->type.dtype, DType::F32);
  // M (3x3 stride 2, 16->8) would not pay alone and has f32 in and out: it stays f32.
  EXPECT_EQ(producer_named(g, "M_out")->op, OpKind::Conv);
  const auto lines = report_lines(ctx);
  EXPECT_NE(std::find(lines.begin(), lines.end(),
                      "quantize-int8: 3 activations kept in u8 between int8 convolutions"),
            lines.end());
}

// Which depthwise convs become int8: only 3x3, stride 1 or 2, padding 1, no dilation (the CPU's
// VNNI depthwise kernel), and then only beside u8 (here the u8 output of a conv that pays alone).
TEST(QuantizeLink, Depthwise3x3BecomesInt8BesideU8) {
  struct Dw {
    const char* name;
    int64_t k, stride, pad, dil;
    bool int8;
  };
  const std::vector<Dw> dws{{"s1", 3, 1, 1, 1, true},  {"s2", 3, 2, 1, 1, true},
                            {"k5", 5, 1, 2, 1, false}, {"p0", 3, 1, 0, 1, false},
                            {"d2", 3, 1, 2, 2, false}, {"s3", 3, 3, 1, 1, false}};
  Graph g;
  std::mt19937 rng(5);
  Value* x = g.add_value("x", f32_of({1, 16, 8, 8}));
  g.inputs.push_back(x);
  for (const Dw& d : dws) {
    // P_<name>: a 3x3 16 -> 32 conv (pays alone), ReLU, then the depthwise conv D_<name>.
    Attributes pa;
    pa.set("pads", Attribute::of_ints({1, 1, 1, 1}));
    const std::string n = d.name;
    Value* p = g.add_value("P_" + n);
    Value* pw = g.add_constant("pw_" + n, uniform({32, 16, 3, 3}, rng, -0.1f, 0.1f));
    g.add_node(OpKind::Conv, {x, pw}, {p}, pa, "P_" + n, 17);
    Value* r = g.add_value("R_" + n);
    g.add_node(OpKind::Relu, {p}, {r}, {}, "R_" + n, 17);
    Attributes da;
    da.set("pads", Attribute::of_ints({d.pad, d.pad, d.pad, d.pad}));
    da.set("strides", Attribute::of_ints({d.stride, d.stride}));
    da.set("dilations", Attribute::of_ints({d.dil, d.dil}));
    da.set("group", Attribute::of_int(32));
    Value* y = g.add_value("D_" + n);
    g.add_node(OpKind::Conv,
               {r, g.add_constant("dw_" + n, uniform({32, 1, d.k, d.k}, rng, -0.3f, 0.3f)),
                g.add_constant("db_" + n, uniform({32}, rng, -0.1f, 0.1f))},
               {y}, da, "D_" + n, 17);
    g.outputs.push_back(y);
  }
  infer_shapes(g);
  PassContext ctx;
  ctx.verify_after_each = true;
  ctx.calib_data_dir = calib_dir("link_dw", {16, 8, 8}, 1, 4, -1.0f, 1.0f).string();
  ASSERT_TRUE(run_passes(g, {"fuse-conv-epilogue", "quantize-int8", "dce"}, ctx));
  for (const Dw& d : dws) {
    const Node* D = producer_named(g, std::string("D_") + d.name);
    ASSERT_TRUE(D) << d.name;
    EXPECT_EQ(D->op, d.int8 ? OpKind::KilnQConv : OpKind::Conv) << d.name;
    // The conv before it writes u8 exactly when the depthwise conv reads int8.
    EXPECT_EQ(D->input(0)->type.dtype, d.int8 ? DType::U8 : DType::F32) << d.name;
    EXPECT_EQ(D->output(0)->type.dtype, DType::F32) << d.name;
  }
}

// A conv with few input channels (an RGB stem, reduction 27) never pays alone; it becomes int8
// with a u8 output when its reader is an int8 conv (here a 3x3 depthwise conv then a 1x1), and
// stays f32 when its output also goes elsewhere (a graph output).
TEST(QuantizeLink, FewChannelStemJoinsU8Region) {
  for (const bool stem_is_output : {false, true}) {
    Graph g;
    std::mt19937 rng(9);
    Value* x = g.add_value("x", f32_of({1, 3, 16, 16}));
    g.inputs.push_back(x);
    Attributes sa;
    sa.set("pads", Attribute::of_ints({1, 1, 1, 1}));
    sa.set("strides", Attribute::of_ints({2, 2}));
    Value* stem = g.add_value("stem");
    g.add_node(OpKind::Conv, {x, g.add_constant("sw", uniform({16, 3, 3, 3}, rng, -0.3f, 0.3f))},
               {stem}, sa, "stem", 17);
    Value* r = g.add_value("r");
    g.add_node(OpKind::Relu, {stem}, {r}, {}, "r", 17);
    Attributes da;
    da.set("pads", Attribute::of_ints({1, 1, 1, 1}));
    da.set("group", Attribute::of_int(16));
    Value* d = g.add_value("d");
    g.add_node(OpKind::Conv, {r, g.add_constant("dw", uniform({16, 1, 3, 3}, rng, -0.3f, 0.3f))},
               {d}, da, "d", 17);
    Value* d_r = g.add_value("d_r");
    g.add_node(OpKind::Relu, {d}, {d_r}, {}, "d_r", 17);
    Value* y = g.add_value("y");
    g.add_node(OpKind::Conv, {d_r, g.add_constant("pw", uniform({32, 16, 1, 1}, rng, -0.3f, 0.3f))},
               {y}, {}, "y", 17);
    g.outputs.push_back(y);
    if (stem_is_output) g.outputs.push_back(r);
    infer_shapes(g);
    PassContext ctx;
    ctx.verify_after_each = true;
    ctx.calib_data_dir = calib_dir("link_stem", {3, 16, 16}, 1, 4, -1.0f, 1.0f).string();
    ASSERT_TRUE(run_passes(g, {"fuse-conv-epilogue", "quantize-int8", "dce"}, ctx));
    const Node* S = producer_named(g, "r");  // the stem with its fused ReLU
    ASSERT_TRUE(S);
    if (stem_is_output) {
      EXPECT_NE(S->op, OpKind::KilnQConv);
      EXPECT_EQ(S->output(0)->type.dtype, DType::F32);
    } else {
      EXPECT_EQ(S->op, OpKind::KilnQConv);
      EXPECT_EQ(S->input(0)->type.dtype, DType::F32);  // the graph input, quantized inside
      EXPECT_EQ(S->output(0)->type.dtype, DType::U8);
      const Node* D = S->output(0)->uses().at(0).node;
      EXPECT_EQ(D->op, OpKind::KilnQConv);
      EXPECT_EQ(D->attrs.get_float("x_scale", 0), S->attrs.get_float("y_scale", 1));
    }
  }
}

TEST(QuantizeLink, StaysCloseToFp32) {
  Graph fp32, g;
  build_linked_cnn(fp32);
  build_linked_cnn(g);
  PassContext ctx;
  quantize(g, ctx);
  std::mt19937 rng(8);
  std::map<std::string, Tensor> in;
  in.emplace("x", uniform({1, 16, 8, 8}, rng, -1.0f, 1.0f));
  const auto want = Interpreter(fp32).run(in);
  const auto got = Interpreter(g).run(in);
  const Tensor& y = got.at("D_out");
  const Tensor& w = want.at("D_out");
  double worst = 0, peak = 0;
  for (int64_t i = 0; i < y.numel(); ++i) {
    worst = std::max(worst, std::fabs(y.as_double(i) - w.as_double(i)));
    peak = std::max(peak, std::fabs(w.as_double(i)));
  }
  // Three int8 layers and a u8 residual: a few percent of the output's range.
  EXPECT_LE(worst, 0.05 * peak);
  EXPECT_GT(worst, 0.0);
}

// A u8 input whose type says it was quantized with other parameters than the reader uses.
TEST(QuantizeLink, InconsistentParametersFailVerification) {
  Graph g;
  build_linked_cnn(g);
  PassContext ctx;
  quantize(g, ctx);
  Node* A = const_cast<Node*>(producer_named(g, "a"));
  A->attrs.set("x_scale", Attribute::of_float(A->attrs.get_float("x_scale", 1) * 2));
  try {
    infer_shapes(g);
    ADD_FAILURE() << "no error";
  } catch (const Error& e) {
    const std::string msg = e.what();
    EXPECT_NE(msg.find("inconsistent quantization parameters"), std::string::npos) << msg;
    EXPECT_EQ(msg.find('\n'), std::string::npos) << msg;
  }
  Graph h;
  build_linked_cnn(h);
  PassContext hctx;
  quantize(h, hctx);
  Node* B = const_cast<Node*>(producer_named(h, "s"));
  B->attrs.set("z_zero_point", Attribute::of_int(300));
  EXPECT_THROW(infer_shapes(h), Error);
  B->attrs.set("z_zero_point", Attribute::of_int(3));
  B->attrs.erase("z_scale");
  EXPECT_THROW(infer_shapes(h), Error);
}

}  // namespace
}  // namespace kiln::test
