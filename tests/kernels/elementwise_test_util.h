// Helpers for the elementwise op tests: symbolic inference of one node, attribute builders.
#pragma once

#include <cmath>
#include <limits>
#include <string>
#include <vector>

#include "ir/infer.h"
#include "tests/test_util.h"

namespace kiln::test {

inline constexpr float kNaN = std::numeric_limits<float>::quiet_NaN();
inline constexpr float kInf = std::numeric_limits<float>::infinity();

// Infers output 0 of `op` from input types only (no values), as kilnc does on a symbolic graph.
inline ValueType infer1(OpKind op, const std::vector<ValueType>& ins, const Attributes& attrs = {},
                        int opset = 22) {
  InferContext ctx;
  ctx.op = op;
  ctx.opset = opset;
  ctx.attrs = &attrs;
  for (const ValueType& t : ins) {
    ctx.input_types.push_back(&t);
    ctx.input_values.push_back(nullptr);
  }
  ctx.outputs.resize(1);
  infer_node(ctx);
  return ctx.outputs[0];
}

// A shape from dims where -1 is unknown and names like "N" are symbols.
inline ValueType vt(DType t, std::vector<std::string> dims) {
  Shape s = Shape::of_rank(dims.size());
  for (size_t i = 0; i < dims.size(); ++i) {
    if (dims[i] == "?") s.dims[i] = Dim::unknown();
    else if (std::isdigit(static_cast<unsigned char>(dims[i][0]))) s.dims[i] = Dim::of(std::stoll(dims[i]));
    else s.dims[i] = Dim::sym(dims[i]);
  }
  return ValueType{t, s, {}};
}

inline Attributes attrs_f(std::initializer_list<std::pair<const char*, float>> kv) {
  Attributes a;
  for (const auto& [k, v] : kv) a.set(k, Attribute::of_float(v));
  return a;
}

inline Attributes attr_i(const char* name, int64_t v) {
  Attributes a;
  a.set(name, Attribute::of_int(v));
  return a;
}

inline Attributes attr_s(const char* name, const std::string& v) {
  Attributes a;
  a.set(name, Attribute::of_string(v));
  return a;
}

template <typename T>
Tensor vec(std::vector<T> values) {
  const int64_t n = static_cast<int64_t>(values.size());
  return make<T>({n}, std::move(values));
}

inline Tensor vec_f16(const std::vector<float>& v) {
  std::vector<half> h;
  for (float f : v) h.push_back(half(f));
  return vec<half>(h);
}

inline Tensor vec_bf16(const std::vector<float>& v) {
  std::vector<bfloat16> h;
  for (float f : v) h.push_back(bfloat16(f));
  return vec<bfloat16>(h);
}

// Exact comparison of every element (bit-for-bit except NaN == NaN).
inline void expect_equal(const Tensor& actual, const Tensor& expected) {
  ASSERT_EQ(actual.dtype(), expected.dtype()) << actual.describe() << " vs " << expected.describe();
  ASSERT_EQ(actual.dims(), expected.dims()) << actual.describe() << " vs " << expected.describe();
  for (int64_t i = 0; i < actual.numel(); ++i) {
    if (is_float(actual.dtype())) {
      const double a = actual.as_double(i), b = expected.as_double(i);
      EXPECT_TRUE(a == b || (std::isnan(a) && std::isnan(b))) << "element " << i << ": " << a
                                                             << " vs " << b;
    } else {
      EXPECT_EQ(actual.as_int64(i), expected.as_int64(i)) << "element " << i;
    }
  }
}

}  // namespace kiln::test
