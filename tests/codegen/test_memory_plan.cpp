// The static memory planner: no two simultaneously live buffers overlap (checked exhaustively
// on random graphs), bytes are reused, view ops alias, graph I/O and constants stay outside.
#include <gtest/gtest.h>

#include <random>

#include "codegen/memory_plan.h"

namespace kiln {
namespace {

Value* val(Graph& g, const std::string& name, Dims dims, DType t = DType::F32) {
  return g.add_value(name, ValueType::of(t, dims));
}

// Lifetime [producer, last consumer] of v, computed independently of the planner.
std::pair<int, int> lifetime(const Graph& g, const Value* v) {
  int first = -1, last = -1;
  for (size_t i = 0; i < g.nodes().size(); ++i) {
    const Node* n = g.nodes()[i].get();
    for (const Value* o : n->outputs())
      if (o == v) first = last = static_cast<int>(i);
    for (const Value* in : n->inputs())
      if (in == v) last = static_cast<int>(i);
  }
  return {first, last};
}

const Value* root_of(const MemoryPlan& p, const Value* v) {
  const ArenaSlot& s = p.slot(v);
  return s.alias_of ? s.alias_of : v;
}

// Every pair of arena values alive at the same node, and not aliases of one buffer, must
// occupy disjoint bytes; every slot is aligned and inside the arena.
void check_no_overlap(const Graph& g, const MemoryPlan& p) {
  std::vector<const Value*> vals;
  for (const auto& v : g.values())
    if (p.in_arena(v.get())) vals.push_back(v.get());
  // A buffer lives from its root's producer to the last use of any alias.
  std::unordered_map<const Value*, std::pair<int, int>> live;
  for (const Value* v : vals) {
    auto [f, l] = lifetime(g, v);
    auto& r = live.try_emplace(root_of(p, v), f, l).first->second;
    r.first = std::min(r.first, f);
    r.second = std::max(r.second, l);
  }
  for (const Value* v : vals) {
    const ArenaSlot& s = p.slot(v);
    ASSERT_EQ(s.offset % kArenaAlignment, 0u) << v->name();
    ASSERT_LE(s.offset + s.bytes, p.arena_bytes) << v->name();
  }
  for (size_t i = 0; i < vals.size(); ++i) {
    for (size_t j = i + 1; j < vals.size(); ++j) {
      const Value *a = vals[i], *b = vals[j];
      if (root_of(p, a) == root_of(p, b)) {
        EXPECT_EQ(p.slot(a).offset, p.slot(b).offset);
        continue;
      }
      const auto la = live.at(root_of(p, a)), lb = live.at(root_of(p, b));
      if (la.first > lb.second || lb.first > la.second) continue;  // never alive together
      const ArenaSlot &sa = p.slot(a), &sb = p.slot(b);
      const bool disjoint = sa.offset + sa.bytes <= sb.offset || sb.offset + sb.bytes <= sa.offset;
      EXPECT_TRUE(disjoint) << a->name() << " [" << sa.offset << "+" << sa.bytes << "] and "
                            << b->name() << " [" << sb.offset << "+" << sb.bytes << "]";
    }
  }
}

TEST(MemoryPlan, ChainReusesBuffers) {
  Graph g;
  Value* x = val(g, "x", {256});
  g.inputs = {x};
  Value* prev = x;
  for (int i = 0; i < 6; ++i) {
    Value* v = val(g, "v" + std::to_string(i), {256});
    g.add_node(OpKind::Relu, {prev}, {v});
    prev = v;
  }
  Value* y = val(g, "y", {256});
  g.add_node(OpKind::Relu, {prev}, {y});
  g.outputs = {y};
  const MemoryPlan p = plan_memory(g);
  check_no_overlap(g, p);
  EXPECT_EQ(p.slots.size(), 6u);
  EXPECT_EQ(p.unshared_bytes, 6u * 1024);
  EXPECT_EQ(p.arena_bytes, 2u * 1024) << "a chain needs two buffers, ping-pong";
  EXPECT_FALSE(p.in_arena(x));
  EXPECT_FALSE(p.in_arena(y));
}

TEST(MemoryPlan, ViewOpsAliasTheirInput) {
  Graph g;
  Value* x = val(g, "x", {4, 8});
  g.inputs = {x};
  Value* shape = g.add_constant("shape", Tensor::from_vector<int64_t>({32}, {1}));
  Value* a = val(g, "a", {4, 8});
  Value* r = val(g, "r", {32});
  Value* u = val(g, "u", {1, 32});
  Value* b = val(g, "b", {32});
  Value* y = val(g, "y", {32});
  g.add_node(OpKind::Relu, {x}, {a});
  g.add_node(OpKind::Reshape, {a, shape}, {r});
  g.add_node(OpKind::Unsqueeze, {r}, {u});
  g.add_node(OpKind::Relu, {x}, {b});  // while u is alive: must not take a's bytes
  g.add_node(OpKind::Add, {u, b}, {y});
  g.outputs = {y};
  const MemoryPlan p = plan_memory(g);
  check_no_overlap(g, p);
  EXPECT_FALSE(p.in_arena(shape));
  EXPECT_EQ(p.slot(r).alias_of, a);
  EXPECT_EQ(p.slot(u).alias_of, a) << "aliases of aliases point at the buffer's owner";
  EXPECT_EQ(p.slot(u).offset, p.slot(a).offset);
  EXPECT_EQ(p.slot(a).last_node, 4) << "the buffer lives until its last alias's use";
  EXPECT_EQ(p.arena_bytes, 256u);
}

// In-place offers (PlanSchedule::in_place): an output takes over the offered input's buffer
// when no node reads that buffer later or at the same step, nothing else the node reads lives
// there, and the sizes match.
TEST(MemoryPlan, InPlaceOffersTakeTheInputsBuffer) {
  struct Variant {
    const char* what;
    bool later_reader, same_step_reader, other_size, read_twice;
  };
  for (const Variant& c : {Variant{"plain", false, false, false, false},
                           Variant{"read later", true, false, false, false},
                           Variant{"read at the same step", false, true, false, false},
                           Variant{"other size", false, false, true, false},
                           Variant{"read twice by the node", false, false, false, true}}) {
    SCOPED_TRACE(c.what);
    const bool shared = !c.later_reader && !c.same_step_reader && !c.other_size && !c.read_twice;
    Graph g;
    Value* x = val(g, "x", {64});
    g.inputs = {x};
    Value* a = val(g, "a", {c.other_size ? 32 : 64});
    Value* b = val(g, "b", {64});
    Value* s = val(g, "s", {64});
    Value* t = val(g, "t", {64});
    Value* y = val(g, "y", {64});
    g.add_node(OpKind::Relu, {x}, {a});                                      // 0
    g.add_node(OpKind::Relu, {x}, {b});                                      // 1
    Node* sum = g.add_node(OpKind::Add, {c.read_twice ? a : b, a}, {s});     // 2: offered a
    g.add_node(OpKind::Add, {s, c.later_reader || c.same_step_reader ? a : b}, {t});  // 3
    g.add_node(OpKind::Add, {t, s}, {y});                                    // 4
    g.outputs = {y};
    PlanSchedule sched;
    if (c.same_step_reader) sched.step = {0, 1, 2, 2, 4};  // node 3 fused into node 2's launch
    sched.in_place[sum] = a;
    const MemoryPlan p = plan_memory(g, &sched);
    check_no_overlap(g, p);
    if (shared) {
      EXPECT_EQ(p.slot(s).alias_of, a);
      EXPECT_EQ(p.slot(s).offset, p.slot(a).offset);
      EXPECT_EQ(p.slot(a).last_node, 4) << "the buffer now lives until s's last reader";
    } else {
      EXPECT_EQ(p.slot(s).alias_of, nullptr);
    }
  }
}

// A chain of in-place offers (each input's last reader): all share the first buffer.
TEST(MemoryPlan, InPlaceChainSharesOneBuffer) {
  Graph g;
  Value* x = val(g, "x", {64});
  g.inputs = {x};
  Value* r = val(g, "r", {64});
  g.add_node(OpKind::Relu, {x}, {r});
  PlanSchedule sched;
  Value* cur = r;
  for (int i = 0; i < 4; ++i) {
    Value* side = val(g, "side" + std::to_string(i), {64});
    g.add_node(OpKind::Relu, {x}, {side});
    Value* out = val(g, "c" + std::to_string(i), {64});
    sched.in_place[g.add_node(OpKind::Add, {side, cur}, {out})] = cur;
    cur = out;
  }
  Value* y = val(g, "y", {64});
  g.add_node(OpKind::Relu, {cur}, {y});
  g.outputs = {y};
  const MemoryPlan p = plan_memory(g, &sched);
  check_no_overlap(g, p);
  for (int i = 0; i < 4; ++i) {
    const Value* c = g.find_value("c" + std::to_string(i));
    ASSERT_TRUE(c);
    EXPECT_EQ(p.slot(c).alias_of, r) << c->name();
    EXPECT_EQ(p.slot(c).offset, p.slot(r).offset);
  }
  EXPECT_EQ(p.slot(r).last_node, 9);
}

TEST(MemoryPlan, NoAliasOfGraphInputsOrOutputs) {
  Graph g;
  Value* x = val(g, "x", {8});
  g.inputs = {x};
  Value* i = val(g, "i", {8});
  Value* y = val(g, "y", {8});
  g.add_node(OpKind::Identity, {x}, {i});  // x is the caller's: i gets its own buffer
  g.add_node(OpKind::Identity, {i}, {y});  // y is an output: outside the arena
  g.outputs = {y};
  const MemoryPlan p = plan_memory(g);
  EXPECT_EQ(p.slot(i).alias_of, nullptr);
  EXPECT_FALSE(p.in_arena(y));
}

TEST(MemoryPlan, FailsWithoutStaticShapes) {
  Graph g;
  Value* x = val(g, "x", {8});
  g.inputs = {x};
  Value* t = g.add_value("t", ValueType{DType::F32, Shape::of_rank(1), {}});
  Value* y = val(g, "y", {8});
  g.add_node(OpKind::Relu, {x}, {t});
  g.add_node(OpKind::Relu, {t}, {y});
  g.outputs = {y};
  try {
    plan_memory(g);
    FAIL() << "planned a value without a static shape";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("value 't' has shape [?]"), std::string::npos) << e.what();
  }
}

// Random DAGs: each node takes 1-3 earlier values (inputs, constants or intermediates), some
// nodes are views; random sizes and dtypes. Checks every pair of values exhaustively.
TEST(MemoryPlan, RandomGraphsNeverOverlap) {
  std::mt19937 rng(1234);
  uint64_t total_arena = 0, total_unshared = 0;
  int offers_taken = 0;
  for (int trial = 0; trial < 200; ++trial) {
    Graph g;
    std::vector<Value*> pool;
    const int num_inputs = 1 + static_cast<int>(rng() % 3);
    for (int i = 0; i < num_inputs; ++i) {
      Value* in = val(g, "in" + std::to_string(i), {1 + static_cast<int64_t>(rng() % 100)});
      g.inputs.push_back(in);
      pool.push_back(in);
    }
    pool.push_back(g.add_constant("c", Tensor::from_vector<float>({1, 2}, {2})));
    const int num_nodes = 2 + static_cast<int>(rng() % 40);
    std::unordered_map<const Node*, const Value*> offers;
    for (int n = 0; n < num_nodes; ++n) {
      const std::string name = "v" + std::to_string(n);
      const int kind = static_cast<int>(rng() % 5);
      Value* src = pool[rng() % pool.size()];
      if (kind == 0) {  // a view of an earlier value: same bytes
        Value* out = val(g, name, {checked_numel(src->type.shape.static_dims())}, src->type.dtype);
        g.add_node(rng() % 2 ? OpKind::Reshape : OpKind::Identity, {src}, {out});
        pool.push_back(out);
        continue;
      }
      std::vector<Value*> ins = {src};
      const int extra = static_cast<int>(rng() % 3);
      for (int e = 0; e < extra; ++e) ins.push_back(pool[rng() % pool.size()]);
      const int outs = 1 + (rng() % 4 == 0);
      // Sometimes an in-place offer of the first input, mostly with an output of its size.
      const bool offer = outs == 1 && rng() % 3 == 0, same_size = offer && rng() % 4 != 0;
      std::vector<Value*> out_vals;
      for (int o = 0; o < outs; ++o) {
        const DType t = rng() % 3 == 0 ? DType::I8 : DType::F32;
        out_vals.push_back(
            same_size ? val(g, name + "_0", src->type.shape.static_dims(), src->type.dtype)
                      : val(g, name + "_" + std::to_string(o),
                            {1 + static_cast<int64_t>(rng() % 500)}, t));
      }
      Node* node = g.add_node(OpKind::Add, ins, out_vals);  // op semantics do not matter
      if (offer) offers[node] = ins[0];
      for (Value* v : out_vals) pool.push_back(v);
    }
    // A few outputs, among them sometimes a view.
    for (int o = 0; o < 2; ++o) {
      Value* v =
          pool[pool.size() - 1 -
               static_cast<size_t>(rng() % std::min<size_t>(pool.size() - num_inputs - 1, 5))];
      if (!v->is_constant() &&
          std::find(g.outputs.begin(), g.outputs.end(), v) == g.outputs.end() &&
          std::find(g.inputs.begin(), g.inputs.end(), v) == g.inputs.end()) {
        g.outputs.push_back(v);
      }
    }
    PlanSchedule sched;
    sched.in_place = offers;
    const MemoryPlan p = plan_memory(g, &sched);
    check_no_overlap(g, p);
    // A taken offer: nothing that lived in the buffer before the node is read after it, and
    // the node reads the buffer only through the offered input.
    const auto& nodes = g.nodes();
    for (size_t i = 0; i < nodes.size(); ++i) {
      const auto offer = offers.find(nodes[i].get());
      if (offer == offers.end()) continue;
      const Value *in = offer->second, *out = nodes[i]->output(0);
      if (!p.in_arena(in) || !p.in_arena(out) || root_of(p, in) != root_of(p, out)) continue;
      ++offers_taken;
      int in_reads = 0;
      for (const Value* r : nodes[i]->inputs())
        if (r && p.in_arena(r) && root_of(p, r) == root_of(p, in)) ++in_reads;
      EXPECT_EQ(in_reads, 1) << "trial " << trial << " node " << i;
      for (size_t j = i + 1; j < nodes.size(); ++j)
        for (const Value* r : nodes[j]->inputs())
          if (r && p.in_arena(r) && root_of(p, r) == root_of(p, in) &&
              lifetime(g, r).first < static_cast<int>(i))
            ADD_FAILURE() << "trial " << trial << ": node " << j << " reads " << r->name()
                          << " after node " << i << " took its buffer in place";
    }
    for (const Value* v : g.inputs) EXPECT_FALSE(p.in_arena(v));
    for (const Value* v : g.outputs) EXPECT_FALSE(p.in_arena(v));
    EXPECT_LE(p.arena_bytes, p.unshared_bytes);
    total_arena += p.arena_bytes;
    total_unshared += p.unshared_bytes;
    if (HasFailure()) {
      ADD_FAILURE() << "trial " << trial;
      return;
    }
  }
  EXPECT_LT(total_arena * 10, total_unshared * 7) << "reuse saves under 30% on random graphs";
  EXPECT_GT(offers_taken, 20) << "the random graphs barely exercise in-place offers";
}

}  // namespace
}  // namespace kiln
