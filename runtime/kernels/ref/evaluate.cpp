#include "runtime/kernels/ref/evaluate.h"

#include "ir/infer.h"

namespace kiln {

std::vector<Tensor> evaluate_op(const OpCall& call) {
  static const Attributes kNoAttrs;
  const Attributes& attrs = call.attrs ? *call.attrs : kNoAttrs;
  std::vector<ValueType> in_types(call.inputs.size());
  InferContext ic;
  ic.op = call.op;
  ic.opset = call.opset;
  ic.attrs = &attrs;
  ic.node_name = call.node_name;
  for (size_t i = 0; i < call.inputs.size(); ++i) {
    const Tensor* t = call.inputs[i];
    if (t) in_types[i] = ValueType::of(t->dtype(), t->dims());
    ic.input_types.push_back(t ? &in_types[i] : nullptr);
    ic.input_values.push_back(t);
  }
  ic.outputs.resize(call.num_outputs);
  infer_node(ic);

  KernelContext kc;
  kc.op = call.op;
  kc.opset = call.opset;
  kc.attrs = &attrs;
  kc.node_name = call.node_name;
  kc.inputs = call.inputs;
  kc.output_types = std::move(ic.outputs);
  kc.outputs.resize(call.num_outputs);
  kc.pool = call.pool;
  (call.kernel ? call.kernel : ref_kernel(call.op))(kc);
  return std::move(kc.outputs);
}

}  // namespace kiln
