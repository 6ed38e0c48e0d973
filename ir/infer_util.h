// Helpers shared by the per-op inference functions.
#pragma once

#include <optional>
#include <vector>

#include "ir/infer.h"

namespace kiln {

// Normalizes a possibly negative axis against `rank`; fails if out of [-rank, rank).
int64_t normalize_axis(const InferContext& ctx, int64_t axis, int64_t rank);

// Numpy-style multidirectional broadcast of two shapes (symbolic dims broadcast when equal).
Shape broadcast_shapes(const InferContext& ctx, const Shape& a, const Shape& b);

// Output 0 = same dtype and shape as input `i`.
void same_as_input(InferContext& ctx, size_t i = 0);

// An int64 list from a constant input (e.g. Reshape's shape); nullopt when not known.
std::optional<std::vector<int64_t>> const_ints(const InferContext& ctx, size_t i);

// Dim arithmetic that keeps unknowns unknown.
Dim dim_mul(const Dim& a, const Dim& b);
Dim dim_add(const Dim& a, const Dim& b);

// Product of static dims, or nullopt if any is unknown.
std::optional<int64_t> static_numel(const Shape& s);

// Requires a known rank, failing with the input index.
int64_t require_rank(const InferContext& ctx, size_t input);

}  // namespace kiln
