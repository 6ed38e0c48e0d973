// Lowers an optimized Graph with static shapes to device launches for a C-style GPU language:
// each node (or fused elementwise group, found by codegen/cpu's grouping) becomes a kernel
// rendered by one of the families in families.h, or a host-fallback launch (the op record plus
// the node's buffers, like the CPU target's `op` builtin) when no family generates it. Buffers
// are placed by the shared memory planner (codegen/memory_plan.h).
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "codegen/gpu/kernel_writer.h"
#include "codegen/memory_plan.h"
#include "ir/graph.h"
#include "runtime/artifact/artifact_format.h"

namespace kiln::gpu {

inline constexpr char kHostOpSymbol[] = "kiln_host_op";

struct DeviceLaunch {
  std::string symbol;     // kernel name, or kHostOpSymbol
  std::string node_name;
  std::string op;
  std::vector<artifact::LaunchArg> args;
  bool host = false;      // host fallback: args[0] is the op record
  RenderedKernel kernel;  // device kernels
  std::vector<int64_t> params() const;  // the launch's params (geometry; empty on the host)
};

struct DeviceProgram {
  std::vector<DeviceLaunch> launches;  // in execution order
  std::vector<artifact::TensorSignature> inputs, outputs;
  MemoryPlan plan;
  std::vector<uint8_t> weights;
  std::vector<std::pair<const Value*, uint64_t>> planned_values;
  std::map<std::string, int> fallback_ops;  // op -> host launches
  std::map<std::string, int> device_kinds;  // family -> device launches
  std::string source;  // every device kernel, rendered in the dialect
};

struct DeviceLowerOptions {
  const Dialect* dialect = nullptr;  // opencl_dialect() when null
  Profile profile = Profile::Gpu;
  bool fuse_elementwise = true;
};

// `g` must be topologically sorted with static shapes (fails naming the first that is not).
DeviceProgram lower_for_device(const Graph& g, const DeviceLowerOptions& options);

}  // namespace kiln::gpu
