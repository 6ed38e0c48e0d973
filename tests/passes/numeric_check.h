// The shared numeric check of the pass tests: parse a graph from text, run passes on a copy
// (verifying after each), and compare the copy with the original through the reference
// interpreter on seeded random inputs. Graph output names, dtypes and shapes must survive.
#pragma once

#include <gtest/gtest.h>

#include <cmath>
#include <map>
#include <random>
#include <string>
#include <vector>

#include "codegen/ref/interpreter.h"
#include "ir/parser.h"
#include "ir/printer.h"
#include "passes/pass_manager.h"

namespace kiln::test {

// Seeded values for every graph input: floats uniform in [-2, 2], integers in [0, 4), bools
// alternating. Symbolic dims take their size from `sym` (default 2).
inline std::map<std::string, Tensor> random_inputs(const Graph& g, uint32_t seed,
                                                   const std::map<std::string, int64_t>& sym = {}) {
  std::mt19937 rng(seed);
  std::uniform_real_distribution<double> real(-2.0, 2.0);
  std::map<std::string, Tensor> inputs;
  for (const Value* v : g.inputs) {
    Dims dims;
    for (const Dim& d : v->type.shape.dims) {
      auto it = sym.find(d.symbol);
      dims.push_back(d.is_static() ? d.value : it != sym.end() ? it->second : 2);
    }
    Tensor t(v->type.dtype, dims);
    dispatch_dtype(t.dtype(), "random_inputs", [&]<typename T>() {
      T* p = t.data<T>();
      for (int64_t i = 0; i < t.numel(); ++i) {
        if constexpr (std::is_same_v<T, bool>) {
          p[i] = (i % 2) == 0;
        } else if constexpr (std::is_integral_v<T>) {
          p[i] = static_cast<T>(rng() % 4);
        } else {
          p[i] = static_cast<T>(static_cast<float>(real(rng)));
        }
      }
    });
    inputs.emplace(v->name(), std::move(t));
  }
  return inputs;
}

// True when |a - b| <= atol + rtol * |b| everywhere (NaN matches NaN); rtol = atol = 0 asks
// for identical bytes.
inline ::testing::AssertionResult outputs_match(const Tensor& a, const Tensor& b, double rtol,
                                                double atol) {
  if (a.dtype() != b.dtype() || a.dims() != b.dims())
    return ::testing::AssertionFailure() << a.describe() << " vs " << b.describe();
  if (rtol == 0 && atol == 0)
    return a.bytes_equal(b) ? ::testing::AssertionSuccess()
                            : ::testing::AssertionFailure() << "bytes differ";
  for (int64_t i = 0; i < a.numel(); ++i) {
    const double x = a.as_double(i), y = b.as_double(i);
    if (std::isnan(x) && std::isnan(y)) continue;
    if (!(std::fabs(x - y) <= atol + rtol * std::fabs(y)))
      return ::testing::AssertionFailure() << "element " << i << ": " << x << " vs " << y;
  }
  return ::testing::AssertionSuccess();
}

struct PassCheck {
  std::unique_ptr<Graph> graph;  // after the passes
  std::string text;              // graph_to_text of it
  PassContext ctx;               // the report
  bool changed = false;
};

// Runs `passes` on `text` (types inferred) and checks the result against the original on
// `trials` random input sets. Exact by default; fusions that change rounding pass a tolerance.
inline PassCheck check_passes(const std::string& text, const std::vector<std::string>& passes,
                              double rtol = 0, double atol = 0, int trials = 3,
                              const std::map<std::string, int64_t>& sym = {}) {
  PassCheck r;
  const std::unique_ptr<Graph> original = parse_graph(text, /*infer=*/true);
  r.graph = parse_graph(text, /*infer=*/true);
  r.ctx.verify_after_each = true;
  r.changed = run_passes(*r.graph, passes, r.ctx);
  r.text = graph_to_text(*r.graph);
  EXPECT_EQ(original->outputs.size(), r.graph->outputs.size());
  for (size_t i = 0; i < original->outputs.size() && i < r.graph->outputs.size(); ++i) {
    const Value* a = original->outputs[i];
    const Value* b = r.graph->outputs[i];
    EXPECT_EQ(a->name(), b->name());
    EXPECT_EQ(a->type.to_string(), b->type.to_string()) << a->name();
  }
  for (int t = 0; t < trials; ++t) {
    const auto inputs = random_inputs(*original, 1234u + static_cast<uint32_t>(t), sym);
    const auto want = Interpreter(*original).run(inputs);
    const auto got = Interpreter(*r.graph).run(inputs);
    for (const auto& [name, w] : want) {
      auto it = got.find(name);
      if (it == got.end()) {
        ADD_FAILURE() << "output '" << name << "' disappeared";
        continue;
      }
      EXPECT_TRUE(outputs_match(it->second, w, rtol, atol)) << name << " (trial " << t << ")";
    }
  }
  return r;
}

inline std::vector<std::string> op_names(const Graph& g) {
  std::vector<std::string> ops;
  for (const auto& n : g.nodes()) ops.emplace_back(op_name(n->op));
  return ops;
}

// The report lines of one pass, "pass: line" each.
inline std::vector<std::string> report_lines(const PassContext& ctx) {
  std::vector<std::string> lines;
  for (const PassReport& r : ctx.report)
    for (const auto& l : r.changes) lines.push_back(r.pass + ": " + l);
  return lines;
}

}  // namespace kiln::test
