// The training graph of a model: forward pass, summed cross-entropy loss, and the backward
// graph from `differentiate`, all in one Graph the reference kernels run.
//   - float constants (weights, biases) become graph inputs, so every step binds the current
//     parameters without copying them into the graph;
//   - Dropout becomes a multiplication by a mask input that the trainer fills from its seeded
//     RNG (0 or 1/(1-ratio)), so training is deterministic for a seed;
//   - MaxPool also outputs its argmax Indices, which its gradient rule consumes;
//   - the loss is SoftmaxCrossEntropyLoss(reduction "sum") of the final LogSoftmax's input, so
//     per-shard losses and gradients add up to the whole batch's.
//   - after differentiation, a Conv feeding only a Relu becomes one KilnFusedConv (activation
//     Relu): the backward graph reads the Relu's output, never the pre-activation.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "ir/graph.h"

namespace kiln::train {

inline constexpr const char* kLabelsName = "labels";
inline constexpr const char* kLossName = "loss";

struct DropoutMask {
  std::string input_name;  // graph input of the training graph
  float ratio = 0.5f;
  Dims sample_dims;        // the mask's dims without the leading batch axis
};

struct TrainingGraph {
  std::unique_ptr<Graph> graph;
  std::string input_name, output_name;  // the model's (images in, log-probabilities out)
  std::vector<std::string> params;      // trainable parameters (graph inputs), model order
  std::vector<std::string> grads;       // graph outputs: d(loss)/d(params[i])
  std::vector<DropoutMask> masks;
};

// `model`: one f32 input [batch, ...], one output produced by LogSoftmax over axis 1.
TrainingGraph make_training_graph(const Graph& model);

}  // namespace kiln::train
