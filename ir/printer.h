// Human-readable text form of a Graph (kilnc --print-after-all, tests, debugging) and
// Graphviz dot export.
#pragma once

#include <ostream>
#include <string>

namespace kiln {
class Graph;
struct Attribute;
void print_graph(std::ostream& os, const Graph& g);
std::string graph_to_text(const Graph& g);
std::string attribute_to_text(const Attribute& a);
void write_dot(std::ostream& os, const Graph& g);
}  // namespace kiln
