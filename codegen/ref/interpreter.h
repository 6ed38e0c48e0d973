// Runs a Graph with the reference kernels, one node at a time, freeing each intermediate
// after its last use. The `--backend ref` of kilnc and the oracle for model-level tests.
// On request (InterpreterOptions::cpu_kernels) it runs the optimized CPU kernels where an op
// has one (runtime/kernels/cpu/kernel_table.h), splitting their work over a thread pool: the
// trainer's fast path. The default stays pure reference.
#pragma once

#include <map>
#include <string>
#include <vector>

#include "ir/graph.h"

namespace kiln {

class ThreadPool;

struct InterpreterOptions {
  bool cpu_kernels = false;     // use cpu_kernel(op) where there is one
  ThreadPool* pool = nullptr;   // handed to the kernels (only the optimized ones use it)
  // When set, each node's wall time is added to (*op_seconds)[op name]: a per-op profile.
  std::map<std::string, double>* op_seconds = nullptr;
};

class Interpreter {
 public:
  explicit Interpreter(const Graph& g, InterpreterOptions options = {});
  // Inputs by graph-input name; checks dtype and static dims against the declared type.
  std::map<std::string, Tensor> run(const std::map<std::string, Tensor>& inputs) const;

 private:
  const Graph& g_;
  InterpreterOptions options_;
};

// Fails unless `t` fits `decl` (dtype; rank and static dims; symbolic dims accept anything).
void check_tensor_matches(const std::string& what, const Tensor& t, const ValueType& decl);

}  // namespace kiln
