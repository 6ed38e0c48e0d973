#include "codegen/memory_plan.h"

#include <algorithm>
#include <unordered_set>

namespace kiln {

namespace {

uint64_t round_up(uint64_t n) {
  return (n + kArenaAlignment - 1) / kArenaAlignment * kArenaAlignment;
}

uint64_t value_bytes(const Value* v) {
  KILN_CHECK(v->type.shape.is_static(), "memory plan: value '", v->name(), "' has shape ",
             v->type.shape.to_string(), "; static planning needs static shapes");
  const size_t es = dtype_size(v->type.dtype);
  KILN_CHECK(es != 0, "memory plan: value '", v->name(), "' has dtype ", dtype_name(v->type.dtype),
             " with no fixed size");
  const int64_t n = checked_numel(v->type.shape.static_dims());
  KILN_CHECK(static_cast<uint64_t>(n) <= (uint64_t{1} << 50) / es, "memory plan: value '",
             v->name(), "' is too large");
  return static_cast<uint64_t>(n) * es;
}

// One buffer to place: a root value and the lifetime of it and all its aliases.
struct Buffer {
  const Value* root;
  uint64_t bytes;  // rounded up to the alignment
  int first, last;
  uint64_t offset = 0;
};

bool overlaps_in_time(const Buffer& a, const Buffer& b) {
  return a.first <= b.last && b.first <= a.last;
}

// Best fit: the smallest gap between already placed, time-overlapping buffers that holds `b`;
// the end of the highest of them if no gap does.
uint64_t best_fit_offset(const Buffer& b, const std::vector<const Buffer*>& placed) {
  std::vector<std::pair<uint64_t, uint64_t>> busy;  // [begin, end) in bytes
  for (const Buffer* p : placed) {
    if (overlaps_in_time(*p, b)) busy.push_back({p->offset, p->offset + p->bytes});
  }
  std::sort(busy.begin(), busy.end());
  uint64_t cursor = 0, best = UINT64_MAX, best_gap = UINT64_MAX;
  for (const auto& [begin, end] : busy) {
    if (begin > cursor && begin - cursor >= b.bytes && begin - cursor < best_gap) {
      best_gap = begin - cursor;
      best = cursor;
    }
    cursor = std::max(cursor, end);
  }
  return best != UINT64_MAX ? best : cursor;
}

}  // namespace

bool op_may_alias_input(OpKind op) {
  switch (op) {
    case OpKind::Reshape:
    case OpKind::Flatten:
    case OpKind::Squeeze:
    case OpKind::Unsqueeze:
    case OpKind::Identity:
      return true;
    default:
      return false;
  }
}

const ArenaSlot& MemoryPlan::slot(const Value* v) const {
  auto it = slots.find(v);
  KILN_CHECK(it != slots.end(), "memory plan: value '", v->name(), "' is not in the arena");
  return it->second;
}

MemoryPlan plan_memory(const Graph& g, const PlanSchedule* schedule) {
  std::unordered_set<const Value*> outside(g.inputs.begin(), g.inputs.end());
  outside.insert(g.outputs.begin(), g.outputs.end());

  MemoryPlan plan;
  std::unordered_map<const Value*, size_t> buffer_of;  // arena value -> index in `buffers`
  std::vector<Buffer> buffers;
  const auto& nodes = g.nodes();

  for (size_t i = 0; i < nodes.size(); ++i) {
    const Node* n = nodes[i].get();
    const int at = schedule ? schedule->step.at(i) : static_cast<int>(i);
    auto virtual_value = [&](const Value* v) {
      return schedule && schedule->unmaterialized.count(v) != 0;
    };
    for (const Value* in : n->inputs()) {
      if (!in || outside.count(in) || in->is_constant() || virtual_value(in)) continue;
      auto it = buffer_of.find(in);
      KILN_CHECK(it != buffer_of.end(), "memory plan: ", n->label(), " reads '", in->name(),
                 "' before it is produced (nodes are not in topological order)");
      buffers[it->second].last = std::max(buffers[it->second].last, at);
    }
    for (const Value* out : n->outputs()) {
      if (!out || outside.count(out) || virtual_value(out)) continue;
      const uint64_t bytes = value_bytes(out);
      plan.unshared_bytes += round_up(bytes);
      ArenaSlot slot;
      slot.bytes = bytes;
      const Value* src = n->input(0);
      if (op_may_alias_input(n->op) && src && buffer_of.count(src) && value_bytes(src) == bytes) {
        const size_t b = buffer_of.at(src);
        buffer_of[out] = b;
        slot.alias_of = plan.slots.at(src).alias_of ? plan.slots.at(src).alias_of : src;
      } else {
        buffer_of[out] = buffers.size();
        buffers.push_back({out, round_up(bytes), at, at});
      }
      plan.slots[out] = slot;
    }
  }

  // Largest first; ties by first use so the result does not depend on hash order.
  std::vector<Buffer*> order;
  for (Buffer& b : buffers) order.push_back(&b);
  std::stable_sort(order.begin(), order.end(), [](const Buffer* a, const Buffer* b) {
    return a->bytes != b->bytes ? a->bytes > b->bytes : a->first < b->first;
  });
  std::vector<const Buffer*> placed;
  for (Buffer* b : order) {
    b->offset = best_fit_offset(*b, placed);
    plan.arena_bytes = std::max(plan.arena_bytes, b->offset + b->bytes);
    placed.push_back(b);
  }
  for (auto& [v, slot] : plan.slots) {
    const Buffer& b = buffers[buffer_of.at(v)];
    slot.offset = b.offset;
    slot.first_node = b.first;
    slot.last_node = b.last;
  }
  return plan;
}

}  // namespace kiln
