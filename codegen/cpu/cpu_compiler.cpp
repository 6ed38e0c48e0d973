#include "codegen/cpu/cpu_compiler.h"

#include <algorithm>
#include <chrono>
#include <map>

#include "codegen/compile_common.h"
#include "codegen/cpu/legalize_fp16.h"
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

CompiledModel compile_for_cpu(Graph& g, const CpuCompileOptions& options) {
  using Clock = std::chrono::steady_clock;
  CompiledModel out;
  PassContext local_ctx;
  PassContext& pctx = options.pass_context ? *options.pass_context : local_ctx;
  out.report.push_back(codegen::prepare_graph(g, options, pctx));

  const llvm_codegen::NativeTarget target =
      llvm_codegen::make_native_target(options.cpu, options.opt_level);
  uint64_t isa_bits = 0;
  const cpu::Isa isa = packing_isa(target.cpu_feature_bits, &isa_bits);
  LoweredGraph lowered;
  {
    ScopedIsa scoped(isa);
    LowerOptions lo;
    lo.fuse_elementwise = options.opt_level > 0;
    HalfLegalization half = legalize_half_compute(g);
    lo.half_weights = std::move(half.half_weights);
    if (half.ops > 0)
      out.report.push_back(cat("fp16: ", half.ops, " conv/GEMM/pool ops run in f32 registers, ",
                               lo.half_weights.size(), " weights packed as fp16"));
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
    m.launches.push_back({k.symbol, k.node_name, k.op, k.args, k.params, k.section, k.chain});
    static const char* kNames[] = {"runtime op",           "conv2d",      "gemm (packed B)",
                                   "batched gemm",         "generated elementwise",
                                   "int8 conv2d",          "int8 gemm (packed B)"};
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
