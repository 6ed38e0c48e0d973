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

struct OpenClCompileOptions {
  bool fpga = false;                          // --fpga: single-work-item FPGA-style kernels
  int opt_level = 2;                          // -O0..3 graph pipeline (same passes as CPU)
  std::vector<std::string> passes;            // explicit pass list instead of the -O pipeline
  std::map<std::string, Dims> input_shapes;   // binds symbolic input dims
  std::map<std::string, Tensor> constant_inputs;
  PassContext* pass_context = nullptr;
  std::string binary_path;                    // --opencl-binary FILE: embed this offline-compiled
                                              // program binary instead of the source
  // Precision and pruning (--quantize, --fp16-*, --calib-*, --prune), as for the CPU target.
  std::vector<std::string> extra_passes;
  std::set<std::string, std::less<>> fp16_block_ops;
  bool fp16_io = false;
  std::string calib_data_dir;
  std::string calib_method = "minmax";
  std::string prune_spec;
};

// Optimizes `g` in place, lowers it, renders OpenCL C. Same result type as the CPU target
// (codegen/cpu/cpu_compiler.h): meta + weights + code (+ report lines for kilnc).
cpu_codegen::CompiledModel compile_for_opencl(Graph& g, const OpenClCompileOptions& options);

}  // namespace kiln::opencl_codegen
