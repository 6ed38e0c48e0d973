// The kernel families codegen/gpu generates, each described by plain numbers (shapes, strides,
// parameters baked into the source) and written once against KernelWriter, so every family
// renders to OpenCL C and CUDA C++ and in both profiles. Buffer fields are launch argument
// indices; the caller declares the kernel's buffers (KernelWriter::buffer) in argument order
// before calling an emit_* function.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "codegen/cpu/kernel_plan.h"
#include "codegen/gpu/kernel_writer.h"
#include "ir/tensor.h"

namespace kiln::gpu {

using cpu_codegen::EwProgram;
using cpu_codegen::EwStep;

// ---- helpers shared by the families (index math written once)
// Declares the coordinates of linear index `flat` over `dims` (row-major); returns their names.
std::vector<std::string> decompose(KernelWriter& k, const std::string& flat, const Dims& dims);
// sum(coord[d] * strides[d]) (zero strides skipped), "0L" when empty.
std::string offset_of(const std::vector<std::string>& coords, const std::vector<int64_t>& strides);
// One fused elementwise step on operand variables; returns an f32 expression.
std::string step_expr(const KernelWriter& k, const EwStep& s, const std::vector<std::string>& x);

// ---- fused f32 elementwise chain (codegen/cpu's EwProgram: fusion grouping is shared)
void emit_elementwise(KernelWriter& k, const EwProgram& p);

// ---- reductions over any set of axes
enum class ReduceKind { Sum, Mean, Max, Min, Prod, L1, L2, LogSum, LogSumExp, SumSquare };
struct ReduceDesc {
  Dims in_dims;
  std::vector<bool> reduced;  // per input dim
  ReduceKind kind = ReduceKind::Sum;
  int in = 0, out = 1;
};
void emit_reduce(KernelWriter& k, const ReduceDesc& d);

// ---- Softmax / LogSoftmax along one axis: [outer, n, inner]
struct SoftmaxDesc {
  int64_t outer = 1, n = 1, inner = 1;
  bool log = false;
  int in = 0, out = 1;
};
void emit_softmax(KernelWriter& k, const SoftmaxDesc& d);

// ---- LayerNormalization over the trailing `cols` elements of each of `rows` rows
struct LayerNormDesc {
  int64_t rows = 1, cols = 1;
  float epsilon = 1e-5f;
  int x = 0, scale = -1, bias = -1, y = -1, mean = -1, inv_std = -1;
  int64_t scale_stride = 1, bias_stride = 1;  // 1: per column; 0: one broadcast value
};
void emit_layer_norm(KernelWriter& k, const LayerNormDesc& d);

// ---- pooling over N*C planes with 1-3 spatial axes (global pooling = a full-size window)
struct PoolDesc {
  int64_t planes = 1;
  Dims in_spatial, out_spatial, kernel, strides, dilations, pad_begin, pad_end;
  bool max = true;
  bool count_include_pad = false;
  int in = 0, out = 1;
};
void emit_pool(KernelWriter& k, const PoolDesc& d);

// ---- data movement: each output element copied from one source element (or a constant)
enum class MoveKind { Copy, Transpose, Slice, Broadcast, Tile, Pad, Concat, Gather, Cast };
struct MoveDesc {
  MoveKind kind = MoveKind::Copy;
  Scalar elem = Scalar::F32;   // the element type (Cast: the output's)
  Scalar from = Scalar::F32;   // Cast: the input's
  bool cast_to_bool = false;   // Cast to BOOL: x != 0
  Dims out_dims;
  Dims in_dims;                // Transpose/Slice/Tile/Pad/Gather(data)
  std::vector<int64_t> perm;   // Transpose
  std::vector<int64_t> starts, steps;  // Slice (clamped starts), Pad (begin pads in starts)
  std::vector<int64_t> in_strides;     // Broadcast: per output dim, 0 where broadcast
  std::string pad_value;       // Pad: literal of the element type
  std::vector<Dims> parts;     // Concat: each input's dims
  int64_t axis = 0;            // Concat / Gather
  Dims index_dims;             // Gather: indices dims
  Scalar index_type = Scalar::I64;
  std::vector<int> in;         // input buffers (Concat: one per part; Gather: data, indices)
  int out = 1;
};
void emit_move(KernelWriter& k, const MoveDesc& d);

// ---- tiled GEMM: Y[b, m, n] = act(alpha * sum_k A[b,m,k] B[b,k,n] + epilogue inputs)
struct EpilogueInput {  // beta * X, X read at sum(coord * strides) over the output's dims
  int buffer = -1;
  std::vector<int64_t> strides;
  float beta = 1.0f;
};
struct GemmDesc {
  Dims batch;                                 // the output's batch dims
  std::vector<int64_t> a_batch, b_batch;      // element strides of A / B per batch dim
  int64_t M = 1, N = 1, K = 1;
  int64_t a_m = 0, a_k = 1, b_k = 0, b_n = 1;  // element strides inside one matrix
  float alpha = 1.0f;
  std::vector<EpilogueInput> adds;            // over the output dims (batch..., M, N)
  Dims out_dims;                              // the output's own dims (for epilogue strides)
  std::optional<EwStep> activation;
  int a = 0, b = 1, y = 2;
};
void emit_gemm(KernelWriter& k, const GemmDesc& d);

// ---- direct convolution with bias, residual and activation epilogues (1-3 spatial axes)
struct ConvDesc {
  int64_t N = 1, C = 1, M = 1, group = 1;
  Dims in_spatial, out_spatial, kernel, strides, dilations, pad_begin;
  std::vector<EpilogueInput> adds;  // residual, over the output dims
  Dims out_dims;
  std::optional<EwStep> activation;
  int x = 0, w = 1, bias = -1, y = 2;
};
void emit_conv(KernelWriter& k, const ConvDesc& d);

}  // namespace kiln::gpu
