// Runs passes in order, with optional IR dumps and verification after each. Pipelines are
// data: a list of pass names, each with the one-line reason it is there.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "passes/pass.h"

namespace kiln {

struct PipelineEntry {
  std::string pass;
  std::string reason;
};

// The default pipeline of kilnc -O<level> (0..3); -O0 is empty.
std::vector<PipelineEntry> pipeline_for_opt_level(int level);

// Fails with the first structural or type problem: verify_graph, then every node's inferred
// output types against its values' declared types (dtype equal, static dims not contradicted).
void verify_graph_and_types(const Graph& g);

class PassManager {
 public:
  explicit PassManager(PassContext& ctx) : ctx_(ctx) {}
  void add(std::string_view pass_name);  // fails on an unknown name
  void add(std::unique_ptr<Pass> pass);
  void add_pipeline(const std::vector<PipelineEntry>& pipeline);
  // Runs every pass once, in order; true if any changed the graph. Verification failures
  // name the pass that broke the graph.
  bool run(Graph& g);

 private:
  PassContext& ctx_;
  std::vector<std::unique_ptr<Pass>> passes_;
};

// Shorthand: runs the named passes in order.
bool run_passes(Graph& g, const std::vector<std::string>& pass_names, PassContext& ctx);

}  // namespace kiln
