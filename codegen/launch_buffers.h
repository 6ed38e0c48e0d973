// Where a lowering's launch arguments live, shared by the CPU lowering (codegen/cpu) and the
// device lowering (codegen/gpu): constants and op records are appended 64-byte aligned to the
// weights blob (each constant once), model inputs and outputs are addressed by index, and every
// other value by its offset in the memory plan's arena.
#pragma once

#include <cstdint>
#include <unordered_map>
#include <vector>

#include "codegen/memory_plan.h"
#include "ir/graph.h"
#include "runtime/artifact/artifact_format.h"
#include "runtime/kernels/launch/op_record.h"

namespace kiln::codegen {

Dims static_dims_of(const Value* v);
uint64_t static_bytes_of(const Value* v);

class LaunchBuffers {
 public:
  // `plan` and `weights` must outlive this object; `weights` grows as arguments are added.
  LaunchBuffers(const Graph& g, const MemoryPlan& plan, std::vector<uint8_t>& weights);

  uint64_t add_weight(const void* data, size_t bytes);
  artifact::LaunchArg weight_arg(const void* data, size_t bytes);
  // A model input that is also an output is read from the input (copied out at the end).
  artifact::LaunchArg value_arg(const Value* v);
  // The model output slot of `v` (which must be a graph output).
  artifact::LaunchArg output_arg(const Value* v) const;
  // An op record stored in the weights with its u64 length prefix (launch/op_record.h): the
  // first argument of the runtime's `op` builtin and of the device host-op launch.
  artifact::LaunchArg record_arg(const launch::OpRecord& rec);

  // The record that runs `n` through the runtime's kernels; appends the arguments of its present
  // inputs, then outputs, to `buffers`.
  launch::OpRecord node_record(const Node& n, std::vector<artifact::LaunchArg>& buffers);
  // The record of an Identity that copies a graph output no node writes into its output slot.
  static launch::OpRecord output_copy_record(const Value* v);

 private:
  const MemoryPlan& plan_;
  std::vector<uint8_t>& weights_;
  std::unordered_map<const Value*, size_t> input_index_, output_index_;
  std::unordered_map<const Value*, uint64_t> constant_offset_;
};

}  // namespace kiln::codegen
