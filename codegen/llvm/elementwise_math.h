// Scalar f32 math for generated elementwise code, written as plain LLVM IR (no libm calls for
// exp, erf, tanh, sigmoid, gelu) so the loop vectorizer can widen every fused chain to the
// target's vector width. Accuracy: a few ulp for exp; erf and tanh within 2e-7 absolute.
#pragma once

#include <vector>

#include <llvm/IR/IRBuilder.h>

#include "codegen/cpu/kernel_plan.h"

namespace kiln::llvm_codegen {

// The value of `step` applied to `operands` (already loaded f32 values).
llvm::Value* emit_step(llvm::IRBuilder<>& b, const cpu_codegen::EwStep& step,
                       const std::vector<llvm::Value*>& operands);

llvm::Value* emit_exp(llvm::IRBuilder<>& b, llvm::Value* x);
llvm::Value* emit_erf(llvm::IRBuilder<>& b, llvm::Value* x);
llvm::Value* emit_tanh(llvm::IRBuilder<>& b, llvm::Value* x);

}  // namespace kiln::llvm_codegen
