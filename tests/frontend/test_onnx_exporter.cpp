// Graph -> ONNX -> Graph keeps structure, attributes, constants and results.
#include <gtest/gtest.h>

#include <onnx/onnx_pb.h>

#include "codegen/ref/interpreter.h"
#include "frontend/onnx_exporter.h"
#include "frontend/onnx_loader.h"
#include "ir/infer.h"
#include "ir/printer.h"
#include "tests/frontend/model_builder.h"

namespace kiln {
namespace {

TEST(OnnxExporter, RoundTripKeepsGraphAndResults) {
  // x[1,1,4,4] -> Conv(3x3, pad 1) -> Relu -> Flatten -> Gemm(16->2) -> Softmax
  Graph g;
  g.opset = 17;
  Value* x = g.add_value("x", ValueType::of(DType::F32, {1, 1, 4, 4}));
  g.inputs = {x};
  std::vector<float> wv(9), gw(32), gb = {0.5f, -0.5f};
  for (int i = 0; i < 9; ++i) wv[i] = 0.1f * static_cast<float>(i - 4);
  for (int i = 0; i < 32; ++i) gw[i] = 0.05f * static_cast<float>((i * 7) % 11 - 5);
  Value* w = g.add_constant("w", Tensor::from_vector<float>(wv, {1, 1, 3, 3}));
  Value* fw = g.add_constant("fw", Tensor::from_vector<float>(gw, {2, 16}));
  Value* fb = g.add_constant("fb", Tensor::from_vector<float>(gb, {2}));
  Value* c = g.add_value("c");
  Value* r = g.add_value("r");
  Value* f = g.add_value("f");
  Value* l = g.add_value("l");
  Value* y = g.add_value("y");
  Attributes conv;
  conv.set("pads", Attribute::of_ints({1, 1, 1, 1}));
  conv.set("kernel_shape", Attribute::of_ints({3, 3}));
  g.add_node(OpKind::Conv, {x, w}, {c}, conv, "conv");
  g.add_node(OpKind::Relu, {c}, {r}, {}, "relu");
  g.add_node(OpKind::Flatten, {r}, {f}, {}, "flatten");
  Attributes gemm;
  gemm.set("transB", Attribute::of_int(1));
  g.add_node(OpKind::Gemm, {f, fw, fb}, {l}, gemm, "fc");
  g.add_node(OpKind::Softmax, {l}, {y}, {}, "softmax");
  g.outputs = {y};
  infer_shapes(g);

  const auto dir = test::fresh_dir("export");
  frontend::save_onnx(g, dir / "m.onnx");
  EXPECT_FALSE(std::filesystem::exists(dir / "m.onnx.tmp"));
  auto lm = frontend::load_onnx(dir / "m.onnx");
  EXPECT_EQ(graph_to_text(*lm.graph), graph_to_text(g));

  std::vector<float> xv(16);
  for (int i = 0; i < 16; ++i) xv[i] = static_cast<float>(i % 5) - 2;
  const Tensor in = Tensor::from_vector<float>(xv, {1, 1, 4, 4});
  auto a = Interpreter(g).run({{"x", in}}).at("y");
  auto b = Interpreter(*lm.graph).run({{"x", in}}).at("y");
  ASSERT_TRUE(a.bytes_equal(b));
  EXPECT_NEAR(a.data<float>()[0] + a.data<float>()[1], 1.0f, 1e-6);
}

TEST(OnnxExporter, WritesOpsetAndIrVersion) {
  Graph g;
  g.opset = 17;
  Value* x = g.add_value("x", ValueType::of(DType::F32, {2}));
  Value* y = g.add_value("y");
  g.add_node(OpKind::Relu, {x}, {y});
  g.inputs = {x};
  g.outputs = {y};
  infer_shapes(g);
  onnx::ModelProto m;
  frontend::export_model(g, &m);
  ASSERT_EQ(m.opset_import_size(), 1);
  EXPECT_EQ(m.opset_import(0).version(), 17);
  EXPECT_EQ(m.ir_version(), 8);
  EXPECT_EQ(m.graph().output(0).type().tensor_type().shape().dim(0).dim_value(), 2);
}

}  // namespace
}  // namespace kiln
