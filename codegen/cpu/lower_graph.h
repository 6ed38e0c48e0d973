// Lowers an optimized Graph with static shapes to the CPU launch plan: which builtin or
// generated kernel runs each node (or fused group of nodes), where every buffer lives (arena
// offset from the memory plan, weights offset, model input or output), and the packed weights.
#pragma once

#include <set>

#include <cstdint>
#include <vector>

#include "codegen/cpu/kernel_plan.h"
#include "codegen/memory_plan.h"
#include "ir/graph.h"

namespace kiln::cpu_codegen {

struct LoweredGraph {
  std::vector<PlannedKernel> kernels;  // in execution order
  std::vector<artifact::TensorSignature> inputs, outputs;
  MemoryPlan plan;
  std::vector<uint8_t> weights;
  std::vector<std::pair<const Value*, uint64_t>> planned_values;  // arena values, for the file
};

struct LowerOptions {
  bool fuse_elementwise = true;  // -O0 turns it off: one kernel per node
  std::set<const Value*> half_weights;  // constant weights whose packed copy is stored fp16
};

// `g` must be verified, topologically sorted and have static shapes everywhere (the caller
// binds symbolic input dims first); fails naming the first value that is not static.
LoweredGraph lower_graph(const Graph& g, const LowerOptions& options);

}  // namespace kiln::cpu_codegen
