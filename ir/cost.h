// Static cost estimates for reports (kilnc inspect): multiply-accumulates per node.
#pragma once

#include <cstdint>
#include <optional>

namespace kiln {
class Node;
class Graph;
// MACs of one node, nullopt when its shapes are not static. Ops without products count 0.
std::optional<int64_t> estimate_macs(const Node& n);
// Sum over the graph; `*complete` is false when some node's shapes were not static.
int64_t estimate_graph_macs(const Graph& g, bool* complete);
}  // namespace kiln
