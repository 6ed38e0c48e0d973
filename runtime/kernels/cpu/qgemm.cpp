// int8 GEMM driver (qgemm.h): packing of s8 B, quantization of A, tiles over the thread pool
// and the dequantizing epilogue. Also the ISA dispatch shared with the int8 convolution.
#include "runtime/kernels/cpu/qgemm.h"

#include <algorithm>
#include <atomic>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <stdexcept>
#include <string>

#include "runtime/kernels/cpu/cpu_isa.h"
#include "runtime/kernels/cpu/qgemm_kernel.h"
#include "runtime/kernels/cpu/qgemm_util.h"
#include "runtime/kernels/cpu/sgemm_pack.h"
#include "runtime/threadpool/thread_pool.h"

#if defined(__x86_64__)
#include <cpuid.h>
#include <sys/syscall.h>
#include <unistd.h>
#endif

namespace kiln::cpu {

bool cpu_has_avx512_vnni() {
#if defined(__x86_64__) || defined(__i386__)
  static const bool has = [] {
    __builtin_cpu_init();
    return __builtin_cpu_supports("avx512vnni") != 0;
  }();
  return has;
#else
  return false;
#endif
}

namespace {

// AMX-INT8 and AMX-TILE in CPUID leaf 7, the OS saving tile state (XCR0 bits 17 and 18), and
// Linux's per-process permission for the tile data, which must be requested once.
bool detect_amx() {
#if defined(__x86_64__) && defined(__linux__)
  unsigned a = 0, b = 0, c = 0, d = 0;
  if (!__get_cpuid_count(7, 0, &a, &b, &c, &d)) return false;
  if (!((d >> 24) & 1) || !((d >> 25) & 1)) return false;  // AMX-TILE, AMX-INT8
  if (!__get_cpuid(1, &a, &b, &c, &d) || !((c >> 27) & 1)) return false;  // OSXSAVE
  unsigned lo = 0, hi = 0;
  __asm__ volatile("xgetbv" : "=a"(lo), "=d"(hi) : "c"(0));
  if (((lo >> 17) & 3) != 3) return false;  // XTILECFG and XTILEDATA enabled by the OS
  constexpr long kArchReqXcompPerm = 0x1023, kXfeatureXtiledata = 18;
  return syscall(SYS_arch_prctl, kArchReqXcompPerm, kXfeatureXtiledata) == 0;
#else
  return false;
#endif
}

std::atomic<bool> g_amx_allowed{[] {
  const char* env = std::getenv("KILN_CPU_AMX");
  return !(env && std::string(env) == "0");
}()};

}  // namespace

bool amx_usable() {
  static const bool usable = detect_amx();
  return usable;
}

void set_amx_allowed(bool allowed) { g_amx_allowed.store(allowed); }

QTileFn active_qtile() {
  const Isa isa = active_isa();
  if (isa == Isa::Avx512 && g_amx_allowed.load() && amx_usable()) return &qtile_amx;
  if (isa == Isa::Avx512 && cpu_has_avx512_vnni()) return &qtile_avx512vnni;
  if (isa >= Isa::Avx2) return &qtile_avx2;
  return &qtile_scalar;
}

int active_qtile_rows() { return active_qtile() == &qtile_amx ? kQMRAmx : kQMR; }

const char* qgemm_kernel_name() {
  const QTileFn f = active_qtile();
  return f == &qtile_amx          ? "amx"
         : f == &qtile_avx512vnni ? "avx512-vnni"
         : f == &qtile_avx2       ? "avx2"
                                  : "scalar";
}

void qtile_scalar(const uint8_t* rows, int64_t row_stride, int nrows, const uint8_t* panel,
                  int64_t kq, bool rows_signed, int32_t* acc) {
  for (int r = 0; r < nrows; ++r) {
    const uint8_t* row = rows + r * row_stride;
    for (int j = 0; j < kQNR; ++j) {
      int32_t s = 0;
      for (int64_t k = 0; k < 4 * kq; ++k) {
        const uint8_t a = row[k], b = panel[(k / 4) * 128 + j * 4 + k % 4];
        s += rows_signed ? static_cast<int8_t>(a) * static_cast<int32_t>(b)
                         : static_cast<int32_t>(a) * static_cast<int8_t>(b);
      }
      acc[r * kQNR + j] = s;
    }
  }
}

void quantize_u8(const float* x, int64_t n, float scale, float zp, uint8_t* out) {
  if (active_isa() >= Isa::Avx512) return quantize_u8_avx512(x, n, scale, zp, out);
  if (active_isa() >= Isa::Avx2) return quantize_u8_avx2(x, n, scale, zp, out);
  for (int64_t i = 0; i < n; ++i) {
    const float q = std::nearbyint(x[i] / scale) + zp;
    out[i] = !(q > 0.0f) ? 0 : q >= 255.0f ? 255 : static_cast<uint8_t>(q);
  }
}

DynamicRange dynamic_range(const float* x, int64_t rows, int64_t cols, int64_t ld) {
  // As DynamicQuantizeLinear: the range always includes 0; NaNs are skipped.
  float lo = 0.0f, hi = 0.0f;
  for (int64_t r = 0; r < rows; ++r)
    for (int64_t c = 0; c < cols; ++c) {
      const float v = x[r * ld + c];
      if (std::isnan(v)) continue;
      lo = std::min(lo, v);
      hi = std::max(hi, v);
    }
  DynamicRange d;
  d.scale = (hi == lo ? 1.0f : hi - lo) / 255.0f;
  const float zp = std::clamp(0.0f - lo / d.scale, 0.0f, 255.0f);
  d.zero_point = static_cast<int32_t>(std::nearbyint(zp));
  return d;
}

void dequantize_tile(const int32_t* acc, int rows, int cols, const QEpilogue& e, int64_t row0,
                     int64_t col0, float* c, int64_t ldc) {
  for (int r = 0; r < rows; ++r) {
    float* out = c + r * ldc;
    for (int j = 0; j < cols; ++j) {
      const int64_t ch = e.per_row ? row0 + r : col0 + j;
      const int32_t a = acc[r * kQNR + j] - e.zero_point * e.wsum[ch];
      float v = static_cast<float>(a) * (e.x_scale * e.w_scale[ch]);
      if (e.bias) v = v + e.bias[ch];
      if (e.relu) v = std::max(v, 0.0f);
      out[j] = v;
    }
  }
  if (e.post) e.post(e.post_closure, c, ldc, rows, cols);
}

}  // namespace kiln::cpu

namespace {

using namespace kiln::cpu;

constexpr uint32_t kPackedBMagic = 0x42384951;  // "QI8B"

// Packed B: header, scales[cols], column sums[cols] (cols = panels * kQNR, zero padded), then
// the panels, each [kq][kQNR][4] bytes.
struct PackedBHeader {
  uint32_t magic;
  uint32_t reserved;
  int64_t N, K, kq, panels;
  int64_t pad[3];
};
static_assert(sizeof(PackedBHeader) == 64);

int64_t panels_of(int64_t n) { return (n + kQNR - 1) / kQNR; }

}  // namespace

extern "C" {

size_t kiln_qgemm_packed_b_size(int64_t N, int64_t K) {
  const int64_t cols = panels_of(N) * kQNR, kq = (K + 3) / 4;
  return sizeof(PackedBHeader) + static_cast<size_t>(cols) * 8 +
         static_cast<size_t>(panels_of(N) * kq * 128);
}

void kiln_qgemm_pack_b(int trans_b, int64_t N, int64_t K, const int8_t* B, const float* scales,
                       void* packed) {
  auto* h = static_cast<PackedBHeader*>(packed);
  std::memset(packed, 0, kiln_qgemm_packed_b_size(N, K));
  *h = PackedBHeader{kPackedBMagic, 0, N, K, (K + 3) / 4, panels_of(N), {0, 0, 0}};
  const int64_t cols = h->panels * kQNR;
  auto* sc = reinterpret_cast<float*>(h + 1);
  auto* sums = reinterpret_cast<int32_t*>(sc + cols);
  auto* panels = reinterpret_cast<int8_t*>(sums + cols);
  for (int64_t n = 0; n < N; ++n) {
    sc[n] = scales[n];
    int32_t s = 0;
    for (int64_t k = 0; k < K; ++k) {
      const int8_t v = trans_b ? B[n * K + k] : B[k * N + n];
      s += v;
      panels[(n / kQNR) * h->kq * 128 + (k / 4) * 128 + (n % kQNR) * 4 + k % 4] = v;
    }
    sums[n] = s;
  }
}

void kiln_qgemm_packed_b(int64_t M, int64_t N, int64_t K, const float* A, int64_t lda,
                         float x_scale, int32_t x_zero_point, const void* packed_b, float* C,
                         int64_t ldc, const KilnGemmEpilogue* epilogue, kiln::ThreadPool* pool) {
  const auto* h = static_cast<const PackedBHeader*>(packed_b);
  if (h->magic != kPackedBMagic || h->N != N || h->K != K)
    throw std::invalid_argument("kiln_qgemm_packed_b: B was packed for another shape");
  if (M <= 0 || N <= 0) return;
  const int64_t cols = h->panels * kQNR, kq = h->kq, kp = 4 * kq;
  const auto* sc = reinterpret_cast<const float*>(h + 1);
  const auto* sums = reinterpret_cast<const int32_t*>(sc + cols);
  const auto* panels = reinterpret_cast<const uint8_t*>(sums + cols);
  QEpilogue e;
  if (x_scale <= 0.0f) {
    const DynamicRange d = dynamic_range(A, M, K, lda);
    x_scale = d.scale;
    x_zero_point = d.zero_point;
  }
  e.x_scale = x_scale;
  e.zero_point = x_zero_point;
  e.w_scale = sc;
  e.wsum = sums;
  e.per_row = false;
  if (epilogue) {
    if (epilogue->row_bias) throw std::invalid_argument("kiln_qgemm_packed_b: row_bias unsupported");
    e.bias = epilogue->column_bias;
    e.relu = epilogue->relu != 0;
    e.post = epilogue->post;
    e.post_closure = epilogue->post_closure;
  }
  // A quantized once into u8 rows of kp bytes (the K padding meets zero weights).
  thread_local ScratchBuffer t_a;
  auto* qa = reinterpret_cast<uint8_t*>(t_a.floats(static_cast<size_t>(M * kp + 3) / 4));
  const auto quantize_rows = [&](int64_t r0, int64_t r1) {
    for (int64_t r = r0; r < r1; ++r) {
      quantize_u8(A + r * lda, K, x_scale, static_cast<float>(x_zero_point), qa + r * kp);
      std::memset(qa + r * kp + K, 0, static_cast<size_t>(kp - K));
    }
  };
  if (pool && M * K > 65536) pool->parallel_for(M, quantize_rows);
  else quantize_rows(0, M);
  const QTileFn tile = active_qtile();
  const int mr = active_qtile_rows();
  const int64_t row_blocks = (M + mr - 1) / mr;
  // Panel-major order: a thread's consecutive tiles reuse one B panel from cache.
  const auto run_tiles = [&](int64_t t0, int64_t t1) {
    alignas(64) int32_t acc[kQMRMax * kQNR];
    for (int64_t t = t0; t < t1; ++t) {
      const int64_t p = t / row_blocks, rb = t % row_blocks;
      const int64_t r0 = rb * mr, c0 = p * kQNR;
      const int rows = static_cast<int>(std::min<int64_t>(mr, M - r0));
      const int ncols = static_cast<int>(std::min<int64_t>(kQNR, N - c0));
      tile(qa + r0 * kp, kp, rows, panels + p * kq * 128, kq, false, acc);
      dequantize_tile(acc, rows, ncols, e, r0, c0, C + r0 * ldc + c0, ldc);
    }
  };
  const int64_t tiles = row_blocks * h->panels;
  if (pool && tiles > 1 && M * N * K > 32768) pool->parallel_for(tiles, run_tiles);
  else run_tiles(0, tiles);
}

}  // extern "C"
