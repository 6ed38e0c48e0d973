// The OpenCL target: optimizes a Graph with the same -O pipeline as the CPU target, lowers it to
// device launches rendered as OpenCL C by codegen/gpu (GPU profile: data-parallel NDRange
// kernels; FPGA profile: single-work-item kernels with compile-time loops), with host-fallback
// launches for the ops no family generates, and fills the artifact (CODE = the program source,
// or an offline-compiled program binary given by the caller).
#pragma once

#include <map>
#include <set>
#include <string>
#include <vector>

#include "codegen/cpu/cpu_compiler.h"
#include "ir/graph.h"
#include "passes/pass.h"

namespace kiln::opencl_codegen {

struct OpenClCompileOptions : codegen::GraphOptions {
  bool fpga = false;                          // --fpga: single-work-item FPGA-style kernels
  std::string binary_path;                    // --opencl-binary FILE: embed this offline-compiled
                                              // program binary instead of the source
};

// Optimizes `g` in place, lowers it, renders OpenCL C. Same result type as the CPU target
// (codegen/cpu/cpu_compiler.h): meta + weights + code (+ report lines for kilnc).
cpu_codegen::CompiledModel compile_for_opencl(Graph& g, const OpenClCompileOptions& options);

}  // namespace kiln::opencl_codegen
