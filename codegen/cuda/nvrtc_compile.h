// Compiles rendered CUDA C++ with NVRTC at `kilnc compile` time: PTX for the lowest requested
// architecture's virtual target (the driver JIT-compiles it on newer GPUs) and one cubin per
// requested real architecture. No GPU is needed.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "runtime/artifact/cuda_code.h"

namespace kiln::cuda_codegen {

// Real architectures this NVRTC can target (75, 80, 86, 89, 90, ...).
std::vector<uint32_t> nvrtc_supported_archs();

// "sm_90,sm_80" -> {90, 80} (order kept, duplicates dropped). Fails with one line for a name
// that is not sm_XY or that this NVRTC cannot target, listing the ones it can.
std::vector<uint32_t> parse_cuda_arch_list(const std::string& list);

struct CudaModuleCode {
  std::vector<artifact::CudaBlobData> blobs;  // PTX first, then the cubins
  double seconds = 0;                         // NVRTC time, for the compile report
};

// `ptx_only`: skip the cubins (the artifact then JIT-compiles on every GPU). Fails with the
// first lines of NVRTC's log when the source does not compile.
CudaModuleCode compile_cuda_source(const std::string& source, const std::vector<uint32_t>& archs,
                                   bool ptx_only = false);

// One arch at a time, for tests: PTX text (without the NUL) for compute_<arch>.
std::string compile_to_ptx(const std::string& source, uint32_t arch);

}  // namespace kiln::cuda_codegen
