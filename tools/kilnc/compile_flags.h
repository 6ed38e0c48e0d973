// Flags shared by `kilnc compile` and `kilnc run --backend cpu`: target, CPU, -O level, pass
// list, IR dumps and input-shape bindings.
#pragma once

#include <string>
#include <vector>

#include "codegen/cpu/cpu_compiler.h"

namespace kiln::tools {

struct CompileFlags {
  std::string target = "cpu";  // cpu | opencl (tools/kilnc/compile_target.h)
  cpu_codegen::CpuCompileOptions options;
  bool fpga = false;            // --fpga: the OpenCL target's FPGA profile
  std::string opencl_binary;    // --opencl-binary FILE: embed this program binary
  std::string cuda_arch;        // --cuda-arch sm_90[,sm_80...] (empty: the CUDA target's sm_90)
  bool print_after_all = false;
  std::vector<std::string> print_after;
};

// Consumes args[i] (and its value) if it is a compile flag; returns false otherwise.
bool parse_compile_flag(const std::vector<std::string>& args, size_t& i, CompileFlags& flags);

// "1x3x224x224" (also "scalar" or "" for rank 0); fails on anything else.
Dims parse_dims(const std::string& text, const std::string& flag);

}  // namespace kiln::tools
