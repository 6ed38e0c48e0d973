// Human-readable text form of a Graph (kilnc --print-after-all, tests, debugging) and
// Graphviz dot export.
#pragma once

#include <ostream>
#include <cstdint>
#include <string>

namespace kiln {
class Graph;
class Tensor;
struct Attribute;

// Constants and tensor attributes with at most this many elements print their values
// (` = [1, 2.5]`), so parse_graph (ir/parser.h) restores them exactly; larger ones print the
// type only and parse back as a deterministic fill pattern.
inline constexpr int64_t kMaxPrintedElements = 16;

void print_graph(std::ostream& os, const Graph& g);
std::string graph_to_text(const Graph& g);
std::string attribute_to_text(const Attribute& a);
// Pieces of the text form, shared with the parser's tests.
std::string float_to_text(float f);  // shortest exact form, always with '.', 'e', inf or nan
std::string quote_string(const std::string& s);  // "..." with C escapes
std::string name_to_text(const std::string& name);  // bare when safe, else quoted
std::string tensor_values_to_text(const Tensor& t);  // "[1, 2.5]"
void write_dot(std::ostream& os, const Graph& g);
}  // namespace kiln
