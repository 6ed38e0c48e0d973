#include "codegen/compile_common.h"

#include <algorithm>

#include "ir/infer.h"
#include "passes/pass_manager.h"

namespace kiln::codegen {

void bind_input_shapes(Graph& g, const std::map<std::string, Dims>& shapes) {
  for (const auto& [name, dims] : shapes) {
    Value* in = nullptr;
    for (Value* v : g.inputs)
      if (v->name() == name) in = v;
    if (!in) fail("--input-shape: the model has no input '", name, "'");
    const Shape& decl = in->type.shape;
    if (decl.rank_known) {
      if (decl.dims.size() != dims.size())
        fail("--input-shape ", name, ": rank ", dims.size(), " but the model declares ",
             decl.to_string());
      for (size_t i = 0; i < dims.size(); ++i) {
        if (decl.dims[i].is_static() && decl.dims[i].value != dims[i])
          fail("--input-shape ", name, ": dim ", i, " is ", decl.dims[i].value,
               " in the model, not ", dims[i]);
      }
    }
    in->type.shape = Shape::of(dims);
  }
  infer_shapes(g);
}

void freeze_inputs(Graph& g, const std::map<std::string, Tensor>& values) {
  for (const auto& [name, t] : values) {
    auto it = std::find_if(g.inputs.begin(), g.inputs.end(),
                           [&](const Value* v) { return v->name() == name; });
    if (it == g.inputs.end()) fail("--bind-input: the model has no input '", name, "'");
    Value* v = *it;
    if (v->type.dtype != t.dtype())
      fail("--bind-input ", name, ": dtype ", dtype_name(t.dtype()), " but the model declares ",
           dtype_name(v->type.dtype));
    const Shape& decl = v->type.shape;
    if (decl.rank_known) {
      bool ok = decl.dims.size() == t.dims().size();
      for (size_t i = 0; ok && i < decl.dims.size(); ++i)
        ok = !decl.dims[i].is_static() || decl.dims[i].value == t.dims()[i];
      if (!ok)
        fail("--bind-input ", name, ": shape ", dims_to_string(t.dims()), " does not fit ",
             decl.to_string());
    }
    v->type.shape = Shape::of(t.dims());
    v->constant = t;
    g.inputs.erase(it);
  }
}

std::string prepare_graph(Graph& g, const PrepareOptions& options, PassContext& pctx) {
  if (!options.constant_inputs.empty()) freeze_inputs(g, options.constant_inputs);
  if (!options.input_shapes.empty() || !options.constant_inputs.empty())
    bind_input_shapes(g, options.input_shapes);
  for (const Value* v : g.inputs) {
    if (!v->type.shape.is_static()) {
      std::string dims;
      for (const Dim& d : v->type.shape.dims)
        if (!d.is_static()) dims += (dims.empty() ? "" : ", ") + d.to_string();
      fail("compile: input '", v->name(), "' has shape ", v->type.shape.to_string(),
           "; bind its symbolic dims (", dims.empty() ? "unknown rank" : dims,
           ") with --input-shape ", v->name(), "=DxDx...");
    }
  }
  pctx.opt_level = options.opt_level;
  const size_t nodes_before = g.nodes().size();
  {
    PassManager pm(pctx);
    // --prune passes run on the cleaned-up, BN-folded graph just before the first fuse-* pass
    // (channel pruning follows plain Conv/Gemm/MatMul); the other extra passes run last.
    std::vector<std::string> prune, after;
    for (const auto& p : options.extra_passes) (p.rfind("prune-", 0) == 0 ? prune : after).push_back(p);
    auto add = [&](const std::string& name) {
      if (name.rfind("fuse-", 0) == 0) {
        for (const auto& p : prune) pm.add(p);
        prune.clear();
      }
      pm.add(name);
    };
    if (!options.passes.empty()) {
      for (const auto& p : options.passes) add(p);
    } else {
      for (const PipelineEntry& e : pipeline_for_opt_level(options.opt_level)) add(e.pass);
    }
    for (const auto& p : prune) pm.add(p);
    for (const auto& p : after) pm.add(p);
    pm.run(g);
  }
  // Folding can make shapes static downstream (Shape -> Gather -> Reshape): re-infer, and fold
  // again while that keeps resolving shapes.
  auto all_static = [&] {
    for (const auto& n : g.nodes())
      for (const Value* v : n->outputs())
        if (v && !v->type.shape.is_static()) return false;
    return true;
  };
  infer_shapes(g);
  for (int round = 0; round < 8 && !all_static(); ++round) {
    PassContext fold_ctx;
    if (!run_passes(g, {"constant-fold", "dce"}, fold_ctx)) break;
    infer_shapes(g);
  }
  g.topo_sort();
  return cat("graph: ", nodes_before, " nodes -> ", g.nodes().size(), " after passes");
}

std::string prepare_graph(Graph& g, const GraphOptions& o, PassContext& pctx) {
  pctx.fp16_block_ops.insert(o.fp16_block_ops.begin(), o.fp16_block_ops.end());
  if (o.fp16_io) pctx.fp16_keep_io_fp32 = false;
  pctx.calib_data_dir = o.calib_data_dir;
  pctx.calib_method = o.calib_method;
  if (!o.prune_spec.empty()) pctx.prune_spec = o.prune_spec;
  return prepare_graph(
      g, PrepareOptions{o.opt_level, o.passes, o.input_shapes, o.constant_inputs, o.extra_passes},
      pctx);
}

}  // namespace kiln::codegen
