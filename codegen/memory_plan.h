// Static memory planning: places every intermediate value of a graph in one activation arena,
// reusing bytes between values whose lifetimes do not overlap.
//
// Graph inputs, graph outputs and constants are not in the arena (the caller, the session's
// output buffers and the weights section hold them). A value's lifetime runs from its producer
// to its last consumer, both inclusive (a node reads its inputs while writing its outputs, so
// they never share bytes). Outputs of view ops (Reshape, Flatten, Squeeze, Unsqueeze, Identity)
// alias their input's buffer when that input is itself in the arena; the shared buffer lives
// until the last use of any alias. Buffers are placed greedily, largest first, each into the
// best-fitting gap among the already placed buffers it overlaps in time.
#pragma once

#include <cstdint>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "ir/graph.h"

namespace kiln {

inline constexpr uint64_t kArenaAlignment = 64;

struct ArenaSlot {
  uint64_t offset = 0;              // 64-byte aligned
  uint64_t bytes = 0;               // the value's own size (its buffer may be larger for aliases)
  const Value* alias_of = nullptr;  // the value whose buffer this one shares; nullptr if its own
  int first_node = 0;               // lifetime of the buffer, as node indices, inclusive
  int last_node = 0;
};

struct MemoryPlan {
  std::unordered_map<const Value*, ArenaSlot> slots;  // every value in the arena
  uint64_t arena_bytes = 0;
  uint64_t unshared_bytes = 0;  // what one buffer per value (no reuse, no aliasing) would take

  bool in_arena(const Value* v) const { return slots.count(v) != 0; }
  const ArenaSlot& slot(const Value* v) const;  // fails if v is not in the arena
};

// When a code generator fuses nodes, a node's work happens at its fused group's launch, not at
// its own position: `step[i]` is when node i runs (non-decreasing along every edge; empty: node
// i at i), and values in `unmaterialized` (a fused group's internal results) get no bytes.
//
// `in_place` offers, per node, one of its inputs whose buffer its output may take over (a
// kernel that reads each input element before writing the same output element, such as a
// conv adding its residual while storing): the plan shares them when the input's buffer has
// no reader after the node (nor another reader at the node's step) and both have the same size.
struct PlanSchedule {
  std::vector<int> step;
  std::unordered_set<const Value*> unmaterialized;
  std::unordered_map<const Node*, const Value*> in_place;
};

// Plans `g`, whose nodes must be in topological order and whose arena values have static
// shapes; fails naming the first value that has none. `schedule` may be null (node i runs at i).
MemoryPlan plan_memory(const Graph& g, const PlanSchedule* schedule = nullptr);

// True for ops whose output may share its first input's buffer.
bool op_may_alias_input(OpKind op);

}  // namespace kiln
