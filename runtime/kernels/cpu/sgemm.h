// Single-precision GEMM for the native backend and the trainer:
//   C = alpha * op(A) * op(B) + beta * C, then the optional epilogue (biases, ReLU),
// row-major, op(X) = X or X^T, leading dimensions in elements. op(A) is M x K, op(B) is K x N.
// beta == 0 ignores C's previous contents (NaNs included), as BLAS does.
//
// Implementation (BLIS/MLAS style): op(A) is packed into MR-row panels and op(B) into NR-column
// panels, both cut into KC-deep blocks; a register-blocked micro-kernel (AVX-512 14x32, AVX2
// 6x16, portable 6x16) multiplies one A panel by one B panel. The ISA is chosen at run time
// (cpu::active_isa). Work is split into tiles of C over the thread pool; a C element's
// arithmetic never depends on its tile, so results are identical for every thread count.
//
// Pre-packing: a constant operand (weights) can be packed once with kiln_sgemm_pack_a/_b and
// reused by kiln_sgemm_packed_a/_b. A packed buffer records the ISA that packed it and is always
// multiplied by that ISA's kernel; the buffer should be 64-byte aligned.
#pragma once

#include <cstddef>
#include <cstdint>

namespace kiln {
class ThreadPool;
}

extern "C" {

// Applied while C is stored, after alpha/beta: C[m,n] += row_bias[m] + column_bias[n], then
// C = max(C, 0) if relu. Null pointers / 0 mean "none". Gemm+bias+activation fusion uses
// column_bias; NCHW convolution (C = W * im2col(X)) uses row_bias, one per output channel.
// Then `post`, if set, is called once on each finished block of C (at most one block per
// element, while it is still in cache): post(post_closure, &C[m0, n0], ldc, rows, cols). Code
// generators use it for epilogues the fixed fields cannot express (residual add, activations).
struct KilnGemmEpilogue {
  const float* row_bias;
  const float* column_bias;
  int relu;
  void (*post)(void* closure, float* c, int64_t ldc, int64_t rows, int64_t cols);
  void* post_closure;
};

// `epilogue` and `pool` may be null (no epilogue; run on the calling thread only).
void kiln_sgemm(int trans_a, int trans_b, int64_t M, int64_t N, int64_t K, float alpha,
                const float* A, int64_t lda, const float* B, int64_t ldb, float beta, float* C,
                int64_t ldc, const KilnGemmEpilogue* epilogue, kiln::ThreadPool* pool);

// Bytes needed to pre-pack op(B) (K x N) / op(A) (M x K) for the current ISA.
size_t kiln_sgemm_packed_b_size(int64_t N, int64_t K);
size_t kiln_sgemm_packed_a_size(int64_t M, int64_t K);
// Packs op(B) / op(A) into `packed` (kiln_sgemm_packed_*_size bytes).
void kiln_sgemm_pack_b(int trans_b, int64_t N, int64_t K, const float* B, int64_t ldb,
                       void* packed);
void kiln_sgemm_pack_a(int trans_a, int64_t M, int64_t K, const float* A, int64_t lda,
                       void* packed);
// The same packed B stored as fp16 (half the bytes; for weights that are fp16 already, so
// nothing is lost). kiln_sgemm_packed_b accepts either and widens each block as it reads it.
size_t kiln_sgemm_packed_b_half_size(int64_t N, int64_t K);
void kiln_sgemm_pack_b_half(int trans_b, int64_t N, int64_t K, const float* B, int64_t ldb,
                            void* packed);

// kiln_sgemm with a pre-packed B (N and K must match the packed ones).
void kiln_sgemm_packed_b(int trans_a, int64_t M, int64_t N, int64_t K, float alpha, const float* A,
                         int64_t lda, const void* packed_b, float beta, float* C, int64_t ldc,
                         const KilnGemmEpilogue* epilogue, kiln::ThreadPool* pool);
// kiln_sgemm with a pre-packed A (M and K must match the packed ones).
void kiln_sgemm_packed_a(int trans_b, int64_t M, int64_t N, int64_t K, float alpha,
                         const void* packed_a, const float* B, int64_t ldb, float beta, float* C,
                         int64_t ldc, const KilnGemmEpilogue* epilogue, kiln::ThreadPool* pool);

}  // extern "C"
