// The CUDA libraries as the runtime sees them: loaded with dlopen at run time, never linked, so
// the runtime and kiln-run load and run CPU models on machines without CUDA
// (tests/cuda/test_cuda_runtime.cpp checks `ldd`). Types come from the toolkit headers at build
// time only. Each table is loaded once per process on first use.
#pragma once

#include <cublasLt.h>
#include <cuda.h>
#include <cudnn.h>

#include <string>

namespace kiln::cuda_rt {

// clang-format off
#define KILN_CUDA_DRIVER_FUNCTIONS(X) \
  X(cuInit) \
  X(cuDriverGetVersion) \
  X(cuGetErrorString) \
  X(cuDeviceGetCount) \
  X(cuDeviceGet) \
  X(cuDeviceGetAttribute) \
  X(cuDeviceGetName) \
  X(cuDevicePrimaryCtxRetain) \
  X(cuDevicePrimaryCtxRelease_v2) \
  X(cuCtxSetCurrent) \
  X(cuModuleLoadDataEx) \
  X(cuModuleGetFunction) \
  X(cuModuleUnload) \
  X(cuMemAlloc_v2) \
  X(cuMemFree_v2) \
  X(cuMemcpyHtoD_v2) \
  X(cuMemcpyHtoDAsync_v2) \
  X(cuMemcpyDtoHAsync_v2) \
  X(cuMemsetD8_v2) \
  X(cuMemHostAlloc) \
  X(cuMemFreeHost) \
  X(cuStreamCreate) \
  X(cuStreamDestroy_v2) \
  X(cuStreamSynchronize) \
  X(cuStreamBeginCapture_v2) \
  X(cuStreamEndCapture) \
  X(cuGraphInstantiateWithFlags) \
  X(cuGraphLaunch) \
  X(cuGraphExecDestroy) \
  X(cuGraphDestroy) \
  X(cuLaunchKernel) \
  X(cuLaunchHostFunc) \
  X(cuEventCreate) \
  X(cuEventRecord) \
  X(cuEventElapsedTime_v2) \
  X(cuEventDestroy_v2)

#define KILN_CUBLASLT_FUNCTIONS(X) \
  X(cublasLtCreate) \
  X(cublasLtDestroy) \
  X(cublasLtMatmulDescCreate) \
  X(cublasLtMatmulDescDestroy) \
  X(cublasLtMatmulDescSetAttribute) \
  X(cublasLtMatrixLayoutCreate) \
  X(cublasLtMatrixLayoutDestroy) \
  X(cublasLtMatrixLayoutSetAttribute) \
  X(cublasLtMatmulPreferenceCreate) \
  X(cublasLtMatmulPreferenceDestroy) \
  X(cublasLtMatmulPreferenceSetAttribute) \
  X(cublasLtMatmulAlgoGetHeuristic) \
  X(cublasLtMatmul)

#define KILN_CUDNN_FUNCTIONS(X) \
  X(cudnnCreate) \
  X(cudnnDestroy) \
  X(cudnnSetStream) \
  X(cudnnGetErrorString) \
  X(cudnnCreateTensorDescriptor) \
  X(cudnnSetTensor4dDescriptor) \
  X(cudnnDestroyTensorDescriptor) \
  X(cudnnCreateFilterDescriptor) \
  X(cudnnSetFilter4dDescriptor) \
  X(cudnnDestroyFilterDescriptor) \
  X(cudnnCreateConvolutionDescriptor) \
  X(cudnnSetConvolution2dDescriptor) \
  X(cudnnSetConvolutionGroupCount) \
  X(cudnnSetConvolutionMathType) \
  X(cudnnDestroyConvolutionDescriptor) \
  X(cudnnCreateActivationDescriptor) \
  X(cudnnSetActivationDescriptor) \
  X(cudnnDestroyActivationDescriptor) \
  X(cudnnGetConvolutionForwardAlgorithm_v7) \
  X(cudnnGetConvolutionForwardWorkspaceSize) \
  X(cudnnConvolutionForward) \
  X(cudnnConvolutionBiasActivationForward)

// clang-format on

#define KILN_CUDA_DECLARE(name) decltype(&::name) name = nullptr;

struct DriverApi {
  KILN_CUDA_DRIVER_FUNCTIONS(KILN_CUDA_DECLARE)
};
struct CublasLtApi {
  KILN_CUBLASLT_FUNCTIONS(KILN_CUDA_DECLARE)
};
struct CudnnApi {
  KILN_CUDNN_FUNCTIONS(KILN_CUDA_DECLARE)
};

// The driver (libcuda.so.1), initialized with cuInit. Fails with one line:
// "no CUDA driver (libcuda.so.1 not found)" when it is absent (KILN_CUDA_DRIVER overrides the
// library name, for tests), or naming the cuInit error.
const DriverApi& driver();
const CublasLtApi& cublaslt();  // libcublasLt.so.13 (or .12)
const CudnnApi& cudnn();        // libcudnn.so.9

// Throw one line "CUDA <what>: <error name>" on failure.
void check(CUresult rc, const char* what);
void check(cublasStatus_t rc, const char* what);
void check(cudnnStatus_t rc, const char* what);

}  // namespace kiln::cuda_rt
