// Exporting a trained model for inference: a copy of the model Graph without its Dropout nodes
// (identities at inference), written as a standard ONNX file by frontend::save_onnx.
#pragma once

#include <filesystem>
#include <memory>

#include "ir/graph.h"

namespace kiln::train {

// The inference graph: `model` with Dropout nodes bypassed; constants alias the model's.
std::unique_ptr<Graph> inference_graph(const Graph& model);

// inference_graph + frontend::save_onnx (atomic) at the model's opset (17 for the MNIST models).
void export_onnx(const Graph& model, const std::filesystem::path& path);

}  // namespace kiln::train
