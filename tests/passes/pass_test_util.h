// Helpers for pass tests: the op sequence of a graph, and an interpreter run to compare
// outputs before and after a pass bit for bit.
#pragma once

#include <gtest/gtest.h>

#include <map>
#include <string>
#include <vector>

#include "codegen/ref/interpreter.h"
#include "ir/graph.h"
#include "ir/infer.h"
#include "passes/pass_manager.h"
#include "passes/registry.h"

namespace kiln::test {

inline std::vector<std::string> op_sequence(const Graph& g) {
  std::vector<std::string> ops;
  for (const auto& n : g.nodes()) ops.emplace_back(op_name(n->op));
  return ops;
}

inline std::vector<std::string> output_names(const Graph& g) {
  std::vector<std::string> names;
  for (const Value* v : g.outputs) names.push_back(v->name());
  return names;
}

// Infers the graph's types (as the compiler does before any pass), runs `pass` with
// verification on, and checks the interpreter's outputs are bit-identical.
// Returns what the pass returned.
inline bool run_pass_checked(Graph& g, const std::string& pass,
                             const std::map<std::string, Tensor>& inputs,
                             PassContext* ctx_out = nullptr) {
  infer_shapes(g);
  const std::map<std::string, Tensor> before = Interpreter(g).run(inputs);
  PassContext local;
  PassContext& ctx = ctx_out ? *ctx_out : local;
  ctx.verify_after_each = true;
  const bool changed = run_passes(g, {pass}, ctx);
  const std::map<std::string, Tensor> after = Interpreter(g).run(inputs);
  EXPECT_EQ(before.size(), after.size());
  for (const auto& [name, t] : before) {
    auto it = after.find(name);
    if (it == after.end()) {
      ADD_FAILURE() << "output '" << name << "' disappeared";
      continue;
    }
    EXPECT_TRUE(it->second.bytes_equal(t)) << name << ": " << it->second.describe() << " vs "
                                           << t.describe();
  }
  return changed;
}

inline Tensor f32(Dims dims, std::vector<float> v) { return Tensor::from_vector<float>(v, std::move(dims)); }
inline Tensor i64(Dims dims, std::vector<int64_t> v) {
  return Tensor::from_vector<int64_t>(v, std::move(dims));
}

}  // namespace kiln::test
