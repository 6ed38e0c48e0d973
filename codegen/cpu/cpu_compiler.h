// The CPU target: an ONNX-derived Graph in, the parts of a `.kiln` file out. Binds input shapes,
// runs the -O pipeline, lowers to builtin calls and generated kernels (codegen/cpu), emits
// native code with LLVM (codegen/llvm) for the requested CPU, and fills the artifact metadata.
#pragma once

#include <map>
#include <string>
#include <vector>

#include "ir/graph.h"
#include "passes/pass.h"
#include "runtime/artifact/artifact_format.h"

namespace kiln::cpu_codegen {

struct CpuCompileOptions {
  std::string cpu = "native";                 // LLVM CPU name or "native"
  int opt_level = 2;                          // -O0..3: graph passes, fusion and LLVM level
  std::vector<std::string> passes;            // explicit pass list instead of the -O pipeline
  std::map<std::string, Dims> input_shapes;   // binds symbolic input dims
  // Inputs frozen to constants (e.g. one that decides an output shape: Reshape's target, Range's
  // limit). They stop being model inputs.
  std::map<std::string, Tensor> constant_inputs;
  PassContext* pass_context = nullptr;        // optional: IR dumps, the per-pass report
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

// Sets the declared shape of each named input (rank must match; static dims must agree) and
// re-runs shape inference. Fails naming an unknown input or a mismatch.
void bind_input_shapes(Graph& g, const std::map<std::string, Dims>& shapes);

// Turns each named input into a constant with the given value (dtype and rank must match the
// declaration). Fails naming an unknown input or a mismatch.
void freeze_inputs(Graph& g, const std::map<std::string, Tensor>& values);

}  // namespace kiln::cpu_codegen
