// Flags shared by `kilnc compile` and `kilnc run --backend cpu`: target, CPU, -O level, pass
// list, IR dumps and input-shape bindings.
#pragma once

#include <string>
#include <vector>

#include "codegen/cpu/cpu_compiler.h"

namespace kiln::tools {

struct CompileFlags {
  std::string target = "cpu";
  cpu_codegen::CpuCompileOptions options;
  bool print_after_all = false;
  std::vector<std::string> print_after;
};

// Consumes args[i] (and its value) if it is a compile flag; returns false otherwise.
bool parse_compile_flag(const std::vector<std::string>& args, size_t& i, CompileFlags& flags);

// "1x3x224x224" (also "scalar" or "" for rank 0); fails on anything else.
Dims parse_dims(const std::string& text, const std::string& flag);

}  // namespace kiln::tools
