#include "runtime/kernels/cpu/kernel_table.h"

#include "runtime/kernels/cpu/op_util.h"

namespace kiln {

KernelFn cpu_kernel(OpKind op) {
  using namespace cpu;
  switch (op) {
    case OpKind::Conv: return &fast_Conv;
    case OpKind::ConvTranspose: return &fast_ConvTranspose;
    case OpKind::KilnConvGradWeight: return &fast_KilnConvGradWeight;
    case OpKind::Gemm: return &fast_Gemm;
    case OpKind::MatMul: return &fast_MatMul;
    case OpKind::MaxPool: return &fast_MaxPool;
    case OpKind::AveragePool: return &fast_AveragePool;
    case OpKind::GlobalAveragePool: return &fast_GlobalAveragePool;
    case OpKind::KilnMaxPoolGrad: return &fast_KilnMaxPoolGrad;
    case OpKind::KilnReluGrad: return &fast_KilnReluGrad;
    case OpKind::Relu: return &fast_Relu;
    case OpKind::Add: return &fast_Add;
    case OpKind::Sub: return &fast_Sub;
    case OpKind::Mul: return &fast_Mul;
    case OpKind::Div: return &fast_Div;
    case OpKind::Greater: return &fast_Greater;
    case OpKind::Where: return &fast_Where;
    case OpKind::ReduceSum: return &fast_ReduceSum;
    case OpKind::KilnSoftmaxCrossEntropyGrad: return &fast_KilnSoftmaxCrossEntropyGrad;
    case OpKind::KilnFusedConv: return &fast_KilnFusedConv;
    case OpKind::KilnFusedMatMul: return &fast_KilnFusedMatMul;
    case OpKind::Softmax: return &fast_Softmax;
    case OpKind::LayerNormalization: return &fast_LayerNormalization;
    case OpKind::KilnAttention: return &fast_KilnAttention;
    case OpKind::Transpose: return &fast_Transpose;
    default: return nullptr;
  }
}

}  // namespace kiln
