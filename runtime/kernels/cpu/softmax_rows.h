// Row kernels for the softmax family and layer normalization on contiguous f32 rows, written
// so the compiler vectorizes them (no calls, no branches in the inner loops): exp is a
// Cody-Waite range reduction to [-ln2/2, ln2/2] and a degree-6 polynomial (error ~2 ulp), sums
// go through 16 float lanes combined in double. Used by the op kernels (op_softmax.cpp) and
// the fused attention kernel.
#pragma once

#include <cstdint>

namespace kiln::cpu {

// y[i] = exp(x[i] - max(x)) / sum_j exp(x[j] - max(x)); y may alias x. n >= 1. Runs the
// AVX-512 version (softmax_rows_avx512.cpp, bit-identical) when that is the active ISA.
void softmax_row(const float* x, float* y, int64_t n);
void softmax_row_avx512(const float* x, float* y, int64_t n);

// y = (x - mean) / sqrt(var + eps) * gamma + beta (beta may be null); y may alias x.
void layernorm_row(const float* x, const float* gamma, const float* beta, float* y, int64_t n,
                   float eps);

// e^x for each element, 0 below -87.3 and +inf above 88.37 (2^127.5: the scaling stays a
// normal float; true overflow is at 88.72); NaN stays NaN. Softmax only feeds it x <= 0.
void exp_row(const float* x, float* y, int64_t n);

}  // namespace kiln::cpu
