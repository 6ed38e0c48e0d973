// Internal: packing op(A) and op(B) into the micro-kernel layouts of sgemm_kernel.h, plus the
// aligned per-thread scratch memory the packed blocks live in.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>

#include "runtime/kernels/cpu/sgemm_kernel.h"

namespace kiln {
class ThreadPool;
}

namespace kiln::cpu {

inline int64_t round_up(int64_t x, int64_t m) { return (x + m - 1) / m * m; }

// op(A) (M x K) -> full packed A (round_up(M, mr) * K floats), panels packed in parallel.
void pack_a(const SgemmKernel& kern, bool trans, int64_t M, int64_t K, const float* A, int64_t lda,
            float* dst, ThreadPool* pool);

// Rows [m0, m1) (m0 a multiple of mr) x columns [k0, k0+kc) of op(A) -> the panels of one packed
// K block, kc x mr floats each, the last one zero-padded (rows past M are zero).
void pack_a_block(const SgemmKernel& kern, bool trans, int64_t M, const float* A, int64_t lda,
                  int64_t m0, int64_t m1, int64_t k0, int64_t kc, float* dst);

// Rows [k0, k0+kc) x columns [n0, n0+nc) of op(B) -> one packed block: ceil(nc/nr) panels of
// kc x nr, the last one zero-padded. n0 need not be a multiple of nr.
void pack_b_block(const SgemmKernel& kern, bool trans, const float* B, int64_t ldb, int64_t k0,
                  int64_t kc, int64_t n0, int64_t nc, float* dst);

// op(B) (K x N) -> full packed B (round_up(N, nr) * K floats), blocks of k_block(kern, K).
void pack_b(const SgemmKernel& kern, bool trans, int64_t N, int64_t K, const float* B, int64_t ldb,
            float* dst);

// 64-byte-aligned memory that grows on demand and is kept for the next call on this thread.
class ScratchBuffer {
 public:
  float* floats(size_t n);

 private:
  struct Free {
    void operator()(float* p) const;
  };
  std::unique_ptr<float, Free> data_;
  size_t capacity_ = 0;
};

}  // namespace kiln::cpu
