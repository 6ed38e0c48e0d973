#include "runtime/kernels/cpu/sgemm_pack.h"

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <new>

#include "runtime/threadpool/thread_pool.h"

namespace kiln::cpu {

namespace {

// A panel `panel` (rows [panel * mr, +mr) of op(A), zero rows past M), columns [k0, k0+kc),
// into p (kc x mr floats).
void pack_a_panel_block(const SgemmKernel& kern, bool trans, int64_t M, const float* A,
                        int64_t lda, int64_t panel, int64_t k0, int64_t kc, float* p) {
  const int mr = kern.mr;
  const int64_t m0 = panel * mr;
  const int rows = static_cast<int>(std::min<int64_t>(mr, M - m0));
  if (trans) {  // op(A)[m, k] = A[k * lda + m]: contiguous along m
    for (int64_t k = 0; k < kc; ++k) {
      const float* src = A + (k0 + k) * lda + m0;
      float* d = p + k * mr;
      for (int r = 0; r < rows; ++r) d[r] = src[r];
      for (int r = rows; r < mr; ++r) d[r] = 0.0f;
    }
  } else if (kern.isa == Isa::Avx512) {
    pack_a_panel_avx512(A + m0 * lda, lda, rows, k0, kc, p);
  } else {  // op(A)[m, k] = A[m * lda + k]: read rows, write with stride mr
    for (int r = 0; r < rows; ++r) {
      const float* src = A + (m0 + r) * lda + k0;
      for (int64_t k = 0; k < kc; ++k) p[k * mr + r] = src[k];
    }
    for (int r = rows; r < mr; ++r) {
      for (int64_t k = 0; k < kc; ++k) p[k * mr + r] = 0.0f;
    }
  }
}

// One A panel for every K block.
void pack_a_panel(const SgemmKernel& kern, bool trans, int64_t M, int64_t K, const float* A,
                  int64_t lda, int64_t panel, float* dst) {
  const int64_t mpad = round_up(M, kern.mr);
  const int64_t kb = k_block(kern, K);
  for (int64_t k0 = 0; k0 < K; k0 += kb) {
    const int64_t kc = std::min(kb, K - k0);
    pack_a_panel_block(kern, trans, M, A, lda, panel, k0, kc,
                       dst + k0 * mpad + panel * kern.mr * kc);
  }
}

}  // namespace

void pack_a(const SgemmKernel& kern, bool trans, int64_t M, int64_t K, const float* A, int64_t lda,
            float* dst, ThreadPool* pool) {
  const int64_t panels = (M + kern.mr - 1) / kern.mr;
  auto pack_range = [&](int64_t begin, int64_t end) {
    for (int64_t p = begin; p < end; ++p) pack_a_panel(kern, trans, M, K, A, lda, p, dst);
  };
  // Parallel only when there is enough to copy to pay for waking the workers.
  if (pool && panels > 1 && M * K >= (int64_t{1} << 16)) {
    pool->parallel_for(panels, pack_range);
  } else {
    pack_range(0, panels);
  }
}

void pack_a_block(const SgemmKernel& kern, bool trans, int64_t M, const float* A, int64_t lda,
                  int64_t m0, int64_t m1, int64_t k0, int64_t kc, float* dst) {
  for (int64_t panel = m0 / kern.mr; panel * kern.mr < m1; ++panel, dst += kern.mr * kc) {
    pack_a_panel_block(kern, trans, M, A, lda, panel, k0, kc, dst);
  }
}

void pack_b_block(const SgemmKernel& kern, bool trans, const float* B, int64_t ldb, int64_t k0,
                  int64_t kc, int64_t n0, int64_t nc, float* dst) {
  if (kern.isa == Isa::Avx512) return pack_b_block_avx512(trans, B, ldb, k0, kc, n0, nc, dst);
  const int nr = kern.nr;
  for (int64_t j0 = 0; j0 < nc; j0 += nr, dst += nr * kc) {
    const int cols = static_cast<int>(std::min<int64_t>(nr, nc - j0));
    const int64_t n = n0 + j0;
    if (trans) {  // op(B)[k, n] = B[n * ldb + k]: read columns of op(B), write with stride nr
      for (int c = 0; c < cols; ++c) {
        const float* src = B + (n + c) * ldb + k0;
        for (int64_t k = 0; k < kc; ++k) dst[k * nr + c] = src[k];
      }
      for (int64_t k = 0; k < kc; ++k) {
        for (int c = cols; c < nr; ++c) dst[k * nr + c] = 0.0f;
      }
    } else {  // op(B)[k, n] = B[k * ldb + n]: one contiguous run per k
      for (int64_t k = 0; k < kc; ++k) {
        const float* src = B + (k0 + k) * ldb + n;
        float* d = dst + k * nr;
        std::memcpy(d, src, sizeof(float) * static_cast<size_t>(cols));
        for (int c = cols; c < nr; ++c) d[c] = 0.0f;
      }
    }
  }
}

void pack_b(const SgemmKernel& kern, bool trans, int64_t N, int64_t K, const float* B, int64_t ldb,
            float* dst) {
  const int64_t npad = round_up(N, kern.nr);
  const int64_t kb = k_block(kern, K);
  for (int64_t k0 = 0; k0 < K; k0 += kb) {
    const int64_t kc = std::min(kb, K - k0);
    pack_b_block(kern, trans, B, ldb, k0, kc, 0, N, dst + k0 * npad);
  }
}

void ScratchBuffer::Free::operator()(float* p) const { std::free(p); }

float* ScratchBuffer::floats(size_t n) {
  if (n > capacity_) {
    const size_t bytes = (n * sizeof(float) + 63) / 64 * 64;
    void* p = std::aligned_alloc(64, bytes);
    if (!p) throw std::bad_alloc();
    data_.reset(static_cast<float*>(p));
    capacity_ = bytes / sizeof(float);
  }
  return data_.get();
}

}  // namespace kiln::cpu
