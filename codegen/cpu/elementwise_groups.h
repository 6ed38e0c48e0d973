// Fusion of f32 elementwise chains for the CPU code generator: which nodes the generated code
// can compute per element, how they group into one loop (a tree of nodes whose inner results
// have no other use), and the schedule the memory planner needs (a group runs at its root).
#pragma once

#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "codegen/cpu/kernel_plan.h"
#include "codegen/memory_plan.h"
#include "ir/graph.h"

namespace kiln::cpu_codegen {

struct GroupSpec {
  std::vector<const Value*> inputs;  // program inputs, in operand order
  std::vector<EwStep> steps;         // the last one produces the root's output
  int nodes = 0;
};

struct ElementwiseGroups {
  std::unordered_map<const Node*, GroupSpec> root_of;  // keyed by the group's root node
  std::unordered_set<const Node*> member_of;           // non-root members
  PlanSchedule schedule;
};

// Every supported f32 elementwise node becomes a group (alone or with its fused producers).
ElementwiseGroups find_elementwise_groups(const Graph& g);

// The step computing `op` with the parameters in `attrs` (activation attributes of a fused op
// use activation_alpha / activation_beta, see ir/infer/fused_activation.h).
EwStep activation_step(OpKind op, const Attributes& fused_attrs);

std::vector<int64_t> contiguous_strides(const Dims& dims);
// Strides of an input of dims `in` broadcast (numpy rules) to `out`: 0 along broadcast dims.
std::vector<int64_t> broadcast_strides(const Dims& in, const Dims& out);

}  // namespace kiln::cpu_codegen
