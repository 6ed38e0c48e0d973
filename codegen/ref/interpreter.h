// Runs a Graph with the reference kernels, one node at a time, freeing each intermediate
// after its last use. The `--backend ref` of kilnc and the oracle for model-level tests.
#pragma once

#include <map>
#include <string>
#include <vector>

#include "ir/graph.h"

namespace kiln {

class Interpreter {
 public:
  explicit Interpreter(const Graph& g);
  // Inputs by graph-input name; checks dtype and static dims against the declared type.
  std::map<std::string, Tensor> run(const std::map<std::string, Tensor>& inputs) const;

 private:
  const Graph& g_;
};

// Fails unless `t` fits `decl` (dtype; rank and static dims; symbolic dims accept anything).
void check_tensor_matches(const std::string& what, const Tensor& t, const ValueType& decl);

}  // namespace kiln
