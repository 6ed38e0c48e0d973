// The MNIST reference models as inference Graphs: input "input" f32 [batch, 1, 28, 28],
// output "log_probs" f32 [batch, 10] (LogSoftmax). Parameters are f32 constants named like
// PyTorch's ("conv1.weight", "fc2.bias"), initialized as PyTorch does (Kaiming-uniform with
// a = sqrt(5), i.e. U(-1/sqrt(fan_in), 1/sqrt(fan_in)) for weights and biases) from `seed`.
// Dropout nodes are in inference mode; the trainer turns them into seeded masks.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "ir/graph.h"

namespace kiln::mnist {

inline constexpr const char* kInputName = "input";
inline constexpr const char* kOutputName = "log_probs";

// "cnn": PyTorch examples/mnist (conv 1->32 3x3, ReLU, conv 32->64 3x3, ReLU, max-pool 2,
//        dropout 0.25, fc 9216->128, ReLU, dropout 0.5, fc 128->10, log-softmax).
// "lenet5": conv 1->6 5x5 pad 2, ReLU, max-pool 2, conv 6->16 5x5, ReLU, max-pool 2,
//        fc 400->120, ReLU, fc 120->84, ReLU, fc 84->10, log-softmax.
// "mlp": 784-512-256-10 with ReLU, log-softmax.
std::unique_ptr<Graph> build_model(const std::string& name, uint64_t seed);

const std::vector<std::string>& model_names();

}  // namespace kiln::mnist
