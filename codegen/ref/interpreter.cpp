#include "codegen/ref/interpreter.h"

#include <chrono>
#include <unordered_map>

#include "runtime/kernels/cpu/kernel_table.h"
#include "runtime/kernels/ref/evaluate.h"

namespace kiln {

void check_tensor_matches(const std::string& what, const Tensor& t, const ValueType& decl) {
  if (decl.dtype != DType::Undefined && t.dtype() != decl.dtype) {
    fail(what, ": expected dtype ", dtype_name(decl.dtype), ", got ", dtype_name(t.dtype()));
  }
  if (!decl.shape.rank_known) return;
  if (static_cast<size_t>(t.rank()) != decl.shape.rank()) {
    fail(what, ": expected shape ", decl.shape.to_string(), ", got [", dims_to_string(t.dims()),
         "] (rank ", t.rank(), ")");
  }
  for (size_t i = 0; i < decl.shape.rank(); ++i) {
    const Dim& d = decl.shape.dims[i];
    if (d.is_static() && d.value != t.dims()[i]) {
      fail(what, ": expected shape ", decl.shape.to_string(), ", got [", dims_to_string(t.dims()),
           "] (dim ", i, ")");
    }
  }
}

Interpreter::Interpreter(const Graph& g, InterpreterOptions options) : g_(g), options_(options) {}

std::map<std::string, Tensor> Interpreter::run(const std::map<std::string, Tensor>& inputs) const {
  std::unordered_map<const Value*, Tensor> env;
  for (const auto& [name, t] : inputs) {
    const Value* v = g_.find_value(name);
    bool is_input = false;
    for (const Value* in : g_.inputs) is_input |= (in == v);
    KILN_CHECK(is_input, "'", name, "' is not an input of the model");
  }
  for (const Value* in : g_.inputs) {
    auto it = inputs.find(in->name());
    KILN_CHECK(it != inputs.end(), "missing value for model input '", in->name(), "'");
    check_tensor_matches("input '" + in->name() + "'", it->second, in->type);
    env[in] = it->second;
  }
  // Remaining uses per value, so intermediates are freed after their last consumer.
  std::unordered_map<const Value*, size_t> remaining;
  for (const auto& n : g_.nodes())
    for (const Value* v : n->inputs())
      if (v) ++remaining[v];
  for (const Value* v : g_.outputs) ++remaining[v];

  auto lookup = [&](const Value* v) -> const Tensor* {
    if (v->constant) return &*v->constant;
    auto it = env.find(v);
    return it == env.end() ? nullptr : &it->second;
  };
  for (const auto& np : g_.nodes()) {
    const Node& n = *np;
    OpCall call;
    call.op = n.op;
    call.opset = n.opset;
    call.attrs = &n.attrs;
    call.node_name = n.name;
    call.num_outputs = n.outputs().size();
    if (options_.cpu_kernels) {
      call.kernel = cpu_kernel(n.op);
      call.pool = options_.pool;
    }
    for (const Value* v : n.inputs()) {
      const Tensor* t = v ? lookup(v) : nullptr;
      if (v && !t) fail(n.label(), ": input '", v->name(), "' has no value");
      call.inputs.push_back(t);
    }
    const auto start = std::chrono::steady_clock::now();
    std::vector<Tensor> outs = evaluate_op(call);
    if (options_.op_seconds) {
      (*options_.op_seconds)[std::string(op_name(n.op))] +=
          std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    }
    for (size_t i = 0; i < n.outputs().size(); ++i) {
      const Value* v = n.output(i);
      if (!v) continue;
      if (!outs[i].defined()) fail(n.label(), ": kernel produced no value for output '", v->name(), "'");
      env[v] = std::move(outs[i]);
    }
    for (const Value* v : n.inputs()) {
      if (v && !v->constant && --remaining[v] == 0) env.erase(v);
    }
  }
  std::map<std::string, Tensor> result;
  for (const Value* v : g_.outputs) {
    const Tensor* t = lookup(v);
    KILN_CHECK(t, "graph output '", v->name(), "' has no value");
    result[v->name()] = *t;
  }
  return result;
}

}  // namespace kiln
