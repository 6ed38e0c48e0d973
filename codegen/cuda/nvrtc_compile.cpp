#include "codegen/cuda/nvrtc_compile.h"

#include <nvrtc.h>

#include <algorithm>
#include <chrono>
#include <sstream>

#include "ir/error.h"

namespace kiln::cuda_codegen {
namespace {

void check(nvrtcResult rc, const char* what) {
  if (rc != NVRTC_SUCCESS) fail("NVRTC ", what, ": ", nvrtcGetErrorString(rc));
}

// The first lines of a build log: enough to see the error without flooding the terminal.
std::string log_head(const std::string& log, size_t max_lines = 8) {
  std::istringstream in(log);
  std::string line, out;
  for (size_t n = 0; n < max_lines && std::getline(in, line);) {
    if (line.empty()) continue;
    out += (out.empty() ? "" : " | ") + line;
    ++n;
  }
  return out;
}

class Program {
 public:
  explicit Program(const std::string& source) {
    check(nvrtcCreateProgram(&prog_, source.c_str(), "kiln_kernels.cu", 0, nullptr, nullptr),
          "create program");
  }
  ~Program() { nvrtcDestroyProgram(&prog_); }
  Program(const Program&) = delete;
  Program& operator=(const Program&) = delete;

  // `arch_flag` is "compute_90" (PTX) or "sm_90" (cubin).
  void compile(const std::string& arch_flag) {
    const std::string arch = "--gpu-architecture=" + arch_flag;
    std::vector<const char*> opts = {arch.c_str(), "--std=c++17",
                                     "--device-as-default-execution-space"};
#ifdef KILN_CUDA_INCLUDE_DIR
    opts.push_back("--include-path=" KILN_CUDA_INCLUDE_DIR);
#endif
    const nvrtcResult rc = nvrtcCompileProgram(prog_, static_cast<int>(opts.size()), opts.data());
    if (rc != NVRTC_SUCCESS) {
      size_t n = 0;
      nvrtcGetProgramLogSize(prog_, &n);
      std::string log(n, '\0');
      if (n) nvrtcGetProgramLog(prog_, log.data());
      fail("NVRTC (", arch_flag, ") failed to compile the generated kernels: ", log_head(log));
    }
  }
  std::vector<uint8_t> ptx() {
    size_t n = 0;
    check(nvrtcGetPTXSize(prog_, &n), "PTX size");
    std::vector<uint8_t> out(n);
    check(nvrtcGetPTX(prog_, reinterpret_cast<char*>(out.data())), "get PTX");
    if (out.empty() || out.back() != 0) out.push_back(0);
    return out;
  }
  std::vector<uint8_t> cubin() {
    size_t n = 0;
    check(nvrtcGetCUBINSize(prog_, &n), "cubin size");
    std::vector<uint8_t> out(n);
    check(nvrtcGetCUBIN(prog_, reinterpret_cast<char*>(out.data())), "get cubin");
    return out;
  }

 private:
  nvrtcProgram prog_ = nullptr;
};

std::string arch_list_text(const std::vector<uint32_t>& archs) {
  std::string s;
  for (uint32_t a : archs) s += cat(s.empty() ? "" : ", ", "sm_", a);
  return s;
}

}  // namespace

std::vector<uint32_t> nvrtc_supported_archs() {
  int n = 0;
  check(nvrtcGetNumSupportedArchs(&n), "list architectures");
  std::vector<int> archs(static_cast<size_t>(n));
  if (n) check(nvrtcGetSupportedArchs(archs.data()), "list architectures");
  return std::vector<uint32_t>(archs.begin(), archs.end());
}

std::vector<uint32_t> parse_cuda_arch_list(const std::string& list) {
  const std::vector<uint32_t> supported = nvrtc_supported_archs();
  std::vector<uint32_t> out;
  size_t start = 0;
  while (start <= list.size()) {
    const size_t comma = std::min(list.find(',', start), list.size());
    const std::string name = list.substr(start, comma - start);
    if (name.empty()) fail("--cuda-arch: empty architecture in '", list, "'");
    const uint32_t arch = artifact::parse_cuda_arch(name);
    if (std::find(supported.begin(), supported.end(), arch) == supported.end())
      fail("--cuda-arch: this NVRTC cannot target ", name, " (it supports ",
           arch_list_text(supported), ")");
    if (std::find(out.begin(), out.end(), arch) == out.end()) out.push_back(arch);
    start = comma + 1;
  }
  return out;
}

CudaModuleCode compile_cuda_source(const std::string& source, const std::vector<uint32_t>& archs,
                                   bool ptx_only) {
  if (archs.empty()) fail("compile_cuda_source: no architecture");
  const auto t0 = std::chrono::steady_clock::now();
  CudaModuleCode out;
  const uint32_t lowest = *std::min_element(archs.begin(), archs.end());
  {
    Program p(source);
    p.compile(cat("compute_", lowest));
    out.blobs.push_back({artifact::CudaBlobKind::Ptx, lowest, p.ptx()});
  }
  if (!ptx_only) {
    for (uint32_t arch : archs) {
      Program p(source);
      p.compile(cat("sm_", arch));
      out.blobs.push_back({artifact::CudaBlobKind::Cubin, arch, p.cubin()});
    }
  }
  out.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  return out;
}

std::string compile_to_ptx(const std::string& source, uint32_t arch) {
  Program p(source);
  p.compile(cat("compute_", arch));
  std::vector<uint8_t> ptx = p.ptx();
  return std::string(reinterpret_cast<const char*>(ptx.data()), ptx.size() - 1);
}

}  // namespace kiln::cuda_codegen
