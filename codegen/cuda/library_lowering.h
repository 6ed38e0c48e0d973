// Chooses cuBLASLt / cuDNN library launches (runtime/devices/cuda/library_launch.h) for the
// GEMM and convolution nodes of a lowered device program. A node goes to the library when the
// library computes it whole: its epilogue is at most a per-column bias, a residual of the
// output's shape and ReLU; GEMM batches are full or broadcast; convolutions are 2-D with
// symmetric pads; f32 or f16 throughout (f16 runs on tensor cores with f32 accumulation).
// Anything else keeps the generated kernel (codegen/gpu), which fuses every epilogue.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "ir/graph.h"
#include "runtime/artifact/artifact_format.h"

namespace kiln::cuda_codegen {

struct LibraryLaunch {
  std::string symbol;
  std::vector<artifact::LaunchArg> args;
  std::vector<int64_t> params;
};

// `values`: the node's present inputs, in order, then its outputs, as the lowering placed them
// (a device or host launch's args, record excluded). nullopt: keep what the lowering made.
std::optional<LibraryLaunch> library_launch_for(const Node& n,
                                                const std::vector<artifact::LaunchArg>& values);

}  // namespace kiln::cuda_codegen
