// Test helpers for the shape/data-movement op tests: symbolic inference and short builders.
#pragma once

#include <gtest/gtest.h>

#include "ir/infer.h"
#include "tests/test_util.h"

namespace kiln::test {

// Shape from a spec: numbers are static dims, names are symbols, "?" is unknown.
inline Shape sym_shape(std::vector<std::string> dims) {
  Shape s = Shape::of_rank(0);
  for (auto& d : dims) {
    if (d == "?") {
      s.dims.push_back(Dim::unknown());
    } else if (std::isdigit(static_cast<unsigned char>(d[0]))) {
      s.dims.push_back(Dim::of(std::stoll(d)));
    } else {
      s.dims.push_back(Dim::sym(d));
    }
  }
  return s;
}

// Runs inference only. `types[i]` absent (Undefined dtype) = absent input; `values` may be
// shorter than types (missing = unknown value).
inline std::vector<ValueType> infer_types(OpKind op, const std::vector<ValueType>& types,
                                          const std::vector<const Tensor*>& values,
                                          const Attributes& attrs = {}, int opset = 22,
                                          size_t num_outputs = 1) {
  InferContext ctx;
  ctx.op = op;
  ctx.opset = opset;
  ctx.attrs = &attrs;
  for (size_t i = 0; i < types.size(); ++i) {
    ctx.input_types.push_back(types[i].dtype == DType::Undefined ? nullptr : &types[i]);
    ctx.input_values.push_back(i < values.size() ? values[i] : nullptr);
  }
  ctx.outputs.resize(num_outputs);
  infer_node(ctx);
  return ctx.outputs;
}

inline ValueType vt(DType t, std::vector<std::string> dims) { return {t, sym_shape(dims), {}}; }
inline ValueType vt_unranked(DType t) { return {t, Shape::unknown_rank(), {}}; }

inline Tensor i64s(std::vector<int64_t> v) {
  const int64_t n = static_cast<int64_t>(v.size());
  return make<int64_t>({n}, std::move(v));
}
inline Tensor f32s(Dims d, std::vector<float> v) { return make<float>(std::move(d), std::move(v)); }

// 0, 1, 2, ... as f32 with the given dims.
inline Tensor iota_f32(Dims d) {
  Tensor t(DType::F32, d);
  for (int64_t i = 0; i < t.numel(); ++i) t.data<float>()[i] = static_cast<float>(i);
  return t;
}

inline Attributes attrs_of(std::initializer_list<std::pair<std::string, Attribute>> kv) {
  Attributes a;
  for (auto& [k, v] : kv) a.set(k, v);
  return a;
}

inline std::vector<int64_t> ints_of(const Tensor& t) { return t.to_int64_vector(); }
inline std::vector<float> floats_of(const Tensor& t) { return t.to_float_vector(); }

}  // namespace kiln::test
