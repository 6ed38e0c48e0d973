// Reverse-mode differentiation of a Graph: builds the backward graph from the per-op gradient
// rules (train/gradient_rules.h) and appends it to the same Graph.
#pragma once

#include <vector>

#include "ir/graph.h"

namespace kiln::train {

// Appends to `g` nodes computing d(loss)/d(wrt[i]) for each i and returns those values, in
// order. `loss` must be a float value with one element. A value the loss does not depend on
// gets a zero gradient. Fails naming the node when an op on the path has no gradient rule.
// The graph's types are (re)inferred first; backward nodes use opset >= 13 forms.
std::vector<Value*> differentiate(Graph& g, Value* loss, const std::vector<Value*>& wrt);

}  // namespace kiln::train
