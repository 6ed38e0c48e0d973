// From an LLVM module to the bytes of an ELF shared object for one CPU: target selection
// (`native` or an LLVM CPU name such as x86-64-v3, skylake-avx512, znver4), the -O pipeline
// with that CPU's cost model (so loops vectorize to its widths), object emission, and linking
// with LLD as a library (no external tools needed at compile time).
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include <llvm/IR/Module.h>

namespace llvm {
class TargetMachine;
}

namespace kiln::llvm_codegen {

struct NativeTarget {
  std::string triple;
  std::string cpu;       // resolved name ("native" becomes the host's)
  std::string features;  // LLVM feature string, "+avx2,+fma,..."
  uint64_t cpu_feature_bits = 0;  // artifact::CpuFeature bits the code may use
  std::shared_ptr<llvm::TargetMachine> machine;
};

// Fails with one line for an unknown CPU name. `opt_level` 0..3.
NativeTarget make_native_target(const std::string& cpu_name, int opt_level);

// Optimizes `module` for `target` at `opt_level` and links it into a shared object.
std::vector<uint8_t> compile_shared_object(llvm::Module& module, const NativeTarget& target,
                                           int opt_level);

}  // namespace kiln::llvm_codegen
