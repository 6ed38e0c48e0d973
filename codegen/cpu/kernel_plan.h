// What the CPU code generator emits, one entry per launch, before it becomes LLVM IR: which
// runtime builtin a launch calls (with which compile-time parameters), or which elementwise
// program it computes in generated code. codegen/cpu/lower_graph builds it from a Graph;
// codegen/llvm/module_emitter turns it into functions that implement kiln/kernel_abi.h.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "ir/op_kind.h"
#include "ir/tensor.h"
#include "runtime/artifact/artifact_format.h"

namespace kiln::cpu_codegen {

// A fused chain of elementwise ops evaluated in f32 per output element in one loop; inputs and
// the output may be stored as fp16 (Casts between f32 and fp16 are identity steps).
// Operand numbering: [0, num_inputs) are the program's inputs, then step k's result is
// num_inputs + k. The last step's result is the program's output.
struct EwStep {
  OpKind op = OpKind::Add;
  std::vector<int> operands;
  float alpha = 0, beta = 0;  // LeakyRelu alpha, Clip min/max, HardSigmoid alpha/beta, ...
  bool approximate_tanh = false;  // Gelu
};

struct EwInput {
  int buffer = 0;              // index in the launch's buffer list
  std::vector<int64_t> strides;  // per output dim, in elements; 0 where broadcast
  bool half = false;             // stored as fp16: widened to f32 on load (F16C)
};

struct EwProgram {
  Dims out_dims;
  int out_buffer = 0;
  std::vector<EwInput> inputs;
  std::vector<EwStep> steps;
  bool out_half = false;  // the output is stored as fp16 (rounded on store)
};

enum class KernelKind {
  Op,            // builtins->op: the runtime's kernels (optimized where they exist, else reference)
  Conv2d,        // builtins->conv2d, weights packed at compile time
  SgemmPackedB,  // builtins->sgemm_packed_b, B packed at compile time
  SgemmBatched,  // builtins->sgemm_batched
  Elementwise,   // generated loop
  QConv2d,       // builtins->qconv2d, int8 weights packed at compile time
  QGemmPackedB,  // builtins->qgemm_packed_b, int8 B packed at compile time
};

// An epilogue applied by generated code on finished blocks of a Conv2d / SgemmPackedB output:
// the program's input 0 is the kernel's own output element (addressed through the block
// pointer); its other inputs are indexed by the element's position in the output.
struct PlannedKernel {
  KernelKind kind = KernelKind::Op;
  std::string symbol;
  std::string node_name;
  std::string op;
  std::vector<artifact::LaunchArg> args;
  std::vector<int64_t> params;
  // Conv2d / SgemmPackedB: where each builtin buffer comes from (index into args, -1 = null).
  int x = -1, w = -1, bias = -1, y = -1;
  bool has_epilogue = false;
  EwProgram program;  // Elementwise: the whole kernel; Conv2d / SgemmPackedB: the epilogue
  uint32_t section = 0, chain = 0;  // see artifact::Launch
};

}  // namespace kiln::cpu_codegen
