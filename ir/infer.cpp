#include "ir/infer.h"

#include <array>

#include "ir/graph.h"

namespace kiln {

namespace {
constexpr std::array<InferFn, kNumOps> kInferFns = {{
#define KILN_OP(Name, ...) &infer_##Name,
#include "ir/ops.def"
#undef KILN_OP
}};

// Keep what inference could not tell from the declared type (ONNX value_info, graph outputs).
Shape merge_shapes(const Shape& inferred, const Shape& declared) {
  if (!inferred.rank_known) return declared;
  if (!declared.rank_known || declared.rank() != inferred.rank()) return inferred;
  Shape s = inferred;
  for (size_t i = 0; i < s.dims.size(); ++i) {
    if (!s.dims[i].is_static() && (declared.dims[i].is_static() || s.dims[i].symbol.empty())) {
      s.dims[i] = declared.dims[i];
    }
  }
  return s;
}
}  // namespace

InferFn infer_fn(OpKind op) { return kInferFns[static_cast<size_t>(op)]; }

const ValueType& InferContext::input(size_t i) const {
  if (!has_input(i)) fail("required input ", i, " is missing");
  return *input_types[i];
}

ValueType& InferContext::output(size_t i) {
  if (i >= outputs.size()) fail("output ", i, " requested but the node has ", outputs.size());
  return outputs[i];
}

std::string InferContext::where() const {
  std::string s(op_name(op));
  if (!node_name.empty()) s += " '" + node_name + "'";
  return s + ": ";
}

void infer_node(InferContext& ctx) {
  const OpInfo& info = op_info(ctx.op);
  // Trailing absent optionals do not count toward arity.
  size_t n_in = ctx.input_types.size();
  while (n_in > 0 && !ctx.input_types[n_in - 1]) --n_in;
  if (static_cast<int>(n_in) > info.max_inputs) {
    ctx.fail("has ", n_in, " inputs, at most ", info.max_inputs, " allowed");
  }
  for (int i = 0; i < info.min_inputs; ++i) {
    if (!ctx.has_input(static_cast<size_t>(i))) ctx.fail("required input ", i, " is missing");
  }
  if (static_cast<int>(ctx.outputs.size()) > info.max_outputs) {
    ctx.fail("has ", ctx.outputs.size(), " outputs, at most ", info.max_outputs, " allowed");
  }
  for (size_t i = 0; i < n_in; ++i) {
    if (ctx.input_types[i] && ctx.input_types[i]->dtype == DType::Undefined) {
      ctx.fail("input ", i, " has no known dtype");
    }
  }
  kInferFns[static_cast<size_t>(ctx.op)](ctx);
}

InferContext make_infer_context(const Node& n) {
  InferContext ctx;
  ctx.op = n.op;
  ctx.opset = n.opset;
  ctx.attrs = &n.attrs;
  ctx.node_name = n.name;
  for (Value* v : n.inputs()) {
    ctx.input_types.push_back(v ? &v->type : nullptr);
    ctx.input_values.push_back(v && v->constant ? &*v->constant : nullptr);
  }
  ctx.outputs.resize(n.outputs().size());
  return ctx;
}

void infer_shapes(Graph& g) {
  for (const auto& np : g.nodes()) {
    Node& n = *np;
    InferContext ctx = make_infer_context(n);
    infer_node(ctx);
    for (size_t i = 0; i < n.outputs().size(); ++i) {
      Value* out = n.output(i);
      if (!out) continue;
      ValueType t = std::move(ctx.outputs[i]);
      if (out->type.dtype != DType::Undefined && t.dtype != DType::Undefined &&
          out->type.dtype != t.dtype) {
        fail(n.label(), ": output '", out->name(), "' is declared ", dtype_name(out->type.dtype),
             " but computes ", dtype_name(t.dtype));
      }
      t.shape = merge_shapes(t.shape, out->type.shape);
      if (!t.quant) t.quant = out->type.quant;
      out->type = std::move(t);
    }
  }
}

}  // namespace kiln
