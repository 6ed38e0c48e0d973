#include "models/zoo/zoo.h"

#include "ir/infer.h"
#include "models/mnist/model_builders.h"
#include "models/zoo/families.h"

namespace kiln::zoo {

namespace {

constexpr int64_t kMaxBatch = 4096;

// The MNIST cnn of models/mnist with its symbolic batch made static, so every model of the
// set has the static shapes an ahead-of-time compiler plans memory for.
std::unique_ptr<Graph> build_mnist_cnn(int64_t batch, uint64_t seed) {
  std::unique_ptr<Graph> g = mnist::build_model("cnn", seed);
  g->inputs.at(0)->type = ValueType::of(DType::F32, {batch, 1, 28, 28});
  // Forget the symbolic types inferred before, then infer the static ones.
  for (const auto& v : g->values()) {
    if (!v->is_constant() && v->producer()) v->type = {};
  }
  infer_shapes(*g);
  return g;
}

int64_t pick(int64_t given, int64_t def) { return given == 0 ? def : given; }

}  // namespace

const std::vector<ZooModelInfo>& zoo_models() {
  static const std::vector<ZooModelInfo> models = {
      {"mnist-cnn", "MNIST cnn of models/mnist: 2 conv, max-pool, 2 fc; input [B,1,28,28]"},
      {"resnet18", "torchvision ResNet-18, 11.69M parameters; input [B,3,224,224]"},
      {"resnet50", "torchvision ResNet-50, 25.56M parameters; input [B,3,224,224]"},
      {"mobilenetv2", "torchvision MobileNetV2, 3.50M parameters; input [B,3,224,224]"},
      {"bert-base", "BERT-base encoder, 12 layers, 85.05M parameters; inputs_embeds [B,128,768]"},
  };
  return models;
}

std::unique_ptr<Graph> build_zoo_model(const std::string& name, const ZooOptions& o) {
  KILN_CHECK(o.batch >= 1 && o.batch <= kMaxBatch, "batch ", o.batch, " is not in [1, ",
             kMaxBatch, "]");
  KILN_CHECK(o.image_size >= 0 && o.seq_len >= 0, "image size and sequence length must be >= 0");
  if (name == "mnist-cnn") {
    KILN_CHECK(pick(o.image_size, 28) == 28, "mnist-cnn: image size must be 28, got ",
               o.image_size);
    KILN_CHECK(o.seq_len == 0, "mnist-cnn: takes no sequence length");
    return build_mnist_cnn(o.batch, o.seed);
  }
  if (name == "resnet18" || name == "resnet50" || name == "mobilenetv2") {
    const int64_t size = pick(o.image_size, 224);
    // Five stride-2 stages: smaller inputs would shrink to nothing.
    KILN_CHECK(size >= 32 && size <= 1024, name, ": image size ", size,
               " is not in [32, 1024]");
    KILN_CHECK(o.seq_len == 0, name, ": takes no sequence length");
    if (name == "mobilenetv2") return build_mobilenetv2(o.batch, size, o.seed);
    return build_resnet(name == "resnet18" ? 18 : 50, o.batch, size, o.seed);
  }
  if (name == "bert-base") {
    const int64_t seq = pick(o.seq_len, 128);
    KILN_CHECK(seq >= 1 && seq <= 512, "bert-base: sequence length ", seq,
               " is not in [1, 512]");
    KILN_CHECK(o.image_size == 0, "bert-base: takes no image size");
    return build_bert_encoder(o.batch, seq, o.seed);
  }
  std::string known;
  for (const auto& m : zoo_models()) known += (known.empty() ? "" : ", ") + m.name;
  fail("unknown model '", name, "' (known: ", known, ")");
}

}  // namespace kiln::zoo
