// Compiles a graph for the target named by the compile flags (--target cpu | opencl [--fpga]
// [--opencl-binary FILE]); shared by `kilnc compile` and `kilnc run --backend`.
#pragma once

#include "tools/kilnc/compile_flags.h"

namespace kiln::tools {

// Fails with one line for flags that do not fit the target (--fpga without --target opencl) or
// a target this kilnc was built without.
cpu_codegen::CompiledModel compile_for_target(Graph& g, const CompileFlags& flags);

}  // namespace kiln::tools
