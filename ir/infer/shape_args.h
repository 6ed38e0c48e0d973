// Argument resolution shared by the shape/data-movement ops' inference and reference kernels.
// Many of these ops take their parameters (axes, pads, starts, split sizes...) either as
// attributes (older opsets) or as inputs (newer ones). `OpArgs` is one view over both
// contexts, and the resolvers below turn it into normalized, validated lists, so the
// inference and the kernel can never disagree about what a node means.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "ir/attribute.h"
#include "ir/error.h"
#include "ir/tensor.h"
#include "ir/value_type.h"

namespace kiln {

struct InferContext;

struct OpArgs {
  int opset = 0;
  const Attributes* attrs = nullptr;
  std::string where;                  // "Slice 'n1': "
  std::vector<const Tensor*> values;  // known input values (nullptr = unknown or absent)
  std::vector<bool> present;          // input i exists

  bool has(size_t i) const { return i < present.size() && present[i]; }
  const Tensor* value(size_t i) const { return i < values.size() ? values[i] : nullptr; }
  const Attributes& attr() const { return *attrs; }
  template <typename... Args>
  [[noreturn]] void fail(const Args&... args) const {
    ::kiln::fail(where, args...);
  }
  template <typename... Args>
  void check(bool cond, const Args&... args) const {
    if (!cond) fail(args...);
  }
  // Integer list from input i (any integer dtype); nullopt when its value is unknown.
  std::optional<std::vector<int64_t>> ints(size_t i, const char* name) const;
  // Scalar (or 1-element) integer input i; nullopt when unknown.
  std::optional<int64_t> int_scalar(size_t i, const char* name) const;
};

OpArgs op_args(const InferContext& ctx);

// Symbolic dim arithmetic like dim_mul/dim_add (ir/infer_util.h), but failing on int64
// overflow instead of wrapping: declared shapes in a hostile model can be huge.
Dim dim_mul_checked(const InferContext& ctx, const Dim& a, const Dim& b);
Dim dim_add_checked(const InferContext& ctx, const Dim& a, const Dim& b);

// Normalizes `axis` into [0, rank); fails naming the axis.
int64_t norm_axis(const OpArgs& a, int64_t axis, int64_t rank);
// Normalizes a list of axes; fails on out-of-range or repeated axes.
std::vector<int64_t> norm_axes(const OpArgs& a, const std::vector<int64_t>& axes, int64_t rank);

// ---- Slice
struct SliceAxisSpec {
  int64_t axis;
  int64_t start, end, step;  // raw (unclamped)
};
// The per-axis starts/ends/steps of a Slice node (attributes before opset 10, inputs after);
// nullopt when an input value is unknown. Every axis appears at most once.
std::optional<std::vector<SliceAxisSpec>> slice_spec(const OpArgs& a, int64_t rank);
struct SliceRange {
  int64_t start, step, count;  // clamped first index, step, number of elements taken
};
SliceRange clamp_slice(int64_t start, int64_t end, int64_t step, int64_t dim);

// ---- Pad: 2*rank pads (begins then ends) after applying the optional axes input.
std::optional<std::vector<int64_t>> pad_amounts(const OpArgs& a, int64_t rank);
enum class PadMode { Constant, Reflect, Edge, Wrap };
PadMode pad_mode(const OpArgs& a);

// ---- Split: sizes of each output along `axis` (dim may be unknown: -1).
// nullopt when they cannot be known (unknown split input, or even split of an unknown dim).
std::optional<std::vector<int64_t>> split_sizes(const OpArgs& a, int64_t dim, size_t n_outputs);

// ---- Squeeze / Unsqueeze axes: attribute before opset 13, input after. nullopt = unknown;
// an empty list with `*given == false` means "not given".
std::optional<std::vector<int64_t>> squeeze_axes(const OpArgs& a, bool* given);

}  // namespace kiln
