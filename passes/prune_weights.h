// What unstructured (magnitude) and N:M pruning share: which weights they sparsify, the keep
// masks, and counting zeros. The passes and kiln-train's iterative pruning both use these, so
// a model pruned while training and one pruned at compile time follow the same rule.
#pragma once

#include <cstdint>
#include <vector>

#include "ir/graph.h"

namespace kiln {

// A constant f32 weight (input 1) of a Conv, Gemm or MatMul, viewed as [outer, len, inner]
// with the reduction dim as `len`: Conv W [M, C/g, k...] -> [M, C/g, prod(k)]; Gemm B [K, N]
// -> [1, K, N] (transB: [N, K] -> [N, K, 1]); MatMul B [..., K, N] -> [prod(...), K, N].
// Biases, BatchNorm parameters and weights that are graph inputs are never pruned. A weight
// read by several nodes is listed once, with the layout of its first reader.
struct PrunableWeight {
  Value* value = nullptr;
  int64_t outer = 1, len = 1, inner = 1;
};
std::vector<PrunableWeight> prunable_weights(const Graph& g);

using KeepMask = std::vector<uint8_t>;  // 1 = keep, 0 = prune; one entry per element

// Zeroes exactly round(ratio * numel) elements of each tensor with the smallest |w| (ties:
// the earlier element goes first), or with `global` round(ratio * total) across all of them.
std::vector<KeepMask> magnitude_masks(const std::vector<const Tensor*>& weights, double ratio,
                                      bool global);

// Keeps the n largest |w| of every m consecutive elements along the reduction dim (ties: the
// earlier element is kept). Requires w.len % m == 0 (see nm_applicable).
KeepMask nm_mask(const Tensor& t, const PrunableWeight& w, int n, int m);
bool nm_applicable(const PrunableWeight& w, int m);

// True when every group of m along the reduction dim has at most n nonzeros.
bool satisfies_nm(const Tensor& t, const PrunableWeight& w, int n, int m);

// Zeroes the masked-out elements of an f32 tensor in place.
void apply_mask(Tensor& t, const KeepMask& mask);

int64_t count_zeros(const Tensor& t);

}  // namespace kiln
