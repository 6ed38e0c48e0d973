// Copying a Graph with optional per-node rewrites: the training graph and the exported
// inference graph are both derived from the model's Graph this way.
#pragma once

#include <functional>
#include <vector>

#include "ir/graph.h"

namespace kiln::train {

// Gets a source node and its inputs/outputs mapped into `dst`; returns true if it added nodes
// producing those outputs itself, false to have the node copied as is.
using NodeRewrite = std::function<bool(const Node& src, Graph& dst, const std::vector<Value*>& ins,
                                       const std::vector<Value*>& outs)>;

// Copies every value (name, type, constant; tensors alias the same bytes), the inputs, the
// outputs and the nodes of `src` into the empty graph `dst`.
void copy_graph(const Graph& src, Graph& dst, const NodeRewrite& rewrite = {});

}  // namespace kiln::train
