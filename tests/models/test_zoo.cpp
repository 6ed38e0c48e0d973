// The benchmark model set (models/zoo): every model builds, verifies, has static output shapes,
// the published parameter count and the op mix of its PyTorch export, survives ONNX export and
// re-import, and computes finite, moderate values on the reference kernels at small sizes.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <map>
#include <string>

#include "codegen/ref/interpreter.h"
#include "frontend/onnx_exporter.h"
#include "frontend/onnx_loader.h"
#include "ir/printer.h"
#include "ir/verifier.h"
#include "models/mnist/model_builders.h"
#include "models/mnist/rng.h"
#include "models/zoo/zoo.h"
#include "tests/frontend/model_builder.h"

namespace kiln {
namespace {

using zoo::build_zoo_model;
using zoo::ZooOptions;

bool ends_with(const std::string& s, const std::string& tail) {
  return s.size() >= tail.size() && s.compare(s.size() - tail.size(), tail.size(), tail) == 0;
}

// Elements of the constants whose names end in `suffix` (state_dict naming).
int64_t count_named(const Graph& g, std::initializer_list<const char*> suffixes) {
  int64_t n = 0;
  for (const auto& v : g.values()) {
    if (!v->constant) continue;
    for (const char* s : suffixes) {
      if (ends_with(v->name(), s)) {
        n += v->constant->numel();
        break;
      }
    }
  }
  return n;
}

std::map<OpKind, int> histogram(const Graph& g) {
  std::map<OpKind, int> h;
  for (const auto& n : g.nodes()) ++h[n->op];
  return h;
}

ValueType output_type(const Graph& g, size_t i = 0) { return g.outputs.at(i)->type; }

Tensor random_input(const Value& in, uint64_t seed) {
  Tensor t(in.type.dtype, in.type.shape.static_dims());
  mnist::Rng rng(seed);
  if (t.dtype() == DType::I64) {
    for (int64_t i = 0; i < t.numel(); ++i) t.data<int64_t>()[i] = 1;  // attend everywhere
  } else {
    for (int64_t i = 0; i < t.numel(); ++i) t.data<float>()[i] = float(rng.uniform(-1.0, 1.0));
  }
  return t;
}

// Runs the graph on the reference interpreter with seeded inputs; returns output 0.
Tensor run_reference(const Graph& g, uint64_t seed = 7) {
  std::map<std::string, Tensor> feeds;
  for (const Value* in : g.inputs) feeds[in->name()] = random_input(*in, seed++);
  return Interpreter(g).run(feeds).at(g.outputs.at(0)->name());
}

void expect_finite_and_bounded(const Tensor& t, float bound) {
  float max_abs = 0;
  for (float v : t.span<float>()) {
    ASSERT_TRUE(std::isfinite(v));
    max_abs = std::max(max_abs, std::fabs(v));
  }
  EXPECT_LT(max_abs, bound);
  EXPECT_GT(max_abs, 1e-3f) << "an all-zero output would hide dead layers";
}

// Export to ONNX, load back through the frontend: same structure, same bytes in every constant.
void expect_onnx_round_trip(const Graph& g, const std::string& tag) {
  const auto dir = test::fresh_dir("zoo_" + tag);
  frontend::save_onnx(g, dir / "m.onnx");
  const auto loaded = frontend::load_onnx(dir / "m.onnx");
  const Graph& h = *loaded.graph;
  EXPECT_EQ(graph_to_text(h), graph_to_text(g));
  EXPECT_EQ(h.num_parameters(), g.num_parameters());
  for (const auto& v : g.values()) {
    if (!v->constant) continue;
    const Value* w = h.find_value(v->name());
    ASSERT_NE(w, nullptr) << v->name();
    ASSERT_TRUE(w->constant && w->constant->bytes_equal(*v->constant)) << v->name();
  }
  std::filesystem::remove_all(dir);
}

TEST(Zoo, ListsEveryModel) {
  std::vector<std::string> names;
  for (const auto& m : zoo::zoo_models()) names.push_back(m.name);
  EXPECT_EQ(names, (std::vector<std::string>{"mnist-cnn", "resnet18", "resnet50", "mobilenetv2",
                                             "bert-base"}));
}

TEST(Zoo, ResNet18) {
  auto g = build_zoo_model("resnet18");
  verify_graph(*g);
  EXPECT_EQ(output_type(*g), ValueType::of(DType::F32, {1, 1000}));
  // torchvision resnet18: 11,689,512 parameters; BatchNorm buffers (running mean and
  // variance) over 4,800 channels add 9,600 more.
  EXPECT_EQ(count_named(*g, {".weight", ".bias"}), 11689512);
  EXPECT_EQ(count_named(*g, {".running_mean", ".running_var"}), 9600);
  EXPECT_EQ(g->num_parameters(), 11689512 + 9600);
  auto h = histogram(*g);
  EXPECT_EQ(h[OpKind::Conv], 20);
  EXPECT_EQ(h[OpKind::BatchNormalization], 20);
  EXPECT_EQ(h[OpKind::Add], 8);
  EXPECT_EQ(h[OpKind::Relu], 17);
  EXPECT_EQ(h[OpKind::Gemm], 1);
  expect_onnx_round_trip(*g, "resnet18");
}

TEST(Zoo, ResNet50) {
  auto g = build_zoo_model("resnet50", {.batch = 2});
  verify_graph(*g);
  EXPECT_EQ(output_type(*g), ValueType::of(DType::F32, {2, 1000}));
  // torchvision resnet50: 25,557,032 parameters; BN buffers over 26,560 channels.
  EXPECT_EQ(count_named(*g, {".weight", ".bias"}), 25557032);
  EXPECT_EQ(g->num_parameters(), 25557032 + 2 * 26560);
  auto h = histogram(*g);
  EXPECT_EQ(h[OpKind::Conv], 53);
  EXPECT_EQ(h[OpKind::BatchNormalization], 53);
  EXPECT_EQ(h[OpKind::Add], 16);
  EXPECT_EQ(h[OpKind::Relu], 49);
  // Shape of the last stage before pooling: [2, 2048, 7, 7].
  const Node* pool = nullptr;
  for (const auto& n : g->nodes()) {
    if (n->op == OpKind::GlobalAveragePool) pool = n.get();
  }
  ASSERT_NE(pool, nullptr);
  EXPECT_EQ(pool->input(0)->type, ValueType::of(DType::F32, {2, 2048, 7, 7}));
  expect_onnx_round_trip(*g, "resnet50");
}

TEST(Zoo, MobileNetV2) {
  auto g = build_zoo_model("mobilenetv2");
  verify_graph(*g);
  EXPECT_EQ(output_type(*g), ValueType::of(DType::F32, {1, 1000}));
  // torchvision mobilenet_v2: 3,504,872 parameters; BN buffers over 17,056 channels; the two
  // scalar Clip bounds of ReLU6.
  EXPECT_EQ(count_named(*g, {".weight", ".bias"}), 3504872);
  EXPECT_EQ(g->num_parameters(), 3504872 + 2 * 17056 + 2);
  auto h = histogram(*g);
  EXPECT_EQ(h[OpKind::Conv], 52);
  EXPECT_EQ(h[OpKind::Clip], 35);
  EXPECT_EQ(h[OpKind::Add], 10);
  int depthwise = 0;
  for (const auto& n : g->nodes()) {
    if (n->op == OpKind::Conv && n->attrs.get_int("group", 1) > 1) ++depthwise;
  }
  EXPECT_EQ(depthwise, 17);
  expect_onnx_round_trip(*g, "mobilenetv2");
}

TEST(Zoo, BertBaseEncoder) {
  auto g = build_zoo_model("bert-base");
  verify_graph(*g);
  ASSERT_EQ(g->inputs.size(), 2u);
  EXPECT_EQ(g->inputs[0]->type, ValueType::of(DType::F32, {1, 128, 768}));
  EXPECT_EQ(g->inputs[1]->type, ValueType::of(DType::I64, {1, 128}));
  EXPECT_EQ(output_type(*g), ValueType::of(DType::F32, {1, 128, 768}));
  // Per layer: Q, K, V and attention output 4 x (768*768 + 768), FFN 768*3072 + 3072 and
  // 3072*768 + 768, two LayerNorms 2 x 1536: 7,087,872; x 12 = 85,054,464. Plus 14 elements
  // of small constants: four Reshape dims, three Reshape dims, two mask axes, and the scalars
  // 1, 0.5, sqrt 2, sqrt 64, -10000.
  EXPECT_EQ(count_named(*g, {".weight", ".bias"}), 85054464);
  EXPECT_EQ(g->num_parameters(), 85054464 + 14);
  auto h = histogram(*g);
  EXPECT_EQ(h[OpKind::MatMul], 12 * 8);
  EXPECT_EQ(h[OpKind::LayerNormalization], 24);
  EXPECT_EQ(h[OpKind::Softmax], 12);
  EXPECT_EQ(h[OpKind::Erf], 12);
  EXPECT_EQ(h[OpKind::Transpose], 12 * 4);
  EXPECT_EQ(h[OpKind::Reshape], 12 * 4);
  // The attention scores of each layer are [1, 12, 128, 128].
  for (const auto& n : g->nodes()) {
    if (n->op == OpKind::Softmax) {
      EXPECT_EQ(n->output(0)->type, ValueType::of(DType::F32, {1, 12, 128, 128}));
    }
  }
  expect_onnx_round_trip(*g, "bert");
}

TEST(Zoo, MnistCnnTakesAStaticBatchAndComputesLikeTheMnistModel) {
  auto g = build_zoo_model("mnist-cnn", {.batch = 64, .seed = 5});
  verify_graph(*g);
  EXPECT_EQ(g->inputs.at(0)->type, ValueType::of(DType::F32, {64, 1, 28, 28}));
  EXPECT_EQ(output_type(*g), ValueType::of(DType::F32, {64, 10}));
  for (const auto& v : g->values()) EXPECT_TRUE(v->type.shape.is_static()) << v->name();
  // conv1 320 + conv2 18,496 + fc1 1,179,776 + fc2 1,290; two Dropout ratios.
  EXPECT_EQ(g->num_parameters(), 1199882 + 2);

  auto small = build_zoo_model("mnist-cnn", {.batch = 2, .seed = 5});
  auto symbolic = mnist::build_model("cnn", 5);
  const Tensor x = random_input(*small->inputs[0], 3);
  const Tensor a = Interpreter(*small).run({{"input", x}}).at("log_probs");
  const Tensor b = Interpreter(*symbolic).run({{"input", x}}).at("log_probs");
  EXPECT_TRUE(a.bytes_equal(b));
  expect_onnx_round_trip(*small, "mnist");
}

TEST(Zoo, SameSeedSameWeightsOtherSeedOtherWeights) {
  auto a = build_zoo_model("resnet18", {.seed = 11});
  auto b = build_zoo_model("resnet18", {.seed = 11});
  auto c = build_zoo_model("resnet18", {.seed = 12});
  const char* names[] = {"conv1.weight", "bn1.running_var", "layer4.1.conv2.weight", "fc.bias"};
  for (const char* n : names) {
    EXPECT_TRUE(a->find_value(n)->constant->bytes_equal(*b->find_value(n)->constant)) << n;
    EXPECT_FALSE(a->find_value(n)->constant->bytes_equal(*c->find_value(n)->constant)) << n;
  }
}

TEST(Zoo, BatchNormStatisticsAreNotIdentity) {
  auto g = build_zoo_model("resnet18");
  const Tensor& mean = *g->find_value("layer2.0.bn1.running_mean")->constant;
  const Tensor& var = *g->find_value("layer2.0.bn1.running_var")->constant;
  ASSERT_EQ(mean.dims(), (Dims{128}));
  int nonzero_mean = 0, non_unit_var = 0;
  for (int64_t i = 0; i < 128; ++i) {
    nonzero_mean += mean.data<float>()[i] != 0.0f;
    non_unit_var += var.data<float>()[i] != 1.0f;
    EXPECT_GT(var.data<float>()[i], 0.0f);
  }
  EXPECT_EQ(nonzero_mean, 128);
  EXPECT_EQ(non_unit_var, 128);
}

// Small inputs keep the reference kernels fast; the depth and the weights are the real ones.
TEST(Zoo, ReferenceOutputsAreFiniteAtSmallSizes) {
  auto r18 = build_zoo_model("resnet18", {.batch = 1, .image_size = 32});
  EXPECT_EQ(output_type(*r18), ValueType::of(DType::F32, {1, 1000}));
  expect_finite_and_bounded(run_reference(*r18), 1e3f);

  auto mb = build_zoo_model("mobilenetv2", {.batch = 1, .image_size = 32});
  expect_finite_and_bounded(run_reference(*mb), 1e3f);

  auto cnn = build_zoo_model("mnist-cnn", {.batch = 3});
  expect_finite_and_bounded(run_reference(*cnn), 1e3f);
}

TEST(Zoo, BertAttentionMaskHidesMaskedTokens) {
  // Two tokens, token 1 masked: changing token 1's embedding leaves token 0 exactly as it was
  // (exp(-10000) is 0 in f32), while unmasking token 1 changes token 0. Three runs of the full
  // 12-layer encoder on the reference kernels, so the sequence is as short as it gets.
  auto g = build_zoo_model("bert-base", {.seq_len = 2});
  EXPECT_EQ(output_type(*g), ValueType::of(DType::F32, {1, 2, 768}));
  const Tensor x = random_input(*g->inputs[0], 1);
  Tensor x2 = x.clone();
  // Not a constant shift: LayerNorm would remove that from token 1's own row.
  for (int64_t i = 768; i < 2 * 768; ++i) x2.data<float>()[i] = -x.data<float>()[i];
  const Tensor masked = Tensor::from_vector<int64_t>({1, 0}, {1, 2});
  const Tensor open = Tensor::from_vector<int64_t>({1, 1}, {1, 2});
  const Interpreter run(*g);
  auto out = [&](const Tensor& e, const Tensor& m) {
    return run.run({{"inputs_embeds", e}, {"attention_mask", m}}).at("last_hidden_state");
  };
  const Tensor a = out(x, masked), b = out(x2, masked), c = out(x2, open);
  expect_finite_and_bounded(a, 1e2f);
  float diff_masked = 0, diff_open = 0;
  for (int64_t i = 0; i < 768; ++i) {
    diff_masked = std::max(diff_masked, std::fabs(a.data<float>()[i] - b.data<float>()[i]));
    diff_open = std::max(diff_open, std::fabs(b.data<float>()[i] - c.data<float>()[i]));
  }
  EXPECT_EQ(diff_masked, 0.0f);
  EXPECT_GT(diff_open, 1e-4f);
  // Token 1 itself sees its own changed embedding.
  float diff_token1 = 0;
  for (int64_t i = 768; i < 2 * 768; ++i) {
    diff_token1 = std::max(diff_token1, std::fabs(a.data<float>()[i] - b.data<float>()[i]));
  }
  EXPECT_GT(diff_token1, 1e-4f);
}

TEST(Zoo, BadOptionsAreErrors) {
  EXPECT_THROW(build_zoo_model("resnet34"), Error);
  EXPECT_THROW(build_zoo_model("resnet18", {.batch = 0}), Error);
  EXPECT_THROW(build_zoo_model("resnet18", {.image_size = 16}), Error);
  EXPECT_THROW(build_zoo_model("mnist-cnn", {.image_size = 32}), Error);
  EXPECT_THROW(build_zoo_model("bert-base", {.seq_len = 513}), Error);
  EXPECT_THROW(build_zoo_model("bert-base", {.image_size = 224}), Error);
}

}  // namespace
}  // namespace kiln
