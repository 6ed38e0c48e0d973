// Graph -> ONNX ModelProto: constants become initializers, types become value_info.
// Used by kiln-train to hand a trained model to ONNX Runtime and back to kilnc.
#pragma once

#include <filesystem>

#include "ir/graph.h"

namespace onnx {
class ModelProto;
}

namespace kiln::frontend {

// Kiln-internal ops (fused and training ops, named Kiln*) are not ONNX: the exporter writes
// them in this domain (opset version 1) and the loader accepts them only there.
inline constexpr const char* kKilnDomain = "ai.kiln";
inline bool is_kiln_internal_op(OpKind op) { return op_name(op).starts_with("Kiln"); }

void export_model(const Graph& g, onnx::ModelProto* out);
// Writes atomically: a temporary file renamed over `path`, so a failure never leaves half a model.
void save_onnx(const Graph& g, const std::filesystem::path& path);
// The IR version ONNX pairs with a default-domain opset.
int64_t ir_version_for_opset(int opset);

}  // namespace kiln::frontend
