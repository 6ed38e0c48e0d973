// How QuantizeLinear / DequantizeLinear map each element of x to its scale and zero point:
// per tensor, per axis (1-D scale along `axis`), or blocked (opset 21: scale has x's rank with
// ceil(D/block_size) entries along `axis`). Shared by shape inference and the kernels.
#pragma once

#include <cstdint>
#include <string>

#include "ir/attribute.h"
#include "ir/value_type.h"

namespace kiln {

struct QuantGranularity {
  enum class Kind { PerTensor, PerAxis, Blocked };
  Kind kind = Kind::PerTensor;
  int64_t axis = 0;        // normalized; meaningful for PerAxis and Blocked
  int64_t block_size = 0;  // Blocked only

  // Index into the (row-major) scale tensor of element `i` of x with dims `x`.
  int64_t scale_index(const Dims& x, const Dims& scale, int64_t i) const;
};

// Validates the scale (and zero point, if given) shapes against x for the node's opset and
// attributes (axis, block_size), and picks the granularity. Symbolic shapes are checked as far
// as they are known.
QuantGranularity quant_granularity(const Attributes& attrs, int opset, const Shape& x,
                                   const Shape& scale, const Shape* zero_point,
                                   const std::string& where);

}  // namespace kiln
