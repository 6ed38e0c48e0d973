// Structural checks on a Graph: every input defined before use, arity within the op table,
// graph outputs produced, no cycles. Fails with the first problem, naming node and value.
#pragma once

namespace kiln {
class Graph;
void verify_graph(const Graph& g);
}  // namespace kiln
