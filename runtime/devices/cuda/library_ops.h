// Plans and runs the library launches of runtime/devices/cuda/library_launch.h: a GEMM through
// cuBLASLt (bias and ReLU in its epilogue, a residual through C with beta = 1) and a convolution
// through cuDNN (bias, residual and ReLU fused by cudnnConvolutionBiasActivationForward). Plans
// are made once per session, before the launch list is captured into a CUDA graph, so nothing
// during capture allocates or searches algorithms.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "runtime/devices/cuda/cuda_api.h"

namespace kiln::cuda_rt {

// Validates a library launch's symbol, params and arg count at model load; one line naming it.
void check_library_launch(const std::string& symbol, const std::vector<int64_t>& params,
                          size_t num_args, const std::string& what);

class LibraryOp {
 public:
  virtual ~LibraryOp() = default;
  virtual size_t workspace_bytes() const = 0;
  virtual size_t zero_bytes() const { return 0; }  // a zero bias it needs (cuDNN wants one)
  // `ptrs`: the launch's args resolved to device addresses.
  virtual void enqueue(const std::vector<CUdeviceptr>& ptrs, CUdeviceptr workspace,
                       size_t workspace_bytes, CUdeviceptr zeros, CUstream stream) = 0;
};

// Library handles of one session, bound to its stream.
struct LibraryHandles {
  cublasLtHandle_t lt = nullptr;
  cudnnHandle_t dnn = nullptr;
  void reset() noexcept;
  ~LibraryHandles() { reset(); }
};

std::unique_ptr<LibraryOp> plan_library_op(const std::string& symbol,
                                           const std::vector<int64_t>& params,
                                           LibraryHandles& handles, CUstream stream);

}  // namespace kiln::cuda_rt
