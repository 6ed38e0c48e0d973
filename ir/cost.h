// Static cost estimates for reports (kilnc inspect): multiply-accumulates per node.
#pragma once

#include <cstdint>
#include <optional>

namespace kiln {
class Node;
class Graph;
// MACs of one node, symbolic dims counted as 1; nullopt when a rank is unknown.
// Ops without products count 0.
std::optional<int64_t> estimate_macs(const Node& n);
// Sum over the graph; `*complete` is false when some shape was symbolic or unknown.
int64_t estimate_graph_macs(const Graph& g, bool* complete);
}  // namespace kiln
