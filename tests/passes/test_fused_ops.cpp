// The fused ops the fusion passes emit: hand-checked reference results, inference errors, and
// the ONNX round trip (exported in the "ai.kiln" domain, loaded back, refused as default-domain
// ONNX).
#include <gtest/gtest.h>

#include <onnx/onnx_pb.h>

#include "codegen/ref/interpreter.h"
#include "frontend/onnx_exporter.h"
#include "frontend/onnx_loader.h"
#include "ir/parser.h"
#include "ir/printer.h"
#include "tests/test_util.h"

namespace kiln {
namespace {

using test::make;
using test::run_op1;

std::string error_of(const std::function<void()>& f) {
  try {
    f();
  } catch (const Error& e) {
    return e.what();
  }
  return "";
}

// conv = 2x + 1 = [3, 5, 7, 9]; + Z = [-7, 5, 7, 19]; Clip(0, 6) = [0, 5, 6, 6].
TEST(FusedOps, ConvBiasResidualClip) {
  const Tensor x = make<float>({1, 1, 2, 2}, {1, 2, 3, 4});
  const Tensor w = make<float>({1, 1, 1, 1}, {2});
  const Tensor b = make<float>({1}, {1});
  const Tensor z = make<float>({1, 1, 2, 2}, {-10, 0, 0, 10});
  Attributes a;
  a.set("kernel_shape", Attribute::of_ints({1, 1}));
  a.set("activation", Attribute::of_string("Clip"));
  a.set("activation_alpha", Attribute::of_float(0));
  a.set("activation_beta", Attribute::of_float(6));
  test::expect_close(run_op1(OpKind::KilnFusedConv, {&x, &w, &b, &z}, a),
                     make<float>({1, 1, 2, 2}, {0, 5, 6, 6}), 0, 0);
  a.set("activation", Attribute::of_string(""));
  test::expect_close(run_op1(OpKind::KilnFusedConv, {&x, &w, nullptr, &z}, a),
                     make<float>({1, 1, 2, 2}, {-8, 4, 6, 18}), 0, 0);
}

// A @ B^T = [1, 2, 3]; * 2 = [2, 4, 6]; + bias = [3, 5, -4]; + Z = [3.5, 5.5, -3.5];
// LeakyRelu(0.5) = [3.5, 5.5, -1.75].
TEST(FusedOps, MatMulTransBAlphaBiasResidualLeakyRelu) {
  const Tensor a = make<float>({1, 2}, {1, 2});
  const Tensor b = make<float>({3, 2}, {1, 0, 0, 1, 1, 1});
  const Tensor bias = make<float>({3}, {1, 1, -10});
  const Tensor z = make<float>({1}, {0.5});
  Attributes at;
  at.set("trans_b", Attribute::of_int(1));
  at.set("alpha", Attribute::of_float(2));
  at.set("activation", Attribute::of_string("LeakyRelu"));
  at.set("activation_alpha", Attribute::of_float(0.5));
  test::expect_close(run_op1(OpKind::KilnFusedMatMul, {&a, &b, &bias, &z}, at),
                     make<float>({1, 3}, {3.5, 5.5, -1.75}), 0, 0);
  // Batched A with a [K, N] B, no attributes: plain MatMul.
  const Tensor a3 = make<float>({2, 1, 2}, {1, 2, 3, 4});
  const Tensor b2 = make<float>({2, 1}, {1, -1});
  test::expect_close(run_op1(OpKind::KilnFusedMatMul, {&a3, &b2}, {}),
                     make<float>({2, 1, 1}, {-1, -1}), 0, 0);
}

TEST(FusedOps, InferenceRejectsBadOperandsInOneLine) {
  const Tensor x = make<float>({1, 1, 2, 2}, {1, 2, 3, 4});
  const Tensor w = make<float>({1, 1, 1, 1}, {2});
  const Tensor z_bad = make<float>({1, 1, 1, 2}, {0, 0});
  Attributes conv;
  conv.set("kernel_shape", Attribute::of_ints({1, 1}));
  EXPECT_NE(error_of([&] { run_op1(OpKind::KilnFusedConv, {&x, &w, nullptr, &z_bad}, conv); })
                .find("residual Z [1,1,1,2] must have the output's shape [1,1,2,2]"),
            std::string::npos);
  conv.set("activation", Attribute::of_string("Swish"));
  EXPECT_NE(error_of([&] { run_op1(OpKind::KilnFusedConv, {&x, &w}, conv); })
                .find("KilnFusedConv: activation 'Swish' is not one of"),
            std::string::npos);

  const Tensor a = make<float>({2, 3}, {1, 2, 3, 4, 5, 6});
  const Tensor b3 = make<float>({1, 3, 2}, {1, 2, 3, 4, 5, 6});
  const Tensor bias = make<float>({3}, {1, 2, 3});
  Attributes tb;
  tb.set("trans_b", Attribute::of_int(1));
  EXPECT_NE(error_of([&] { run_op1(OpKind::KilnFusedMatMul, {&a, &b3}, tb); })
                .find("with trans_b = 1, B must be 2-D"),
            std::string::npos);
  const Tensor b = make<float>({3, 2}, {1, 2, 3, 4, 5, 6});
  EXPECT_NE(error_of([&] { run_op1(OpKind::KilnFusedMatMul, {&a, &b, &bias}, {}); })
                .find("bias [3] must be 1-D with one value per output column (2)"),
            std::string::npos);
}

constexpr const char* kFusedGraph = R"(graph main (opset 17) {
  input %x: f32[1,2,3,3]
  const %w: f32[2,2,1,1] = [1.0, -1.0, 0.5, 2.0]
  const %b: f32[2] = [0.25, -0.25]
  const %fw: f32[18,4]
  %c = KilnFusedConv(%x, %w, %b, %x) {activation="Relu", kernel_shape=[1,1]} : f32[1,2,3,3]
  %f = Flatten(%c) : f32[1,18]
  %y = KilnFusedMatMul(%f, %fw) {activation="Tanh"} : f32[1,4]
  output %y
})";

TEST(FusedOps, ExportUsesTheKilnDomainAndLoadsBack) {
  auto g = parse_graph(kFusedGraph, true);
  onnx::ModelProto m;
  frontend::export_model(*g, &m);
  int kiln_nodes = 0;
  for (const auto& n : m.graph().node()) {
    if (n.op_type().rfind("Kiln", 0) == 0) {
      EXPECT_EQ(n.domain(), "ai.kiln");
      ++kiln_nodes;
    } else {
      EXPECT_EQ(n.domain(), "");
    }
  }
  EXPECT_EQ(kiln_nodes, 2);
  bool imports_kiln = false;
  for (const auto& o : m.opset_import()) imports_kiln |= o.domain() == "ai.kiln" && o.version() == 1;
  EXPECT_TRUE(imports_kiln);

  frontend::LoadedModel back = frontend::import_model(m, {});
  EXPECT_EQ(graph_to_text(*back.graph), graph_to_text(*g));
  const std::map<std::string, Tensor> in = {
      {"x", make<float>({1, 2, 3, 3}, {1, -2, 3, -4, 5, -6, 7, -8, 9, 0, 1, 0, 2, 0, 3, 0, 4, 0})}};
  EXPECT_TRUE(Interpreter(*back.graph).run(in).at("y").bytes_equal(Interpreter(*g).run(in).at("y")));
}

TEST(FusedOps, KilnOpsOutsideTheKilnDomainAreUnsupported) {
  auto g = parse_graph(kFusedGraph, true);
  onnx::ModelProto m;
  frontend::export_model(*g, &m);
  for (auto& n : *m.mutable_graph()->mutable_node()) n.clear_domain();
  const std::string msg = error_of([&] { frontend::import_model(m, {}); });
  EXPECT_NE(msg.find("unsupported ops: KilnFusedConv (opset 17), KilnFusedMatMul (opset 17)"),
            std::string::npos)
      << msg;
  // And an ONNX op name in the Kiln domain is not Kiln's.
  onnx::ModelProto m2;
  frontend::export_model(*g, &m2);
  m2.mutable_graph()->mutable_node(1)->set_domain("ai.kiln");
  const std::string msg2 = error_of([&] { frontend::import_model(m2, {}); });
  EXPECT_NE(msg2.find("ai.kiln:Flatten"), std::string::npos) << msg2;
}

}  // namespace
}  // namespace kiln
