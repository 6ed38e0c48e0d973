// Internal: the blocked, threaded SGEMM loop nest shared by kiln_sgemm*, and the convolution
// (whose B operand is an image packed on the fly instead of a stored matrix).
#pragma once

#include <cstdint>

#include "runtime/kernels/cpu/sgemm.h"
#include "runtime/kernels/cpu/sgemm_kernel.h"

namespace kiln {
class ThreadPool;
}

namespace kiln::cpu {

// Where the packed blocks of op(B) come from.
class BPanelSource {
 public:
  virtual ~BPanelSource() = default;
  // The packed block of rows [k0, k0+kc) and columns [n0, n0+nc) of op(B) (n0 is a multiple of
  // nr): a pointer into pre-packed storage, or `scratch` (room for kc * round_up(nc, nr)
  // floats) after packing into it.
  virtual const float* block(const SgemmKernel& kern, int64_t k0, int64_t kc, int64_t n0,
                             int64_t nc, float* scratch) const = 0;
};

// op(B) stored as a row-major matrix.
class MatrixBSource final : public BPanelSource {
 public:
  MatrixBSource(bool trans, const float* B, int64_t ldb) : trans_(trans), b_(B), ldb_(ldb) {}
  const float* block(const SgemmKernel& kern, int64_t k0, int64_t kc, int64_t n0, int64_t nc,
                     float* scratch) const override;

 private:
  bool trans_;
  const float* b_;
  int64_t ldb_;
};

// op(B) pre-packed whole by pack_b (N columns).
class PackedBSource final : public BPanelSource {
 public:
  PackedBSource(const float* packed, int64_t N) : packed_(packed), n_(N) {}
  const float* block(const SgemmKernel& kern, int64_t k0, int64_t kc, int64_t n0, int64_t nc,
                     float* scratch) const override;

 private:
  const float* packed_;
  int64_t n_;
};

// The same layout stored as fp16: each block is widened into the scratch as it is read.
class PackedHalfBSource final : public BPanelSource {
 public:
  PackedHalfBSource(const uint16_t* packed, int64_t N) : packed_(packed), n_(N) {}
  const float* block(const SgemmKernel& kern, int64_t k0, int64_t kc, int64_t n0, int64_t nc,
                     float* scratch) const override;

 private:
  const uint16_t* packed_;
  int64_t n_;
};

struct GemmOutput {
  float alpha, beta;
  float* c;
  int64_t ldc;
  KilnGemmEpilogue epilogue;
};

// C = alpha * A * B + beta * C (+ epilogue), A already packed whole (pack_a layout). Splits C
// into tiles over `pool` (may be null).
void run_packed_sgemm(const SgemmKernel& kern, int64_t M, int64_t N, int64_t K,
                      const float* packed_a, const BPanelSource& b, const GemmOutput& out,
                      ThreadPool* pool);

// op(A) (M x K) as the caller holds it, row-major (op(A) = A^T when trans), not packed yet.
struct UnpackedA {
  bool trans;
  const float* a;
  int64_t lda;
};

// run_packed_sgemm for an op(A) that is not packed yet. When each tile's columns are a single N
// block and its rows one M block (skinny products: fully connected layers, GEMV), the tile packs
// each K block of its rows just before multiplying it, so the packed block is still in L2 when
// the micro-kernels read it and no packed copy of all of op(A) goes out to L3 and back (M 64,
// K 9216: the whole-A copy cost as much as 15% of the call). Otherwise op(A) is packed whole
// first, over the pool. The packed values, and so the results, are the same either way.
void run_sgemm_unpacked_a(const SgemmKernel& kern, int64_t M, int64_t N, int64_t K,
                          const UnpackedA& a, const BPanelSource& b, const GemmOutput& out,
                          ThreadPool* pool);

// The floats of a kiln_sgemm_pack_a buffer, after checking that it holds an M x K operand
// (throws std::invalid_argument otherwise); *isa receives the ISA that packed it.
const float* packed_a_payload(const void* packed_a, int64_t M, int64_t K, Isa* isa);

// The K == 0 case: C = beta * C, then the epilogue.
void scale_c_with_epilogue(int64_t M, int64_t N, const GemmOutput& out);

}  // namespace kiln::cpu
