// The target-independent front of every compiler target (CPU, OpenCL, CUDA): freezes and binds
// inputs, checks that input shapes are static, runs the -O pipeline (or an explicit pass list)
// and re-folds until shapes resolve, leaving the graph topologically sorted.
#pragma once

#include <map>
#include <set>
#include <string>
#include <vector>

#include "ir/graph.h"
#include "passes/pass.h"

namespace kiln::codegen {

// Sets the declared shape of each named input (rank must match; static dims must agree) and
// re-runs shape inference. Fails naming an unknown input or a mismatch.
void bind_input_shapes(Graph& g, const std::map<std::string, Dims>& shapes);

// Turns each named input into a constant with the given value (dtype and rank must match the
// declaration). Fails naming an unknown input or a mismatch.
void freeze_inputs(Graph& g, const std::map<std::string, Tensor>& values);

struct PrepareOptions {
  int opt_level = 2;
  std::vector<std::string> passes;  // explicit pass list instead of the -O pipeline
  std::map<std::string, Dims> input_shapes;
  std::map<std::string, Tensor> constant_inputs;
  std::vector<std::string> extra_passes;  // run after the pipeline / list (--quantize, --prune)
};

// Freezes/binds inputs, fails with a one-line hint for an unbound symbolic input, runs the
// passes with `pctx` (its opt_level is set here) and folds shapes. Returns the report line
// "graph: N nodes -> M after passes".
std::string prepare_graph(Graph& g, const PrepareOptions& options, PassContext& pctx);

// What every target takes for the graph before lowering: shapes, the pass pipeline, and the
// precision and pruning passes. CpuCompileOptions, OpenClCompileOptions and CudaCompileOptions
// extend it with their own fields.
struct GraphOptions {
  int opt_level = 2;                          // -O0..3: graph passes, fusion (and LLVM level)
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

// Copies the precision/pruning options into `pctx`, then runs prepare_graph.
std::string prepare_graph(Graph& g, const GraphOptions& options, PassContext& pctx);

}  // namespace kiln::codegen
