#include "codegen/opencl/opencl_compiler.h"

#include <fstream>
#include <iterator>

#include "codegen/compile_common.h"
#include "codegen/gpu/lower_device.h"

namespace kiln::opencl_codegen {
namespace {

std::vector<uint8_t> read_binary(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  if (!f) fail("--opencl-binary: cannot open '", path, "'");
  std::vector<uint8_t> bytes((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
  if (bytes.empty()) fail("--opencl-binary: '", path, "' is empty");
  return bytes;
}

}  // namespace

cpu_codegen::CompiledModel compile_for_opencl(Graph& g, const OpenClCompileOptions& options) {
  cpu_codegen::CompiledModel out;
  PassContext local_ctx;
  PassContext& pctx = options.pass_context ? *options.pass_context : local_ctx;
  out.report.push_back(codegen::prepare_graph(g, options, pctx));

  gpu::DeviceLowerOptions lo;
  lo.dialect = &gpu::opencl_dialect();
  lo.profile = options.fpga ? gpu::Profile::Fpga : gpu::Profile::Gpu;
  lo.fuse_elementwise = options.opt_level > 0;
  gpu::DeviceProgram p = gpu::lower_for_device(g, lo);

  artifact::ArtifactMeta& m = out.meta;
  m.target_triple = artifact::kOpenClTriple;
  m.cpu_name = options.fpga ? "fpga" : "gpu";
  m.cpu_features = 0;
  if (options.binary_path.empty()) {
    m.code_format = artifact::CodeFormat::OpenClSource;
    out.code.assign(p.source.begin(), p.source.end());
  } else {
    m.code_format = artifact::CodeFormat::OpenClBinary;
    out.code = read_binary(options.binary_path);
  }
  m.inputs = p.inputs;
  m.outputs = p.outputs;
  m.arena_bytes = std::max<uint64_t>(p.plan.arena_bytes, 1);
  for (const auto& [v, offset] : p.planned_values)
    m.plan.push_back({v->name(), offset, p.plan.slot(v).bytes});
  int device = 0, host = 0;
  for (const gpu::DeviceLaunch& l : p.launches) {
    m.launches.push_back({l.symbol, l.node_name, l.op, l.args, l.params()});
    (l.host ? host : device) += 1;
  }
  out.weights = std::move(p.weights);
  std::string kinds;
  for (const auto& [k, n] : p.device_kinds) kinds += cat(kinds.empty() ? "" : ", ", n, " ", k);
  out.report.push_back(cat("launches: ", m.launches.size(), " (", device, " device",
                           kinds.empty() ? "" : ": " + kinds, "; ", host, " host fallback)"));
  std::string ops;
  for (const auto& [k, n] : p.fallback_ops) ops += cat(ops.empty() ? "" : ", ", k, " x", n);
  if (!ops.empty()) out.report.push_back(cat("host fallback ops: ", ops));
  out.report.push_back(cat("arena: ", p.plan.arena_bytes, " bytes (", p.plan.unshared_bytes,
                           " without reuse); weights: ", out.weights.size(), " bytes"));
  out.report.push_back(cat("target: opencl (", m.cpu_name, " profile), ",
                           options.binary_path.empty() ? "source " : "binary ", out.code.size(),
                           " bytes"));
  return out;
}

}  // namespace kiln::opencl_codegen
