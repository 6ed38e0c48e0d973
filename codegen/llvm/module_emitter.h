// Turns the CPU launch plan into an LLVM module implementing kiln/kernel_abi.h: one exported
// function per launch, generated loops for fused elementwise programs, and fused epilogue
// callbacks for the GEMM/convolution builtins. Shapes are compile-time constants throughout.
#pragma once

#include <memory>
#include <vector>

#include <llvm/IR/LLVMContext.h>
#include <llvm/IR/Module.h>

#include "codegen/cpu/kernel_plan.h"

namespace kiln::llvm_codegen {

std::unique_ptr<llvm::Module> emit_module(llvm::LLVMContext& context,
                                          const std::vector<cpu_codegen::PlannedKernel>& kernels);

}  // namespace kiln::llvm_codegen
