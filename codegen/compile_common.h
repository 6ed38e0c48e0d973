// The target-independent front of every compiler target (CPU, OpenCL, CUDA): freezes and binds
// inputs, checks that input shapes are static, runs the -O pipeline (or an explicit pass list)
// and re-folds until shapes resolve, leaving the graph topologically sorted.
#pragma once

#include <map>
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

// Copies a target's precision/pruning options (--fp16-block, --fp16-io, --calib-*, --prune) into
// the pass context. Every target's options struct carries the same fields.
template <class TargetOptions>
void apply_pass_options(const TargetOptions& o, PassContext& pctx) {
  pctx.fp16_block_ops.insert(o.fp16_block_ops.begin(), o.fp16_block_ops.end());
  if (o.fp16_io) pctx.fp16_keep_io_fp32 = false;
  pctx.calib_data_dir = o.calib_data_dir;
  pctx.calib_method = o.calib_method;
  if (!o.prune_spec.empty()) pctx.prune_spec = o.prune_spec;
}

}  // namespace kiln::codegen
