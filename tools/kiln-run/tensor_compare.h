// Compares an output with an expected tensor the way kiln-run --expected reports it.
#pragma once

#include <string>

#include "ir/tensor.h"

namespace kiln::tools {

struct CompareResult {
  bool pass = false;
  std::string detail;  // "max abs diff 3e-07 at [5], 0 of 6 elements out of tolerance"
};

// Same dtype and dims, and per element |actual - expected| <= atol + rtol * |expected| for
// floats (NaN matches NaN, infinities must be equal), exact equality for integers and bools.
CompareResult compare_tensors(const Tensor& actual, const Tensor& expected, double rtol,
                              double atol);

}  // namespace kiln::tools
