// The CPU target: an ONNX-derived Graph in, the parts of a `.kiln` file out. Binds input shapes,
// runs the -O pipeline, lowers to builtin calls and generated kernels (codegen/cpu), emits
// native code with LLVM (codegen/llvm) for the requested CPU, and fills the artifact metadata.
#pragma once

#include <map>
#include <set>
#include <string>
#include <vector>

#include "codegen/compile_common.h"
#include "ir/graph.h"
#include "passes/pass.h"
#include "runtime/artifact/artifact_format.h"

namespace kiln::cpu_codegen {

struct CpuCompileOptions : codegen::GraphOptions {
  std::string cpu = "native";  // LLVM CPU name or "native"
};

struct CompiledModel {
  artifact::ArtifactMeta meta;
  std::vector<uint8_t> weights;
  std::vector<uint8_t> code;
  // A summary for `kilnc compile`: kernels by kind, arena bytes, what fell back to the runtime.
  std::vector<std::string> report;
};

// Optimizes `g` in place and compiles it.
CompiledModel compile_for_cpu(Graph& g, const CpuCompileOptions& options);

// Input binding is shared by every target (codegen/compile_common.h).
using codegen::bind_input_shapes;
using codegen::freeze_inputs;

}  // namespace kiln::cpu_codegen
