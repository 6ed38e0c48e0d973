// Runs a CompiledModel through the real runtime (the same path as a `.kiln` file loaded by
// kiln-run): serializes it, loads it from memory with the C API, binds inputs by name, runs.
// Used by `kilnc run --backend cpu`, the conformance runner and model-level tests.
#pragma once

#include <map>
#include <string>

#include "codegen/cpu/cpu_compiler.h"
#include "ir/tensor.h"

namespace kiln::cpu_codegen {

std::map<std::string, Tensor> run_compiled(const CompiledModel& model,
                                           const std::map<std::string, Tensor>& inputs,
                                           int threads = 0);

}  // namespace kiln::cpu_codegen
