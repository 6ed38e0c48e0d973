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

struct CpuCompileOptions {
  std::string cpu = "native";                 // LLVM CPU name or "native"
  int opt_level = 2;                          // -O0..3: graph passes, fusion and LLVM level
  std::vector<std::string> passes;            // explicit pass list instead of the -O pipeline
  std::map<std::string, Dims> input_shapes;   // binds symbolic input dims
  // Inputs frozen to constants (e.g. one that decides an output shape: Reshape's target, Range's
  // limit). They stop being model inputs.
  std::map<std::string, Tensor> constant_inputs;
  PassContext* pass_context = nullptr;        // optional: IR dumps, the per-pass report
  std::set<std::string, std::less<>> fp16_block_ops;  // convert-fp16 keeps these ops fp32
  bool fp16_io = false;                       // convert-fp16 makes model inputs/outputs fp16
  std::vector<std::string> extra_passes;      // after the pipeline: --quantize, --prune passes
  std::string calib_data_dir;                 // quantize-int8: --calib-data DIR of .npy inputs
  std::string calib_method = "minmax";        // quantize-int8: --calib-method
  std::string prune_spec;                     // prune-*: --prune SPEC (passes/prune_spec.h)
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
