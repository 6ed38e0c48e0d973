// Runs one op on concrete tensors: infers output types from the inputs, then calls the
// reference kernel. Used by the reference interpreter and by constant folding.
#pragma once

#include <vector>

#include "runtime/kernels/ref/kernel.h"

namespace kiln {

struct OpCall {
  OpKind op;
  int opset = 0;
  const Attributes* attrs = nullptr;
  std::string node_name;
  std::vector<const Tensor*> inputs;  // nullptr = absent optional
  size_t num_outputs = 1;
  KernelFn kernel = nullptr;  // nullptr = the reference kernel
  ThreadPool* pool = nullptr;  // handed to the kernel (KernelContext::pool)
  std::vector<void*> output_storage;  // KernelContext::output_storage
  // The output types when the caller knows them (a compiled plan's); else they are inferred.
  const std::vector<ValueType>* output_types = nullptr;
};

// Returns one tensor per output; an output the kernel skipped is left undefined.
std::vector<Tensor> evaluate_op(const OpCall& call);

}  // namespace kiln
