// Facts about nodes that several passes need: determinism, Dropout's mode, attribute equality.
#pragma once

namespace kiln {

class Node;
struct Attribute;
class Attributes;

// True when running the node twice on the same inputs may give different results: Dropout
// that may be in training mode, and the random ops (RandomNormal/Uniform[Like], Multinomial,
// Bernoulli) should they join the op table. Such nodes are neither folded nor merged.
bool is_nondeterministic(const Node& n);

// Dropout that is known to copy its input: inference mode (no training_mode input, or a
// constant false one; always before opset 12) or a constant ratio of 0.
bool is_inference_dropout(const Node& n);

// Value equality (floats compared bitwise, so NaN == NaN and 0.0 != -0.0; subgraphs by identity).
bool attributes_equal(const Attributes& a, const Attributes& b);

}  // namespace kiln
