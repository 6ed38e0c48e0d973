#include "codegen/cpu/cpu_compiler.h"

#include <algorithm>
#include <chrono>
#include <map>

#include "codegen/cpu/lower_graph.h"
#include "codegen/llvm/module_emitter.h"
#include "codegen/llvm/native_code.h"
#include "ir/infer.h"
#include "passes/pass_manager.h"
#include "runtime/artifact/cpu_features.h"
#include "runtime/kernels/cpu/cpu_isa.h"

namespace kiln::cpu_codegen {
namespace {

using artifact::CpuFeature;
using artifact::feature_bit;

// The kernel ISA whose packed-weight layout the target can run, and the features it needs.
cpu::Isa packing_isa(uint64_t target_bits, uint64_t* required) {
  const uint64_t avx512 = feature_bit(CpuFeature::Avx512f) | feature_bit(CpuFeature::Avx512bw) |
                          feature_bit(CpuFeature::Avx512vl);
  const uint64_t avx2 = feature_bit(CpuFeature::Avx2) | feature_bit(CpuFeature::Fma);
  if ((target_bits & avx512) == avx512) {
    *required = avx512 | avx2;
    return cpu::Isa::Avx512;
  }
  if ((target_bits & avx2) == avx2) {
    *required = avx2;
    return cpu::Isa::Avx2;
  }
  *required = 0;
  return cpu::Isa::Scalar;
}

// Packing runs on this machine with the target's layout; restores the ISA on every exit.
class ScopedIsa {
 public:
  explicit ScopedIsa(cpu::Isa isa) {
    if (!cpu::isa_supported(isa)) {
      fail("compile: the target CPU's kernels use ", cpu::isa_name(isa),
           ", which this machine cannot run to pack weights; compile on a machine that has it");
    }
    cpu::force_isa(isa);
  }
  ~ScopedIsa() { cpu::reset_isa(); }
};

}  // namespace

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

CompiledModel compile_for_cpu(Graph& g, const CpuCompileOptions& options) {
  using Clock = std::chrono::steady_clock;
  CompiledModel out;
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
  PassContext local_ctx;
  PassContext& pctx = options.pass_context ? *options.pass_context : local_ctx;
  pctx.opt_level = options.opt_level;
  const size_t nodes_before = g.nodes().size();
  {
    PassManager pm(pctx);
    if (!options.passes.empty()) {
      for (const auto& p : options.passes) pm.add(p);
    } else {
      pm.add_pipeline(pipeline_for_opt_level(options.opt_level));
    }
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
  out.report.push_back(cat("graph: ", nodes_before, " nodes -> ", g.nodes().size(),
                           " after passes"));

  const llvm_codegen::NativeTarget target =
      llvm_codegen::make_native_target(options.cpu, options.opt_level);
  uint64_t isa_bits = 0;
  const cpu::Isa isa = packing_isa(target.cpu_feature_bits, &isa_bits);
  LoweredGraph lowered;
  {
    ScopedIsa scoped(isa);
    LowerOptions lo;
    lo.fuse_elementwise = options.opt_level > 0;
    lowered = lower_graph(g, lo);
  }
  const auto t0 = Clock::now();
  llvm::LLVMContext llvm_context;
  std::unique_ptr<llvm::Module> module = llvm_codegen::emit_module(llvm_context, lowered.kernels);
  out.code = llvm_codegen::compile_shared_object(*module, target, options.opt_level);
  const double llvm_s = std::chrono::duration<double>(Clock::now() - t0).count();

  artifact::ArtifactMeta& m = out.meta;
  m.target_triple = target.triple;
  m.cpu_name = target.cpu;
  m.cpu_features = target.cpu_feature_bits | isa_bits;
  m.code_format = artifact::CodeFormat::ElfSharedObject;
  m.inputs = lowered.inputs;
  m.outputs = lowered.outputs;
  m.arena_bytes = lowered.plan.arena_bytes;
  for (const auto& [v, offset] : lowered.planned_values)
    m.plan.push_back({v->name(), offset, lowered.plan.slot(v).bytes});
  std::map<std::string, int> by_kind;
  std::map<std::string, int> fallback_ops;
  for (const PlannedKernel& k : lowered.kernels) {
    m.launches.push_back({k.symbol, k.node_name, k.op, k.args, k.params});
    static const char* kNames[] = {"runtime op", "conv2d", "gemm (packed B)", "batched gemm",
                                   "generated elementwise"};
    ++by_kind[kNames[static_cast<int>(k.kind)]];
    if (k.kind == KernelKind::Op) ++fallback_ops[k.op];
  }
  out.weights = std::move(lowered.weights);
  std::string kinds;
  for (const auto& [k, n] : by_kind) kinds += cat(kinds.empty() ? "" : ", ", n, " ", k);
  out.report.push_back(cat("launches: ", m.launches.size(), " (", kinds, ")"));
  std::string ops;
  for (const auto& [k, n] : fallback_ops) ops += cat(ops.empty() ? "" : ", ", k, " x", n);
  if (!ops.empty()) out.report.push_back(cat("runtime kernels: ", ops));
  out.report.push_back(cat("arena: ", m.arena_bytes, " bytes (", lowered.plan.unshared_bytes,
                           " without reuse); weights: ", out.weights.size(), " bytes"));
  out.report.push_back(cat("target: ", target.cpu, " (", target.triple, "), code ",
                           out.code.size(), " bytes, LLVM ", llvm_s, " s"));
  return out;
}

}  // namespace kiln::cpu_codegen
