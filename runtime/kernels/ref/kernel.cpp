#include "runtime/kernels/ref/kernel.h"

#include <array>
#include <cstring>

namespace kiln {

namespace {
constexpr std::array<KernelFn, kNumOps> kRefKernels = {{
#define KILN_OP(Name, ...) &ref_##Name,
#include "ir/ops.def"
#undef KILN_OP
}};
}  // namespace

KernelFn ref_kernel(OpKind op) { return kRefKernels[static_cast<size_t>(op)]; }

const Tensor& KernelContext::input(size_t i) const {
  if (!has_input(i)) fail("required input ", i, " is missing");
  return *inputs[i];
}

Tensor& KernelContext::output(size_t i) {
  if (i >= outputs.size()) fail("output ", i, " requested but the node has ", outputs.size());
  if (!outputs[i].defined()) {
    const ValueType& t = output_types.at(i);
    if (!t.shape.is_static()) fail("output ", i, " has no static shape (", t.to_string(), ")");
    if (i < output_storage.size() && output_storage[i]) {
      outputs[i] = Tensor::borrow(t.dtype, t.shape.static_dims(), output_storage[i], nullptr);
      std::memset(outputs[i].raw(), 0, outputs[i].nbytes());  // as zero-filled as Tensor()
    } else {
      outputs[i] = Tensor(t.dtype, t.shape.static_dims());
    }
  }
  return outputs[i];
}

Tensor& KernelContext::output(size_t i, const Dims& dims) {
  if (i >= outputs.size()) fail("output ", i, " requested but the node has ", outputs.size());
  outputs[i] = Tensor(output_types.at(i).dtype, dims);
  return outputs[i];
}

std::string KernelContext::where() const {
  std::string s(op_name(op));
  if (!node_name.empty()) s += " '" + node_name + "'";
  return s + ": ";
}

}  // namespace kiln
