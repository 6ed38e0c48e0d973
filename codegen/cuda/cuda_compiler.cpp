#include "codegen/cuda/cuda_compiler.h"

#include <optional>

#include "codegen/compile_common.h"
#include "codegen/cuda/library_lowering.h"
#include "codegen/cuda/nvrtc_compile.h"
#include "codegen/gpu/lower_device.h"
#include "runtime/artifact/cuda_code.h"

namespace kiln::cuda_codegen {
namespace {

bool library_candidate(OpKind op) {
  return op == OpKind::Gemm || op == OpKind::MatMul || op == OpKind::KilnFusedMatMul ||
         op == OpKind::Conv || op == OpKind::KilnFusedConv;
}

}  // namespace

cpu_codegen::CompiledModel compile_for_cuda(Graph& g, const CudaCompileOptions& options) {
  // Refuse a bad --cuda-arch before spending time on passes.
  const std::vector<uint32_t> archs = parse_cuda_arch_list(options.arch);
  cpu_codegen::CompiledModel out;
  PassContext local_ctx;
  PassContext& pctx = options.pass_context ? *options.pass_context : local_ctx;
  out.report.push_back(
      codegen::prepare_graph(g, options, pctx));

  gpu::DeviceLowerOptions lo;
  lo.dialect = &gpu::cuda_dialect();
  lo.profile = gpu::Profile::Gpu;
  lo.fuse_elementwise = options.opt_level > 0;
  gpu::DeviceProgram p = gpu::lower_for_device(g, lo);

  // The lowering emits exactly one launch per GEMM/conv node, in node order: the k-th such
  // launch belongs to the k-th such node. Its output placement confirms the match.
  std::vector<const Node*> heavy;
  for (const auto& n : g.nodes())
    if (library_candidate(n->op)) heavy.push_back(n.get());
  auto output_arg = [&](const Value* v) -> std::optional<artifact::LaunchArg> {
    for (size_t i = 0; i < g.outputs.size(); ++i)
      if (g.outputs[i] == v)
        return artifact::LaunchArg{artifact::BufferKind::Output, static_cast<uint32_t>(i), 0, 0};
    if (p.plan.in_arena(v))
      return artifact::LaunchArg{artifact::BufferKind::Arena, 0, p.plan.slot(v).offset, 0};
    return std::nullopt;
  };
  size_t next_heavy = 0;

  artifact::ArtifactMeta& m = out.meta;
  std::vector<gpu::RenderedKernel> kernels;
  std::map<std::string, int> library_ops, fallback_ops;
  int device = 0, host = 0, library = 0;
  for (const gpu::DeviceLaunch& l : p.launches) {
    const Node* node = nullptr;
    if (next_heavy < heavy.size() && l.op == op_name(heavy[next_heavy]->op))
      node = heavy[next_heavy++];
    const std::vector<artifact::LaunchArg> values(l.args.begin() + (l.host ? 1 : 0), l.args.end());
    bool placed = false;
    if (node && !values.empty() && node->outputs().size() == 1) {
      const auto want = output_arg(node->output(0));
      placed = want && want->kind == values.back().kind && want->index == values.back().index &&
               want->offset == values.back().offset;
    }
    if (options.library_calls && placed) {
      if (auto lib = library_launch_for(*node, values)) {
        m.launches.push_back({lib->symbol, l.node_name, l.op, lib->args, lib->params});
        ++library_ops[cat(l.op, " -> ", lib->symbol)];
        ++library;
        continue;
      }
    }
    m.launches.push_back({l.symbol, l.node_name, l.op, l.args, l.params()});
    if (l.host) {
      ++host;
      ++fallback_ops[l.op];
    } else {
      ++device;
      kernels.push_back(l.kernel);
    }
  }
  const std::string source = gpu::render_program(gpu::cuda_dialect(), kernels);
  CudaModuleCode code = compile_cuda_source(source, archs, options.ptx_only);

  m.target_triple = artifact::kCudaTriple;
  for (uint32_t a : archs) m.cpu_name += cat(m.cpu_name.empty() ? "" : ",", "sm_", a);
  m.cpu_features = 0;
  m.code_format =
      options.ptx_only ? artifact::CodeFormat::CudaPtx : artifact::CodeFormat::CudaCubin;
  m.inputs = p.inputs;
  m.outputs = p.outputs;
  m.arena_bytes = std::max<uint64_t>(p.plan.arena_bytes, 1);
  for (const auto& [v, offset] : p.planned_values)
    m.plan.push_back({v->name(), offset, p.plan.slot(v).bytes});
  out.weights = std::move(p.weights);
  out.code = artifact::encode_cuda_code(code.blobs);

  std::string kinds;
  for (const auto& [k, n] : p.device_kinds) kinds += cat(kinds.empty() ? "" : ", ", n, " ", k);
  out.report.push_back(cat("launches: ", m.launches.size(), " (", device, " generated kernels, ",
                           library, " library calls, ", host, " host fallback)"));
  std::string libs;
  for (const auto& [k, n] : library_ops) libs += cat(libs.empty() ? "" : ", ", k, " x", n);
  if (!libs.empty()) out.report.push_back(cat("library calls: ", libs));
  std::string ops;
  for (const auto& [k, n] : fallback_ops) ops += cat(ops.empty() ? "" : ", ", k, " x", n);
  if (!ops.empty()) out.report.push_back(cat("host fallback ops: ", ops));
  out.report.push_back(cat("arena: ", p.plan.arena_bytes, " bytes (", p.plan.unshared_bytes,
                           " without reuse); weights: ", out.weights.size(), " bytes"));
  std::string blobs;
  for (const auto& b : code.blobs)
    blobs += cat(blobs.empty() ? "" : ", ",
                 b.kind == artifact::CudaBlobKind::Ptx ? "PTX compute_" : "cubin sm_", b.arch, " ",
                 b.bytes.size(), " B");
  out.report.push_back(
      cat("target: cuda (", m.cpu_name, "), ", blobs, "; NVRTC ", code.seconds, " s"));
  return out;
}

}  // namespace kiln::cuda_codegen
