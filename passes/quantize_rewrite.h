// The int8 rewrite shared by quantize-int8 (static) and quantize-int8-dynamic: which float
// nodes can become KilnQConv / KilnQMatMul, per-channel symmetric s8 weights, u8 activation
// parameters from a range, and the replacement itself.
#pragma once

#include <optional>

#include "ir/graph.h"
#include "passes/calibration.h"

namespace kiln {

// A Conv / KilnFusedConv (2-D, constant weights) or MatMul / Gemm / KilnFusedMatMul (constant
// 2-D B) seen as Y = act(x_op(X) * W * alpha + bias + Z) with weights in the int8 op's layout.
struct QuantizableNode {
  Node* node = nullptr;
  bool conv = false;
  Value* x = nullptr;
  Tensor weights;               // f32; conv [M, C/g, KH, KW], matmul [K, N]
  std::optional<Tensor> bias;   // f32 [channels], alpha / beta already applied
  Value* residual = nullptr;
  float alpha = 1;              // Gemm / KilnFusedMatMul alpha (folded into the weight scales)
  Attributes attrs;             // conv window attributes and the fused activation
  bool pays_alone = true;       // false: int8 pays only with u8 input or output (see below)
};

// nullopt when `n` is not one of the forms above (non-f32, non-constant weights, 3-D conv...),
// for depthwise convolutions other than 3x3 / stride 1 or 2 / padding 1 and for those with
// fewer than 16 input channels per group and a reduction under 64: faster in f32 (see
// quantize_rewrite.cpp). pays_alone is false for those 3x3 depthwise convs and for those doing
// fewer than 64 MACs per input value (output channels per group x taps / stride area) or
// reducing over fewer than 64 products (input channels per group x taps): int8 pays for them
// only with a u8 input or output.
std::optional<QuantizableNode> match_quantizable(const Graph& g, Node* n);

// Symmetric per-channel s8: scale[c] = max|w_c| / 127 (1 for an all-zero channel),
// q = clamp(round(w / scale), -127, 127). The channel is axis 0 (conv) or the last axis (matmul).
struct QuantizedWeights {
  Tensor q;       // i8, the weights' dims
  Tensor scales;  // f32 [channels]
};
QuantizedWeights quantize_weights(const Tensor& w, bool channel_last);

// Asymmetric u8 for a calibrated range (widened to include 0 so that 0 is exact).
struct ActivationParams {
  float scale = 1;
  int64_t zero_point = 0;
};
ActivationParams activation_params(Range r);

// Replaces q.node by KilnQConv / KilnQMatMul writing the same output; `x` gives static
// parameters, nullopt means dynamic (KilnQMatMul only). Callers topo_sort afterwards.
void rewrite_quantized(Graph& g, const QuantizableNode& q, std::optional<ActivationParams> x);

}  // namespace kiln
