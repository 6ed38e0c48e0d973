// Library launches of the CUDA target: GEMM and convolution run through cuBLASLt and cuDNN
// instead of generated kernels. The compiler (codegen/cuda) writes them into the launch list by
// these symbols with these params; the CUDA driver (runtime/devices/cuda) plans and runs them.
// No CUDA headers here: both sides include it, the compiler also without the runtime libraries.
#pragma once

#include <cstddef>
#include <cstdint>

namespace kiln::cuda_launch {

// Y[b] = act(alpha * op(A[b]) @ op(B[b]) + bias + C[b]), row-major, fp32 accumulation.
// args: A, B, Y, then bias (N elements) if has_bias, then C (same shape as Y) if has_c.
inline constexpr char kGemmSymbol[] = "kiln_cublas_gemm";
namespace gemm {
enum Param : size_t {
  kBatch,
  kM,
  kN,
  kK,
  kTransA,
  kTransB,
  kStrideA,
  kStrideB,
  kStrideY,    // elements between batch matrices (0: broadcast A or B)
  kDType,      // ONNX dtype code of A, B, Y, bias, C: 1 = f32, 10 = f16
  kAlphaBits,  // f32 alpha as its bit pattern
  kHasBias,
  kHasC,
  kActivation,  // Activation below
  kCount
};
}  // namespace gemm

// Y = act(conv2d(X, W) + bias[k] + Z), NCHW, symmetric pads, fp32 accumulation.
// args: X, W, Y, then bias (K elements) if has_bias, then Z (same shape as Y) if has_z.
inline constexpr char kConvSymbol[] = "kiln_cudnn_conv";
namespace conv {
enum Param : size_t {
  kN,
  kC,
  kH,
  kW,  // input
  kK,
  kR,
  kS,  // filters: K x (C/groups) x R x S
  kPadH,
  kPadW,
  kStrideH,
  kStrideW,
  kDilationH,
  kDilationW,
  kGroups,
  kOutH,
  kOutW,
  kDType,  // 1 = f32, 10 = f16
  kHasBias,
  kHasZ,
  kActivation,
  kCount
};
}  // namespace conv

enum Activation : int64_t { kNone = 0, kRelu = 1 };

inline bool is_library_symbol(const char* s, size_t n) {
  auto starts = [&](const char* p, size_t k) {
    if (n < k) return false;
    for (size_t i = 0; i < k; ++i)
      if (s[i] != p[i]) return false;
    return true;
  };
  return starts("kiln_cublas_", 12) || starts("kiln_cudnn_", 11);
}

}  // namespace kiln::cuda_launch
