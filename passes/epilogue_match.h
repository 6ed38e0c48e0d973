// Matching the epilogue of a Conv / MatMul chain for the fusion passes: the residual Add and
// the activation that KilnFusedConv / KilnFusedMatMul absorb (ir/infer/fused_activation.h).
#pragma once

#include "ir/graph.h"

namespace kiln {

bool is_float_dtype(DType d);

// When `n` is an activation the fused ops support, sets `activation` (and
// `activation_alpha` / `activation_beta` where the op has parameters) in `attrs` and returns
// true. Clip needs constant scalar bounds (or the opset-6 attributes).
bool match_activation(const Graph& g, const Node& n, Attributes& attrs);

// For an Add `n` reading `cur`: the other operand, when adding it keeps cur's dtype and shape
// (`same_shape`: the operand must also have exactly cur's shape, as KilnFusedConv's Z does).
Value* residual_operand(const Node& n, const Value* cur, bool same_shape);

}  // namespace kiln
