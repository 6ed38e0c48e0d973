// Internal: what the optimized op kernels (op_*.cpp, listed in kernel_table.cpp) share: the
// declarations, the fall-back to the reference kernel, outputs allocated without zero-filling,
// and splitting a loop over KernelContext::pool.
#pragma once

#include <cstdint>
#include <functional>

#include "runtime/kernels/ref/kernel.h"

namespace kiln::cpu {

// One per op, same contract as ref_<Op>: outside its fast path each calls the reference kernel.
void fast_Conv(KernelContext& ctx);
void fast_ConvTranspose(KernelContext& ctx);
void fast_KilnConvGradWeight(KernelContext& ctx);
void fast_Gemm(KernelContext& ctx);
void fast_MatMul(KernelContext& ctx);
void fast_MaxPool(KernelContext& ctx);
void fast_AveragePool(KernelContext& ctx);
void fast_GlobalAveragePool(KernelContext& ctx);
void fast_KilnMaxPoolGrad(KernelContext& ctx);
void fast_KilnReluGrad(KernelContext& ctx);
// Conv's fast path with an optional fused ReLU (KilnFusedConv with only bias and Relu uses it);
// anything it does not handle goes to the node's reference kernel.
void conv2d_forward(KernelContext& ctx, bool relu);
void fast_Relu(KernelContext& ctx);
void fast_Add(KernelContext& ctx);
void fast_Sub(KernelContext& ctx);
void fast_Mul(KernelContext& ctx);
void fast_Div(KernelContext& ctx);
void fast_Greater(KernelContext& ctx);
void fast_Where(KernelContext& ctx);
void fast_ReduceSum(KernelContext& ctx);
void fast_KilnSoftmaxCrossEntropyGrad(KernelContext& ctx);
void fast_KilnFusedConv(KernelContext& ctx);    // op_fused.cpp
void fast_KilnFusedMatMul(KernelContext& ctx);  // op_fused.cpp
void fast_Softmax(KernelContext& ctx);
void fast_LayerNormalization(KernelContext& ctx);
void fast_KilnAttention(KernelContext& ctx);
void fast_Transpose(KernelContext& ctx);

// Runs the reference kernel of ctx.op on ctx (the way out of every fast path).
void run_reference(KernelContext& ctx);

// True if input i is present and f32 (absent optional inputs: `absent_ok`).
bool input_is_f32(const KernelContext& ctx, size_t i, bool absent_ok = false);

// Output i with the inferred static dims (or `dims`), its bytes left uninitialized: for kernels
// that write every element, so the zero fill of a fresh Tensor is not paid twice.
Tensor& uninit_output(KernelContext& ctx, size_t i);
Tensor& uninit_output(KernelContext& ctx, size_t i, const Dims& dims);

// fn(begin, end) over [0, n): split over `pool` when there is one and n * cost_per_item is
// worth it, else on this thread. Callers make every item's arithmetic independent of its
// chunk, so results never depend on the thread count.
void parallel_ranges(ThreadPool* pool, int64_t n, int64_t cost_per_item,
                     const std::function<void(int64_t, int64_t)>& fn);

}  // namespace kiln::cpu
