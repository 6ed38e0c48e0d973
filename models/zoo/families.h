// One builder per model family; zoo.cpp validates options and dispatches by name.
#pragma once

#include <memory>

#include "ir/graph.h"
#include "models/zoo/zoo.h"

namespace kiln::zoo {

// torchvision resnet18 (BasicBlock) / resnet50 (Bottleneck, stride on the 3x3 conv).
std::unique_ptr<Graph> build_resnet(int depth, int64_t batch, int64_t image_size, uint64_t seed);
std::unique_ptr<Graph> build_mobilenetv2(int64_t batch, int64_t image_size, uint64_t seed);
std::unique_ptr<Graph> build_bert_encoder(int64_t batch, int64_t seq_len, uint64_t seed);

}  // namespace kiln::zoo
