#include "runtime/devices/cuda/library_ops.h"

#include <bit>

#include "ir/error.h"
#include "runtime/devices/cuda/library_launch.h"

namespace kiln::cuda_rt {
namespace {

namespace G = cuda_launch::gemm;
namespace C = cuda_launch::conv;

constexpr size_t kGemmWorkspace = size_t{32} << 20;  // cuBLASLt's recommended on Hopper

bool is_f16(int64_t dtype) { return dtype == 10; }

}  // namespace

void check_library_launch(const std::string& symbol, const std::vector<int64_t>& p, size_t num_args,
                          const std::string& what) {
  auto positive = [&](std::initializer_list<size_t> idx) {
    for (size_t i : idx)
      if (p[i] < 1 || p[i] > (int64_t{1} << 40))
        fail(what, ": ", symbol, " param ", i, " is ", p[i], " (expected a positive size)");
  };
  auto flag = [&](size_t i) {
    if (p[i] != 0 && p[i] != 1) fail(what, ": ", symbol, " param ", i, " must be 0 or 1");
  };
  if (symbol == cuda_launch::kGemmSymbol) {
    if (p.size() != G::kCount)
      fail(what, ": ", symbol, " has ", p.size(), " params, expected ", size_t{G::kCount});
    positive({G::kBatch, G::kM, G::kN, G::kK});
    for (size_t i : {G::kTransA, G::kTransB, G::kHasBias, G::kHasC}) flag(i);
    if (p[G::kDType] != 1 && !is_f16(p[G::kDType]))
      fail(what, ": ", symbol, " dtype ", p[G::kDType], " (expected f32 or f16)");
    if (p[G::kActivation] != cuda_launch::kNone && p[G::kActivation] != cuda_launch::kRelu)
      fail(what, ": ", symbol, " activation ", p[G::kActivation]);
    const size_t want = 3 + p[G::kHasBias] + p[G::kHasC];
    if (num_args != want) fail(what, ": ", symbol, " has ", num_args, " args, expected ", want);
    return;
  }
  if (symbol == cuda_launch::kConvSymbol) {
    if (p.size() != C::kCount)
      fail(what, ": ", symbol, " has ", p.size(), " params, expected ", size_t{C::kCount});
    positive({C::kN, C::kC, C::kH, C::kW, C::kK, C::kR, C::kS, C::kStrideH, C::kStrideW,
              C::kDilationH, C::kDilationW, C::kGroups, C::kOutH, C::kOutW});
    if (p[C::kPadH] < 0 || p[C::kPadW] < 0) fail(what, ": ", symbol, " has a negative pad");
    if (p[C::kC] % p[C::kGroups] != 0 || p[C::kK] % p[C::kGroups] != 0)
      fail(what, ": ", symbol, " channels do not divide into ", p[C::kGroups], " groups");
    for (size_t i : {C::kHasBias, C::kHasZ}) flag(i);
    if (p[C::kDType] != 1 && !is_f16(p[C::kDType]))
      fail(what, ": ", symbol, " dtype ", p[C::kDType], " (expected f32 or f16)");
    if (p[C::kActivation] != cuda_launch::kNone && p[C::kActivation] != cuda_launch::kRelu)
      fail(what, ": ", symbol, " activation ", p[C::kActivation]);
    const size_t want = 3 + p[C::kHasBias] + p[C::kHasZ];
    if (num_args != want) fail(what, ": ", symbol, " has ", num_args, " args, expected ", want);
    return;
  }
  fail(what, ": unknown CUDA library launch '", symbol, "'");
}

void LibraryHandles::reset() noexcept {
  if (lt) cublaslt().cublasLtDestroy(lt);
  if (dnn) cudnn().cudnnDestroy(dnn);
  lt = nullptr;
  dnn = nullptr;
}

namespace {

// Row-major Y = A @ B is column-major Y^T = B^T @ A^T: cuBLASLt's "A" is our B and its "B" our
// A, with m = N and n = M; bias runs along m, i.e. along Y's columns as Gemm's bias does.
class GemmOp final : public LibraryOp {
 public:
  GemmOp(const std::vector<int64_t>& p, cublasLtHandle_t lt) : p_(p), lt_(lt) {
    const CublasLtApi& api = cublaslt();
    const cudaDataType_t type = is_f16(p[G::kDType]) ? CUDA_R_16F : CUDA_R_32F;
    const int64_t M = p[G::kM], N = p[G::kN], K = p[G::kK];
    const bool ta = p[G::kTransA] != 0, tb = p[G::kTransB] != 0;
    check(api.cublasLtMatmulDescCreate(&desc_, CUBLAS_COMPUTE_32F, CUDA_R_32F), "matmul desc");
    const cublasOperation_t op_a = tb ? CUBLAS_OP_T : CUBLAS_OP_N;  // cuBLASLt's A = our B
    const cublasOperation_t op_b = ta ? CUBLAS_OP_T : CUBLAS_OP_N;
    set_desc(CUBLASLT_MATMUL_DESC_TRANSA, op_a);
    set_desc(CUBLASLT_MATMUL_DESC_TRANSB, op_b);
    cublasLtEpilogue_t epi = CUBLASLT_EPILOGUE_DEFAULT;
    const bool relu = p[G::kActivation] == cuda_launch::kRelu;
    if (p[G::kHasBias]) {
      epi = relu ? CUBLASLT_EPILOGUE_RELU_BIAS : CUBLASLT_EPILOGUE_BIAS;
      set_desc(CUBLASLT_MATMUL_DESC_BIAS_DATA_TYPE, type);
    } else if (relu) {
      epi = CUBLASLT_EPILOGUE_RELU;
    }
    set_desc(CUBLASLT_MATMUL_DESC_EPILOGUE, epi);
    a_ = layout(type, tb ? K : N, tb ? N : K, tb ? K : N, p[G::kStrideB]);
    b_ = layout(type, ta ? M : K, ta ? K : M, ta ? M : K, p[G::kStrideA]);
    d_ = layout(type, N, M, N, p[G::kStrideY]);
    alpha_ = std::bit_cast<float>(static_cast<uint32_t>(p[G::kAlphaBits]));
    beta_ = p[G::kHasC] ? 1.0f : 0.0f;

    cublasLtMatmulPreference_t pref = nullptr;
    check(api.cublasLtMatmulPreferenceCreate(&pref), "matmul preference");
    const size_t ws = kGemmWorkspace;
    api.cublasLtMatmulPreferenceSetAttribute(pref, CUBLASLT_MATMUL_PREF_MAX_WORKSPACE_BYTES, &ws,
                                             sizeof ws);
    cublasLtMatmulHeuristicResult_t result{};
    int found = 0;
    const cublasStatus_t rc =
        api.cublasLtMatmulAlgoGetHeuristic(lt_, desc_, a_, b_, d_, d_, pref, 1, &result, &found);
    api.cublasLtMatmulPreferenceDestroy(pref);
    check(rc, "algorithm heuristic");
    if (found < 1) fail("cuBLASLt has no algorithm for GEMM ", M, "x", N, "x", K);
    algo_ = result.algo;
    workspace_ = result.workspaceSize;
  }
  ~GemmOp() override {
    const CublasLtApi& api = cublaslt();
    for (cublasLtMatrixLayout_t l : {a_, b_, d_})
      if (l) api.cublasLtMatrixLayoutDestroy(l);
    if (desc_) api.cublasLtMatmulDescDestroy(desc_);
  }
  size_t workspace_bytes() const override { return workspace_; }

  void enqueue(const std::vector<CUdeviceptr>& ptrs, CUdeviceptr workspace, size_t ws_bytes,
               CUdeviceptr, CUstream stream) override {
    const CublasLtApi& api = cublaslt();
    size_t next = 3;
    if (p_[G::kHasBias]) {
      const void* bias = reinterpret_cast<const void*>(ptrs[next++]);
      set_desc(CUBLASLT_MATMUL_DESC_BIAS_POINTER, bias);
    }
    const CUdeviceptr c = p_[G::kHasC] ? ptrs[next] : ptrs[2];
    auto dev = [](CUdeviceptr x) { return reinterpret_cast<void*>(x); };
    check(api.cublasLtMatmul(lt_, desc_, &alpha_, dev(ptrs[1]), a_, dev(ptrs[0]), b_, &beta_,
                             dev(c), d_, dev(ptrs[2]), d_, &algo_, dev(workspace), ws_bytes,
                             reinterpret_cast<cudaStream_t>(stream)),
          "matmul");
  }

 private:
  template <typename T>
  void set_desc(cublasLtMatmulDescAttributes_t attr, const T& v) {
    check(cublaslt().cublasLtMatmulDescSetAttribute(desc_, attr, &v, sizeof v), "matmul attribute");
  }
  cublasLtMatrixLayout_t layout(cudaDataType_t type, int64_t rows, int64_t cols, int64_t ld,
                                int64_t stride) {
    const CublasLtApi& api = cublaslt();
    cublasLtMatrixLayout_t l = nullptr;
    check(api.cublasLtMatrixLayoutCreate(&l, type, static_cast<uint64_t>(rows),
                                         static_cast<uint64_t>(cols), ld),
          "matrix layout");
    const int32_t batch = static_cast<int32_t>(p_[G::kBatch]);
    if (batch > 1) {
      api.cublasLtMatrixLayoutSetAttribute(l, CUBLASLT_MATRIX_LAYOUT_BATCH_COUNT, &batch,
                                           sizeof batch);
      api.cublasLtMatrixLayoutSetAttribute(l, CUBLASLT_MATRIX_LAYOUT_STRIDED_BATCH_OFFSET, &stride,
                                           sizeof stride);
    }
    return l;
  }

  std::vector<int64_t> p_;
  cublasLtHandle_t lt_;
  cublasLtMatmulDesc_t desc_ = nullptr;
  cublasLtMatrixLayout_t a_ = nullptr, b_ = nullptr, d_ = nullptr;
  cublasLtMatmulAlgo_t algo_{};
  size_t workspace_ = 0;
  float alpha_ = 1, beta_ = 0;
};

class ConvOp final : public LibraryOp {
 public:
  ConvOp(const std::vector<int64_t>& p, cudnnHandle_t dnn) : p_(p), dnn_(dnn) {
    const CudnnApi& api = cudnn();
    const bool half = is_f16(p[C::kDType]);
    const cudnnDataType_t type = half ? CUDNN_DATA_HALF : CUDNN_DATA_FLOAT;
    auto i = [&](size_t k) { return static_cast<int>(p[k]); };
    check(api.cudnnCreateTensorDescriptor(&x_), "tensor descriptor");
    check(api.cudnnSetTensor4dDescriptor(x_, CUDNN_TENSOR_NCHW, type, i(C::kN), i(C::kC), i(C::kH),
                                         i(C::kW)),
          "input descriptor");
    check(api.cudnnCreateTensorDescriptor(&y_), "tensor descriptor");
    check(api.cudnnSetTensor4dDescriptor(y_, CUDNN_TENSOR_NCHW, type, i(C::kN), i(C::kK),
                                         i(C::kOutH), i(C::kOutW)),
          "output descriptor");
    check(api.cudnnCreateTensorDescriptor(&bias_), "tensor descriptor");
    check(api.cudnnSetTensor4dDescriptor(bias_, CUDNN_TENSOR_NCHW, type, 1, i(C::kK), 1, 1),
          "bias descriptor");
    check(api.cudnnCreateFilterDescriptor(&w_), "filter descriptor");
    check(api.cudnnSetFilter4dDescriptor(w_, type, CUDNN_TENSOR_NCHW, i(C::kK),
                                         i(C::kC) / i(C::kGroups), i(C::kR), i(C::kS)),
          "filter descriptor");
    check(api.cudnnCreateConvolutionDescriptor(&conv_), "convolution descriptor");
    check(api.cudnnSetConvolution2dDescriptor(conv_, i(C::kPadH), i(C::kPadW), i(C::kStrideH),
                                              i(C::kStrideW), i(C::kDilationH), i(C::kDilationW),
                                              CUDNN_CROSS_CORRELATION, CUDNN_DATA_FLOAT),
          "convolution descriptor");
    check(api.cudnnSetConvolutionGroupCount(conv_, i(C::kGroups)), "group count");
    // f32 stays exact f32 (no TF32); f16 uses tensor cores with f32 accumulation.
    check(api.cudnnSetConvolutionMathType(conv_, half ? CUDNN_TENSOR_OP_MATH : CUDNN_FMA_MATH),
          "math type");
    check(api.cudnnCreateActivationDescriptor(&act_), "activation descriptor");
    relu_ = p[C::kActivation] == cuda_launch::kRelu;
    check(api.cudnnSetActivationDescriptor(
              act_, relu_ ? CUDNN_ACTIVATION_RELU : CUDNN_ACTIVATION_IDENTITY,
              CUDNN_NOT_PROPAGATE_NAN, 0.0),
          "activation descriptor");
    fused_ = p[C::kHasBias] || p[C::kHasZ] || relu_;
    if (fused_ && !relu_) {
      // cuDNN runs an identity activation only with this algorithm.
      algo_ = CUDNN_CONVOLUTION_FWD_ALGO_IMPLICIT_PRECOMP_GEMM;
    } else {
      cudnnConvolutionFwdAlgoPerf_t perf[8];
      int found = 0;
      check(api.cudnnGetConvolutionForwardAlgorithm_v7(dnn_, x_, w_, conv_, y_, 8, &found, perf),
            "algorithm heuristic");
      bool chosen = false;
      for (int k = 0; k < found && !chosen; ++k) {
        if (perf[k].status == CUDNN_STATUS_SUCCESS) {
          algo_ = perf[k].algo;
          chosen = true;
        }
      }
      if (!chosen) fail("cuDNN has no algorithm for this convolution");
    }
    check(api.cudnnGetConvolutionForwardWorkspaceSize(dnn_, x_, w_, conv_, y_, algo_, &workspace_),
          "workspace size");
  }
  ~ConvOp() override {
    const CudnnApi& api = cudnn();
    for (cudnnTensorDescriptor_t t : {x_, y_, bias_})
      if (t) api.cudnnDestroyTensorDescriptor(t);
    if (w_) api.cudnnDestroyFilterDescriptor(w_);
    if (conv_) api.cudnnDestroyConvolutionDescriptor(conv_);
    if (act_) api.cudnnDestroyActivationDescriptor(act_);
  }
  size_t workspace_bytes() const override { return workspace_; }
  size_t zero_bytes() const override {
    return fused_ && !p_[C::kHasBias] ? static_cast<size_t>(p_[C::kK]) * 4 : 0;
  }

  void enqueue(const std::vector<CUdeviceptr>& ptrs, CUdeviceptr workspace, size_t ws_bytes,
               CUdeviceptr zeros, CUstream) override {
    const CudnnApi& api = cudnn();
    auto dev = [](CUdeviceptr x) { return reinterpret_cast<void*>(x); };
    const float one = 1.0f, zero = 0.0f;
    if (!fused_) {
      check(api.cudnnConvolutionForward(dnn_, &one, x_, dev(ptrs[0]), w_, dev(ptrs[1]), conv_,
                                        algo_, dev(workspace), ws_bytes, &zero, y_, dev(ptrs[2])),
            "convolution");
      return;
    }
    size_t next = 3;
    const CUdeviceptr bias = p_[C::kHasBias] ? ptrs[next++] : zeros;
    const CUdeviceptr z = p_[C::kHasZ] ? ptrs[next] : ptrs[2];
    const float alpha2 = p_[C::kHasZ] ? 1.0f : 0.0f;
    check(api.cudnnConvolutionBiasActivationForward(
              dnn_, &one, x_, dev(ptrs[0]), w_, dev(ptrs[1]), conv_, algo_, dev(workspace),
              ws_bytes, &alpha2, y_, dev(z), bias_, dev(bias), act_, y_, dev(ptrs[2])),
          "convolution with bias and activation");
  }

 private:
  std::vector<int64_t> p_;
  cudnnHandle_t dnn_;
  cudnnTensorDescriptor_t x_ = nullptr, y_ = nullptr, bias_ = nullptr;
  cudnnFilterDescriptor_t w_ = nullptr;
  cudnnConvolutionDescriptor_t conv_ = nullptr;
  cudnnActivationDescriptor_t act_ = nullptr;
  cudnnConvolutionFwdAlgo_t algo_ = CUDNN_CONVOLUTION_FWD_ALGO_IMPLICIT_PRECOMP_GEMM;
  size_t workspace_ = 0;
  bool relu_ = false, fused_ = false;
};

}  // namespace

std::unique_ptr<LibraryOp> plan_library_op(const std::string& symbol,
                                           const std::vector<int64_t>& params,
                                           LibraryHandles& handles, CUstream stream) {
  if (symbol == cuda_launch::kGemmSymbol) {
    if (!handles.lt) check(cublaslt().cublasLtCreate(&handles.lt), "create handle");
    return std::make_unique<GemmOp>(params, handles.lt);
  }
  if (symbol == cuda_launch::kConvSymbol) {
    if (!handles.dnn) {
      check(cudnn().cudnnCreate(&handles.dnn), "create handle");
      check(cudnn().cudnnSetStream(handles.dnn, reinterpret_cast<cudaStream_t>(stream)),
            "set stream");
    }
    return std::make_unique<ConvOp>(params, handles.dnn);
  }
  fail("unknown CUDA library launch '", symbol, "'");
}

}  // namespace kiln::cuda_rt
