#include "runtime/kernels/ref/evaluate.h"

#include "ir/infer.h"

namespace kiln {

namespace {

std::vector<ValueType> infer_output_types(const OpCall& call, const Attributes& attrs) {
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
  return std::move(ic.outputs);
}

}  // namespace

std::vector<Tensor> evaluate_op(const OpCall& call) {
  static const Attributes kNoAttrs;
  const Attributes& attrs = call.attrs ? *call.attrs : kNoAttrs;
  KernelContext kc;
  kc.op = call.op;
  kc.opset = call.opset;
  kc.attrs = &attrs;
  kc.node_name = call.node_name;
  kc.inputs = call.inputs;
  kc.output_types = call.output_types && call.output_types->size() == call.num_outputs
                       ? *call.output_types
                       : infer_output_types(call, attrs);
  kc.outputs.resize(call.num_outputs);
  kc.pool = call.pool;
  kc.output_storage = call.output_storage;
  (call.kernel ? call.kernel : ref_kernel(call.op))(kc);
  return std::move(kc.outputs);
}

}  // namespace kiln
