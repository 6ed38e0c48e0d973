// Helpers for tests that check one op's shape inference directly.
#pragma once

#include <initializer_list>
#include <utility>
#include <vector>

#include "ir/infer.h"

namespace kiln::test {

inline Attributes attrs_of(std::initializer_list<std::pair<const char*, Attribute>> kv) {
  Attributes a;
  for (const auto& [k, v] : kv) a.set(k, v);
  return a;
}

// Symbolic inference of one node; `values` may hold known constant inputs.
inline std::vector<ValueType> infer(OpKind op, int opset, const Attributes& attrs,
                                    const std::vector<ValueType>& inputs,
                                    std::vector<const Tensor*> values = {},
                                    size_t num_outputs = 1) {
  InferContext ctx;
  ctx.op = op;
  ctx.opset = opset;
  ctx.attrs = &attrs;
  for (const ValueType& t : inputs) ctx.input_types.push_back(&t);
  values.resize(inputs.size(), nullptr);
  ctx.input_values = values;
  ctx.outputs.resize(num_outputs);
  infer_node(ctx);
  return ctx.outputs;
}

}  // namespace kiln::test
