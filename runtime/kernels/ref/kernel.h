// Reference kernels: plain, obviously correct C++ for every op in ir/ops.def.
// They are the test oracle for every backend, the constant folder, and the fallback.
#pragma once

#include <string>
#include <vector>

#include "ir/attribute.h"
#include "ir/error.h"
#include "ir/op_kind.h"
#include "ir/tensor.h"
#include "ir/value_type.h"

namespace kiln {

class ThreadPool;

struct KernelContext {
  OpKind op;
  int opset = 0;
  const Attributes* attrs = nullptr;
  std::string node_name;
  std::vector<const Tensor*> inputs;     // nullptr = absent optional input
  std::vector<ValueType> output_types;   // from inference: dtype always, shape when static
  std::vector<Tensor> outputs;           // allocated on first request
  // Optional, per output: the caller's buffer for it (a compiled model's arena slot, which no
  // input overlaps). output(i) and the CPU kernels' uninit_output place output i there when its
  // dims are the inferred static ones, so the caller need not copy it.
  std::vector<void*> output_storage;
  ThreadPool* pool = nullptr;            // optimized kernels may split work over it; ref ignores it

  size_t num_inputs() const { return inputs.size(); }
  bool has_input(size_t i) const { return i < inputs.size() && inputs[i] != nullptr; }
  const Tensor& input(size_t i) const;  // fails if absent
  const Attributes& attr() const { return *attrs; }
  size_t num_outputs() const { return outputs.size(); }
  // True if the node's output i is wanted (optional outputs may be skipped).
  bool wants_output(size_t i) const { return i < outputs.size(); }
  // Allocates output i with the inferred static shape (fails if it was not static).
  Tensor& output(size_t i);
  // Allocates output i with the given dims and the inferred dtype (data-dependent shapes).
  Tensor& output(size_t i, const Dims& dims);

  std::string where() const;
  template <typename... Args>
  [[noreturn]] void fail(const Args&... args) const {
    ::kiln::fail(where(), args...);
  }
  template <typename... Args>
  void check(bool cond, const Args&... args) const {
    if (!cond) fail(args...);
  }
};

using KernelFn = void (*)(KernelContext&);
KernelFn ref_kernel(OpKind op);

#define KILN_OP(Name, ...) void ref_##Name(KernelContext& ctx);
#include "ir/ops.def"
#undef KILN_OP

}  // namespace kiln
