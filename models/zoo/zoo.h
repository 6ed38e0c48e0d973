// The benchmark model set: models Kiln builds itself, with seeded random weights, laid out as
// PyTorch exports them at opset 17 (torchvision ResNet-18/50 and MobileNetV2, a BERT-base
// encoder, the MNIST cnn). Generated on demand (tools/kiln-models), stored nowhere.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "ir/graph.h"

namespace kiln::zoo {

struct ZooOptions {
  int64_t batch = 1;
  uint64_t seed = 1;
  int64_t image_size = 0;  // CNNs: input height = width; 0 = the model's own (224, MNIST 28)
  int64_t seq_len = 0;     // BERT: tokens per sequence; 0 = 128
};

struct ZooModelInfo {
  std::string name;
  std::string description;
};

// Every model, in the order `kiln-models --list` prints them.
const std::vector<ZooModelInfo>& zoo_models();

// Builds `name` with static input shapes, verified and with every value's type inferred.
// Fails with one line for an unknown name or out-of-range options.
std::unique_ptr<Graph> build_zoo_model(const std::string& name, const ZooOptions& opts = {});

}  // namespace kiln::zoo
