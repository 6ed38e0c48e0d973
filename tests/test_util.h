// Shared helpers for unit tests: run one op through inference + reference kernel, compare.
#pragma once

#include <gtest/gtest.h>

#include <cmath>
#include <vector>

#include "runtime/kernels/ref/evaluate.h"

namespace kiln::test {

// Runs `op` on concrete inputs (nullptr = absent optional) and returns its outputs.
inline std::vector<Tensor> run_op(OpKind op, std::vector<const Tensor*> inputs,
                                  const Attributes& attrs = {}, size_t num_outputs = 1,
                                  int opset = 22) {
  OpCall call;
  call.op = op;
  call.opset = opset;
  call.attrs = &attrs;
  call.inputs = std::move(inputs);
  call.num_outputs = num_outputs;
  return evaluate_op(call);
}

inline Tensor run_op1(OpKind op, std::vector<const Tensor*> inputs, const Attributes& attrs = {},
                      int opset = 22) {
  return run_op(op, std::move(inputs), attrs, 1, opset)[0];
}

template <typename T>
Tensor make(Dims dims, std::vector<T> values) {
  return Tensor::from_vector<T>(values, std::move(dims));
}

// Asserts same dtype and dims, and |a-b| <= atol + rtol*|b| elementwise (exact for integers).
inline void expect_close(const Tensor& actual, const Tensor& expected, double rtol = 1e-5,
                         double atol = 1e-6) {
  ASSERT_EQ(actual.dtype(), expected.dtype()) << actual.describe() << " vs " << expected.describe();
  ASSERT_EQ(actual.dims(), expected.dims()) << actual.describe() << " vs " << expected.describe();
  for (int64_t i = 0; i < actual.numel(); ++i) {
    const double a = actual.as_double(i), b = expected.as_double(i);
    if (std::isnan(b)) {
      EXPECT_TRUE(std::isnan(a)) << "element " << i;
    } else if (is_float(actual.dtype())) {
      EXPECT_LE(std::fabs(a - b), atol + rtol * std::fabs(b)) << "element " << i << ": " << a
                                                              << " vs " << b;
    } else {
      EXPECT_EQ(actual.as_int64(i), expected.as_int64(i)) << "element " << i;
    }
  }
}

}  // namespace kiln::test
