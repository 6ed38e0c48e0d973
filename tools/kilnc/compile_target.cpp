#include "tools/kilnc/compile_target.h"

#include <algorithm>
#include <string_view>

#ifdef KILN_HAVE_OPENCL_CODEGEN
#include "codegen/opencl/opencl_compiler.h"
#endif
#ifdef KILN_HAVE_CUDA_CODEGEN
#include "codegen/cuda/cuda_compiler.h"
#endif

namespace kiln::tools {

cpu_codegen::CompiledModel compile_for_target(Graph& g, const CompileFlags& flags) {
  if (flags.target != "opencl" && (flags.fpga || !flags.opencl_binary.empty()))
    fail(flags.fpga ? "--fpga" : "--opencl-binary", " needs --target opencl");
  if (flags.target != "cuda" && !flags.cuda_arch.empty()) fail("--cuda-arch needs --target cuda");
  // Flags that only configure a pass are refused when that pass does not run, not ignored.
  const codegen::GraphOptions& g_opts = flags.options;
  auto runs = [&](std::string_view pass) {
    const auto& extra = g_opts.extra_passes;
    return std::find(extra.begin(), extra.end(), pass) != extra.end() ||
           std::find(g_opts.passes.begin(), g_opts.passes.end(), pass) != g_opts.passes.end();
  };
  if (!g_opts.calib_data_dir.empty() && !runs("quantize-int8"))
    fail("--calib-data needs --quantize int8");
  if ((!g_opts.fp16_block_ops.empty() || g_opts.fp16_io) && !runs("convert-fp16"))
    fail(g_opts.fp16_io ? "--fp16-io" : "--fp16-block", " needs --quantize fp16");
  if (flags.target == "cpu") return cpu_codegen::compile_for_cpu(g, flags.options);
  if (flags.target == "cuda") {
#ifdef KILN_HAVE_CUDA_CODEGEN
    cuda_codegen::CudaCompileOptions o;
    if (!flags.cuda_arch.empty()) o.arch = flags.cuda_arch;
    static_cast<codegen::GraphOptions&>(o) = flags.options;
    return cuda_codegen::compile_for_cuda(g, o);
#else
    fail("--target cuda: this kilnc was built without CUDA (reconfigure with -DKILN_CUDA=ON and "
         "the CUDA toolkit installed)");
#endif
  }
  if (flags.target != "opencl") fail("--target: '", flags.target, "' is not available");
#ifdef KILN_HAVE_OPENCL_CODEGEN
  opencl_codegen::OpenClCompileOptions o;
  o.fpga = flags.fpga;
  static_cast<codegen::GraphOptions&>(o) = flags.options;
  o.binary_path = flags.opencl_binary;
  return opencl_codegen::compile_for_opencl(g, o);
#else
  fail("--target opencl: this kilnc was built without OpenCL (reconfigure with -DKILN_OPENCL=ON)");
#endif
}

}  // namespace kiln::tools
