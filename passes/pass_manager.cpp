#include "passes/pass_manager.h"

#include <iostream>

#include "ir/graph.h"
#include "ir/infer.h"
#include "ir/printer.h"
#include "ir/verifier.h"
#include "passes/registry.h"

namespace kiln {

std::vector<PipelineEntry> pipeline_for_opt_level(int level) {
  KILN_CHECK(level >= 0 && level <= 3, "optimization level ", level, " is not in 0..3");
  std::vector<PipelineEntry> p;
  if (level == 0) return p;
  p.push_back({"remove-identity", "exporters leave Identity/Dropout/no-op Casts behind"});
  p.push_back({"import-qdq", "quantized models run on int8 kernels (before folding dequantizes weights)"});
  p.push_back({"fold-shape-ops", "static dims of dynamic-batch shapes become constants"});
  p.push_back({"constant-fold", "shape subgraphs and weight preprocessing become constants"});
  p.push_back({"cancel-transposes", "exporters wrap ops in Transpose/Reshape pairs that cancel"});
  if (level >= 2) {
    p.push_back({"cse", "exporters duplicate shape computations and constants per use"});
    p.push_back({"remove-identity", "folding can turn Reshape/Cast into no-ops"});
    p.push_back({"fold-batchnorm", "BN after Conv/Gemm is a per-channel scale of constant weights"});
    p.push_back({"fuse-gelu", "before the MatMul epilogue, so MatMul + bias + Gelu is one op"});
    p.push_back({"fuse-layernorm", "one normalization kernel instead of nine passes over memory"});
    p.push_back({"fuse-attention", "before the MatMul epilogue takes the mask Add as a residual"});
    p.push_back({"fuse-conv-epilogue", "bias, residual and activation applied in the conv's store"});
    p.push_back({"fuse-matmul-epilogue", "bias, residual and activation applied in the GEMM's store"});
  }
  if (level >= 3) {
    p.push_back({"constant-fold", "merged subexpressions can expose new constant inputs"});
    p.push_back({"cse", "folded constants can make more nodes identical"});
  }
  p.push_back({"dce", "drop what the passes above left unused"});
  return p;
}

// Static dims the inference computed must match the declared ones; an unknown on either side
// is fine (declared dims may be more precise than inference, and vice versa).
static void check_shape_agrees(const Node& n, const Value& v, const Shape& inferred) {
  const Shape& declared = v.type.shape;
  if (!declared.rank_known || !inferred.rank_known) return;
  KILN_CHECK(declared.rank() == inferred.rank(), n.label(), ": output '", v.name(),
             "' is declared ", declared.to_string(), " but infers ", inferred.to_string());
  for (size_t i = 0; i < declared.rank(); ++i) {
    const Dim &d = declared.dims[i], &s = inferred.dims[i];
    KILN_CHECK(!d.is_static() || !s.is_static() || d.value == s.value, n.label(), ": output '",
               v.name(), "' is declared ", declared.to_string(), " but infers ",
               inferred.to_string());
  }
}

void verify_graph_and_types(const Graph& g) {
  verify_graph(g);
  for (const auto& v : g.values()) {
    if (!v->constant) continue;
    const Tensor& t = *v->constant;
    KILN_CHECK(v->type.dtype == t.dtype() && v->type.shape == Shape::of(t.dims()), "constant '",
               v->name(), "' is typed ", v->type.to_string(), " but holds ", t.describe());
  }
  for (const auto& np : g.nodes()) {
    const Node& n = *np;
    InferContext ctx = make_infer_context(n);
    infer_node(ctx);
    for (size_t i = 0; i < n.outputs().size(); ++i) {
      const Value* v = n.output(i);
      if (!v) continue;
      const ValueType& inferred = ctx.outputs[i];
      KILN_CHECK(v->type.dtype == DType::Undefined || inferred.dtype == DType::Undefined ||
                     v->type.dtype == inferred.dtype,
                 n.label(), ": output '", v->name(), "' is declared ", dtype_name(v->type.dtype),
                 " but infers ", dtype_name(inferred.dtype));
      check_shape_agrees(n, *v, inferred.shape);
    }
  }
}

void PassManager::add(std::string_view pass_name) { passes_.push_back(create_pass(pass_name)); }

void PassManager::add(std::unique_ptr<Pass> pass) { passes_.push_back(std::move(pass)); }

void PassManager::add_pipeline(const std::vector<PipelineEntry>& pipeline) {
  for (const PipelineEntry& e : pipeline) add(e.pass);
}

bool PassManager::run(Graph& g) {
  std::ostream& dump = ctx_.dump ? *ctx_.dump : std::cerr;
  bool changed = false;
  for (auto& pass : passes_) {
    const std::string_view name = pass->name();
    const int64_t nodes_before = static_cast<int64_t>(g.nodes().size());
    const int64_t bytes_before = g.parameter_bytes();
    if (pass->run(g, ctx_)) {
      changed = true;
      ctx_.account(name, nodes_before - static_cast<int64_t>(g.nodes().size()),
                   bytes_before - g.parameter_bytes());
    }
    if (ctx_.print_after_all || ctx_.print_after.count(name)) {
      dump << "; *** IR after " << name << " ***\n";
      print_graph(dump, g);
    }
    if (ctx_.verify_after_each) {
      try {
        verify_graph_and_types(g);
      } catch (const Error& e) {
        fail("after pass '", name, "': ", e.what());
      }
    }
  }
  return changed;
}

bool run_passes(Graph& g, const std::vector<std::string>& pass_names, PassContext& ctx) {
  PassManager pm(ctx);
  for (const std::string& name : pass_names) pm.add(name);
  return pm.run(g);
}

}  // namespace kiln
