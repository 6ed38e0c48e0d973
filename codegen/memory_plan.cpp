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
  int last_reader = -1;       // the node reading it at step `last` (-1: none, or its producer)
  bool shared_last = false;   // another node reads it at that step too
  bool merged = false;        // taken over by another buffer (in place): not placed
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

// The first input slot of `n` that reads `v`.
int input_index_of(const Node* n, const Value* v) {
  for (size_t k = 0; k < n->inputs().size(); ++k)
    if (n->input(static_cast<int>(k)) == v) return static_cast<int>(k);
  return -1;
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
    const int at = schedule && !schedule->step.empty() ? schedule->step.at(i)
                                                       : static_cast<int>(i);
    auto virtual_value = [&](const Value* v) {
      return schedule && schedule->unmaterialized.count(v) != 0;
    };
    for (const Value* in : n->inputs()) {
      if (!in || outside.count(in) || in->is_constant() || virtual_value(in)) continue;
      auto it = buffer_of.find(in);
      KILN_CHECK(it != buffer_of.end(), "memory plan: ", n->label(), " reads '", in->name(),
                 "' before it is produced (nodes are not in topological order)");
      Buffer& b = buffers[it->second];
      if (at > b.last || b.last_reader < 0) {
        b.last = std::max(b.last, at);
        b.last_reader = static_cast<int>(i);
        b.shared_last = false;
      } else if (at == b.last && b.last_reader != static_cast<int>(i)) {
        b.shared_last = true;
      }
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

  // In place: an output takes over the offered input's buffer (the buffer then lives until the
  // output's last use). In node order, so a chain of in-place nodes shares one buffer.
  if (schedule && !schedule->in_place.empty()) {
    for (size_t i = 0; i < nodes.size(); ++i) {
      const Node* n = nodes[i].get();
      const auto offer = schedule->in_place.find(n);
      if (offer == schedule->in_place.end()) continue;
      const Value *in = offer->second, *out = n->output(0);
      const int at = schedule->step.empty() ? static_cast<int>(i) : schedule->step.at(i);
      if (!out || !buffer_of.count(in) || !buffer_of.count(out)) continue;
      if (value_bytes(in) != value_bytes(out) || plan.slots.at(out).alias_of) continue;
      const size_t bi = buffer_of.at(in), bo = buffer_of.at(out);
      Buffer& keep = buffers[bi];
      Buffer& gone = buffers[bo];
      if (bi == bo || keep.last != at || keep.last_reader != static_cast<int>(i) ||
          keep.shared_last)
        continue;
      bool read_otherwise = false;  // the node's other inputs must not live in that buffer
      for (size_t k = 0; k < n->inputs().size(); ++k) {
        const Value* v = n->input(static_cast<int>(k));
        if (v && v != in && buffer_of.count(v) && buffer_of.at(v) == bi) read_otherwise = true;
        if (v == in && k != static_cast<size_t>(input_index_of(n, in))) read_otherwise = true;
      }
      if (read_otherwise) continue;
      keep.last = gone.last;
      keep.last_reader = gone.last_reader;
      keep.shared_last = gone.shared_last;
      gone.merged = true;
      for (auto& [v, b] : buffer_of) {
        if (b != bo) continue;
        b = bi;
        plan.slots[v].alias_of = keep.root;
      }
    }
  }

  // Largest first; ties by first use so the result does not depend on hash order.
  std::vector<Buffer*> order;
  for (Buffer& b : buffers)
    if (!b.merged) order.push_back(&b);
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
