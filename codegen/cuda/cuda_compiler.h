// The CUDA target: the same -O pipeline and device lowering as the OpenCL target (codegen/gpu,
// CUDA dialect), GEMM and convolution nodes as cuBLASLt / cuDNN library launches where the
// library computes them whole (library_lowering.h), every other kernel rendered as CUDA C++ and
// compiled with NVRTC into PTX plus a cubin per requested architecture (nvrtc_compile.h). The
// CODE section is the container of runtime/artifact/cuda_code.h. No GPU is needed to compile.
#pragma once

#include <map>
#include <set>
#include <string>
#include <vector>

#include "codegen/cpu/cpu_compiler.h"
#include "ir/graph.h"
#include "passes/pass.h"

namespace kiln::cuda_codegen {

struct CudaCompileOptions : codegen::GraphOptions {
  std::string arch = "sm_90";                // --cuda-arch: "sm_90" or a list "sm_90,sm_80"
  bool ptx_only = false;                     // PTX alone (JIT-compiled on any newer GPU)
  bool library_calls = true;                 // GEMM/conv through cuBLASLt/cuDNN
  // (--quantize fp16 gives f16 GEMM/conv, which run on tensor cores through the libraries.)
};

// Optimizes `g` in place and compiles it. Fails with one line for an architecture NVRTC cannot
// target or kernels that do not compile (the first lines of NVRTC's log).
cpu_codegen::CompiledModel compile_for_cuda(Graph& g, const CudaCompileOptions& options);

}  // namespace kiln::cuda_codegen
