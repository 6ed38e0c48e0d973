// Public SGEMM entry points: argument checks, packing of the non-pre-packed operands, and the
// header that ties a pre-packed buffer to the kernel that packed it.
#include "runtime/kernels/cpu/sgemm.h"

#include <algorithm>
#include <cstring>
#include <stdexcept>
#include <string>

#include <vector>

#include "runtime/kernels/cpu/half_convert.h"
#include "runtime/kernels/cpu/sgemm_driver.h"
#include "runtime/kernels/cpu/sgemm_pack.h"

namespace kiln::cpu {
namespace {

// Precedes the floats of a pre-packed operand; 64 bytes so the floats stay 64-byte aligned.
// Packed operands are stored in compiled models, so the header also records the kernel's
// largest K block (the layout depends on it) and a buffer from another layout is refused.
struct alignas(64) PackHeader {
  uint32_t magic;
  int32_t isa;
  int64_t rows;  // N for packed B, M for packed A
  int64_t K;
  int64_t kc;  // SgemmKernel::kc of the kernel that packed it
};
constexpr uint32_t kPackedAMagic = 0x3250414bu;      // "KAP2"
constexpr uint32_t kPackedBMagic = 0x3250424bu;      // "KBP2"
constexpr uint32_t kPackedBHalfMagic = 0x3248424bu;  // "KBH2": the floats stored as fp16
// The magics of the layout before K blocks were recorded (kc 256 everywhere).
constexpr uint32_t kOldPackedMagics[] = {0x4b50414bu, 0x4b50424bu, 0x4850424bu};
static_assert(sizeof(PackHeader) == 64);

[[noreturn]] void bad_argument(const std::string& what) {
  throw std::invalid_argument("kiln_sgemm: " + what);
}

void check_dims(int64_t M, int64_t N, int64_t K) {
  if (M < 0 || N < 0 || K < 0) bad_argument("negative dimension");
}

// The leading dimension of a row-major rows x cols matrix must cover a whole row.
void check_ld(const char* name, int64_t ld, int64_t rows, int64_t cols) {
  if (rows > 0 && ld < std::max<int64_t>(cols, 1)) {
    bad_argument(std::string(name) + " is " + std::to_string(ld) + ", below the row length " +
                 std::to_string(cols));
  }
}

const PackHeader& read_header(const void* packed, uint32_t magic, int64_t rows, int64_t K) {
  const auto* h = static_cast<const PackHeader*>(packed);
  for (uint32_t old : kOldPackedMagics) {
    if (h->magic == old) bad_argument("operand was packed by an older Kiln; recompile the model");
  }
  const bool ok = h->magic == magic || (magic == kPackedBMagic && h->magic == kPackedBHalfMagic);
  if (!ok) bad_argument("buffer was not packed by kiln_sgemm_pack_a/_b");
  const int isa = h->isa;
  if (isa < static_cast<int>(Isa::Scalar) || isa > static_cast<int>(Isa::Avx512) ||
      h->kc != sgemm_kernel(static_cast<Isa>(isa)).kc) {
    bad_argument("operand was packed for another kernel layout (K block " + std::to_string(h->kc) +
                 "); recompile the model");
  }
  if (h->rows != rows || h->K != K) {
    bad_argument("packed operand is " + std::to_string(h->rows) + "x" + std::to_string(h->K) +
                 ", call needs " + std::to_string(rows) + "x" + std::to_string(K));
  }
  return *h;
}

GemmOutput make_output(float alpha, float beta, float* C, int64_t ldc, const KilnGemmEpilogue* ep) {
  return GemmOutput{alpha, beta, C, ldc, ep ? *ep : KilnGemmEpilogue{}};
}

float* floats_after(void* header) {
  return reinterpret_cast<float*>(static_cast<char*>(header) + sizeof(PackHeader));
}
const float* floats_after(const void* header) {
  return reinterpret_cast<const float*>(static_cast<const char*>(header) + sizeof(PackHeader));
}

}  // namespace

const float* packed_a_payload(const void* packed_a, int64_t M, int64_t K, Isa* isa) {
  *isa = static_cast<Isa>(read_header(packed_a, kPackedAMagic, M, K).isa);
  return floats_after(packed_a);
}

}  // namespace kiln::cpu

using namespace kiln::cpu;

extern "C" {

void kiln_sgemm(int trans_a, int trans_b, int64_t M, int64_t N, int64_t K, float alpha,
                const float* A, int64_t lda, const float* B, int64_t ldb, float beta, float* C,
                int64_t ldc, const KilnGemmEpilogue* epilogue, kiln::ThreadPool* pool) {
  check_dims(M, N, K);
  check_ld("lda", lda, trans_a ? K : M, trans_a ? M : K);
  check_ld("ldb", ldb, trans_b ? N : K, trans_b ? K : N);
  check_ld("ldc", ldc, M, N);
  if (M == 0 || N == 0) return;
  const SgemmKernel& kern = sgemm_kernel(active_isa());
  const GemmOutput out = make_output(alpha, beta, C, ldc, epilogue);
  if (K == 0) return scale_c_with_epilogue(M, N, out);
  run_sgemm_unpacked_a(kern, M, N, K, UnpackedA{trans_a != 0, A, lda},
                       MatrixBSource(trans_b != 0, B, ldb), out, pool);
}

size_t kiln_sgemm_packed_b_size(int64_t N, int64_t K) {
  const SgemmKernel& kern = sgemm_kernel(active_isa());
  return sizeof(PackHeader) + sizeof(float) * static_cast<size_t>(round_up(N, kern.nr) * K);
}

size_t kiln_sgemm_packed_a_size(int64_t M, int64_t K) {
  const SgemmKernel& kern = sgemm_kernel(active_isa());
  return sizeof(PackHeader) + sizeof(float) * static_cast<size_t>(round_up(M, kern.mr) * K);
}

void kiln_sgemm_pack_b(int trans_b, int64_t N, int64_t K, const float* B, int64_t ldb,
                       void* packed) {
  check_dims(0, N, K);
  check_ld("ldb", ldb, trans_b ? N : K, trans_b ? K : N);
  const SgemmKernel& kern = sgemm_kernel(active_isa());
  PackHeader h{kPackedBMagic, static_cast<int32_t>(kern.isa), N, K, kern.kc};
  std::memcpy(packed, &h, sizeof h);
  pack_b(kern, trans_b != 0, N, K, B, ldb, floats_after(packed));
}

size_t kiln_sgemm_packed_b_half_size(int64_t N, int64_t K) {
  const SgemmKernel& kern = sgemm_kernel(active_isa());
  return sizeof(PackHeader) + sizeof(uint16_t) * static_cast<size_t>(round_up(N, kern.nr) * K);
}

void kiln_sgemm_pack_b_half(int trans_b, int64_t N, int64_t K, const float* B, int64_t ldb,
                            void* packed) {
  check_dims(0, N, K);
  check_ld("ldb", ldb, trans_b ? N : K, trans_b ? K : N);
  const SgemmKernel& kern = sgemm_kernel(active_isa());
  PackHeader h{kPackedBHalfMagic, static_cast<int32_t>(kern.isa), N, K, kern.kc};
  std::memcpy(packed, &h, sizeof h);
  const int64_t n = round_up(N, kern.nr) * K;
  std::vector<float> f32(static_cast<size_t>(n));
  pack_b(kern, trans_b != 0, N, K, B, ldb, f32.data());
  narrow_to_half(f32.data(), reinterpret_cast<uint16_t*>(static_cast<char*>(packed) + sizeof h), n);
}

void kiln_sgemm_pack_a(int trans_a, int64_t M, int64_t K, const float* A, int64_t lda,
                       void* packed) {
  check_dims(M, 0, K);
  check_ld("lda", lda, trans_a ? K : M, trans_a ? M : K);
  const SgemmKernel& kern = sgemm_kernel(active_isa());
  PackHeader h{kPackedAMagic, static_cast<int32_t>(kern.isa), M, K, kern.kc};
  std::memcpy(packed, &h, sizeof h);
  pack_a(kern, trans_a != 0, M, K, A, lda, floats_after(packed), nullptr);
}

void kiln_sgemm_packed_b(int trans_a, int64_t M, int64_t N, int64_t K, float alpha, const float* A,
                         int64_t lda, const void* packed_b, float beta, float* C, int64_t ldc,
                         const KilnGemmEpilogue* epilogue, kiln::ThreadPool* pool) {
  check_dims(M, N, K);
  check_ld("lda", lda, trans_a ? K : M, trans_a ? M : K);
  check_ld("ldc", ldc, M, N);
  const PackHeader& h = read_header(packed_b, kPackedBMagic, N, K);
  if (M == 0 || N == 0) return;
  const SgemmKernel& kern = sgemm_kernel(static_cast<Isa>(h.isa));
  const GemmOutput out = make_output(alpha, beta, C, ldc, epilogue);
  if (K == 0) return scale_c_with_epilogue(M, N, out);
  const UnpackedA a{trans_a != 0, A, lda};
  if (h.magic == kPackedBHalfMagic) {
    const auto* halves = reinterpret_cast<const uint16_t*>(
        static_cast<const char*>(packed_b) + sizeof(PackHeader));
    run_sgemm_unpacked_a(kern, M, N, K, a, PackedHalfBSource(halves, N), out, pool);
    return;
  }
  run_sgemm_unpacked_a(kern, M, N, K, a, PackedBSource(floats_after(packed_b), N), out, pool);
}

void kiln_sgemm_packed_a(int trans_b, int64_t M, int64_t N, int64_t K, float alpha,
                         const void* packed_a, const float* B, int64_t ldb, float beta, float* C,
                         int64_t ldc, const KilnGemmEpilogue* epilogue, kiln::ThreadPool* pool) {
  check_dims(M, N, K);
  check_ld("ldb", ldb, trans_b ? N : K, trans_b ? K : N);
  check_ld("ldc", ldc, M, N);
  const PackHeader& h = read_header(packed_a, kPackedAMagic, M, K);
  if (M == 0 || N == 0) return;
  const SgemmKernel& kern = sgemm_kernel(static_cast<Isa>(h.isa));
  run_packed_sgemm(kern, M, N, K, floats_after(packed_a), MatrixBSource(trans_b != 0, B, ldb),
                   make_output(alpha, beta, C, ldc, epilogue), pool);
}

}  // extern "C"
