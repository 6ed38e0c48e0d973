// ONNX model -> Kiln Graph: opset checks, initializers, Constant nodes folded to constants,
// attributes, declared types, then shape and dtype inference.
#pragma once

#include <filesystem>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "ir/graph.h"

namespace onnx {
class ModelProto;
}

namespace kiln::frontend {

inline constexpr int kMinOpset = 7;
inline constexpr int kMaxOpset = 27;

struct ModelInfo {
  int64_t ir_version = 0;
  std::map<std::string, int64_t> opset_imports;  // domain ("" = ai.onnx) -> version
  std::string producer_name, producer_version;
  std::map<std::string, int64_t> op_histogram;  // "Conv" or "domain:Op" -> count
  // Every op Kiln cannot import, "Op (opset N)" or "domain:Op", sorted, each once.
  std::vector<std::string> unsupported_ops;
};

struct LoadedModel {
  std::unique_ptr<Graph> graph;
  ModelInfo info;
};

// Reads and parses a model file; fails with one line for a missing, truncated or invalid file.
void parse_model_file(const std::filesystem::path& path, onnx::ModelProto* out);

// Histogram, opsets and the list of unsupported ops, without building a graph.
ModelInfo scan_model(const onnx::ModelProto& m);

// Builds the Graph. `base_dir` is where external data may live (empty = none allowed).
// Fails listing all unsupported ops at once if there are any.
LoadedModel import_model(const onnx::ModelProto& m, const std::filesystem::path& base_dir);

// parse_model_file + import_model.
LoadedModel load_onnx(const std::filesystem::path& path);
LoadedModel load_onnx_from_memory(const void* data, size_t size);

}  // namespace kiln::frontend
