// Which axes a Reduce* node reduces. Shared by shape inference (ir/infer/reduce.cpp) and the
// reference kernels, so the attribute-vs-input rules and the empty-axes cases live in one place.
//
// ONNX history: `axes` is an attribute up to opset 12 for ReduceSum and up to opset 17 for the
// other Reduce* ops, and an optional int64 input after that, where `noop_with_empty_axes`
// also appears. Empty axes reduce every axis unless noop_with_empty_axes=1, which reduces none.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "ir/attribute.h"
#include "ir/op_kind.h"
#include "ir/tensor.h"

namespace kiln {

// First opset in which `op` takes its axes as input 1 rather than as an attribute.
int reduce_axes_input_opset(OpKind op);

struct ReduceAxes {
  bool known = true;           // false: axes come from an input whose value is not known
  std::vector<int64_t> axes;   // as written (may be negative); empty = see noop_with_empty_axes
  bool keepdims = true;
  bool noop_with_empty_axes = false;
  bool reduces_nothing() const { return known && axes.empty() && noop_with_empty_axes; }
  bool reduces_all() const { return known && axes.empty() && !noop_with_empty_axes; }
};

// Reads attributes and the optional axes input (`has_axes_input`, with its value when known).
// `where` prefixes error messages ("ReduceSum 'n1': ").
ReduceAxes read_reduce_axes(OpKind op, int opset, const Attributes& attrs, bool has_axes_input,
                            const Tensor* axes_value, const std::string& where);

// mask[d] = true if dim d is reduced; fails on an out-of-range or repeated axis.
std::vector<bool> reduce_mask(const ReduceAxes& ra, int64_t rank, const std::string& where);

}  // namespace kiln
