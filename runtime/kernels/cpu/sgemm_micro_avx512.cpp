// AVX-512 SGEMM micro-kernel: 14 rows x 32 columns of C in 28 zmm accumulators. Per k step it
// loads two B vectors and broadcasts 14 A values, so 31 of the 32 registers are live and each
// loaded B vector feeds 14 FMAs. The K blocks are deep (1024) so C is loaded and stored once
// per block; the A and B panels are then too big for L1 and stream from L2, which the
// software prefetches below keep ahead of the FMAs.
#include <immintrin.h>

#include <array>
#include <utility>

#include "runtime/kernels/cpu/sgemm_kernel.h"

namespace kiln::cpu {

namespace {

constexpr int kMr = 14;
constexpr int kNr = 32;
// How many k steps (~14 cycles each) ahead the A and B panels are prefetched into L1: enough
// to hide an L2 hit, not so far that the lines are evicted again before use. Pre-packed B
// panels (weights) often come from memory: they are also prefetched into L2 further ahead.
constexpr int kPrefetchSteps = 8;
constexpr int kPrefetchStepsL2 = 32;
// Conv weights are the packed A panels, read from memory on every inference (ResNet-50's last
// stages stream 2-8 MB per layer, used by few column panels): A is also prefetched into L2,
// 128 steps (7 KB, into the next panel) ahead to cover a DRAM miss. In ResNet-50 (1 thread)
// 1024->2048/2 at 14x14: 1.79 -> 1.46 ms, 1024->512 at 14x14: 1.29 -> 1.15 ms.
constexpr int kPrefetchStepsAL2 = 128;
// The GEMV's B stream (weights from memory): k steps of 128 bytes prefetched into L2 ahead.
constexpr int kGemvPrefetchSteps = 64;

inline void prefetch_l1(const float* p) {
  _mm_prefetch(reinterpret_cast<const char*>(p), _MM_HINT_T0);
}
inline void prefetch_l2(const float* p) {
  _mm_prefetch(reinterpret_cast<const char*>(p), _MM_HINT_T1);
}

inline __mmask16 lane_mask(int n) {
  return n >= 16 ? static_cast<__mmask16>(0xFFFF) : static_cast<__mmask16>((1u << n) - 1u);
}

// Writes a finished Rows x 32 tile of accumulators back to C (alpha, beta, biases, ReLU).
template <int Rows>
void store_tile(const __m512* acc0, const __m512* acc1, const MicroTile& t);

template <int Rows>
void micro_rows(int64_t kc, const float* a, const float* b, const MicroTile& t) {
  __m512 acc0[Rows], acc1[Rows];
#pragma GCC unroll 14
  for (int i = 0; i < Rows; ++i) {
    acc0[i] = _mm512_setzero_ps();
    acc1[i] = _mm512_setzero_ps();
    // The C tile is needed only after the k loop: start bringing it into L2 now. (Not L1:
    // with a power-of-two ldc its rows share one L1 set and would evict each other.)
    const char* c = reinterpret_cast<const char*>(t.c + i * t.ldc);
    _mm_prefetch(c, _MM_HINT_T1);
    _mm_prefetch(c + 64, _MM_HINT_T1);
    _mm_prefetch(c + 4 * kNr - 1, _MM_HINT_T1);
  }
  // Not unrolled: unrolling makes GCC spill an accumulator, and the loop is FMA-bound anyway.
#pragma GCC unroll 1
  for (int64_t k = 0; k < kc; ++k) {
    prefetch_l1(a + kPrefetchSteps * kMr);
    prefetch_l1(b + kPrefetchSteps * kNr);
    prefetch_l1(b + kPrefetchSteps * kNr + 16);
    prefetch_l2(b + kPrefetchStepsL2 * kNr);
    prefetch_l2(b + kPrefetchStepsL2 * kNr + 16);
    prefetch_l2(a + kPrefetchStepsAL2 * kMr);
    const __m512 b0 = _mm512_loadu_ps(b);
    const __m512 b1 = _mm512_loadu_ps(b + 16);
#pragma GCC unroll 14
    for (int i = 0; i < Rows; ++i) {
      const __m512 ai = _mm512_set1_ps(a[i]);
      acc0[i] = _mm512_fmadd_ps(ai, b0, acc0[i]);
      acc1[i] = _mm512_fmadd_ps(ai, b1, acc1[i]);
    }
    a += kMr;
    b += kNr;
  }
  store_tile<Rows>(acc0, acc1, t);
}

// A tile of at most 16 columns (the last panel when N is 32k + 1 .. 32k + 16: a 14x14 conv
// plane's 196 pixels end in a 4-column panel): only the first B vector's half of the panel is
// used, so each k step is half the FMAs. Each element gets the full tile's FMA chain (same
// bits); the store masks the idle second half off.
template <int Rows>
void micro_rows_half(int64_t kc, const float* a, const float* b, const MicroTile& t) {
  __m512 acc0[Rows], acc1[Rows];
#pragma GCC unroll 14
  for (int i = 0; i < Rows; ++i) {
    acc0[i] = _mm512_setzero_ps();
    acc1[i] = _mm512_setzero_ps();
    _mm_prefetch(reinterpret_cast<const char*>(t.c + i * t.ldc), _MM_HINT_T1);
  }
#pragma GCC unroll 1
  for (int64_t k = 0; k < kc; ++k) {
    prefetch_l1(a + kPrefetchSteps * kMr);
    prefetch_l1(b + kPrefetchSteps * kNr);
    prefetch_l2(b + kPrefetchStepsL2 * kNr);
    prefetch_l2(a + kPrefetchStepsAL2 * kMr);
    const __m512 b0 = _mm512_loadu_ps(b);
#pragma GCC unroll 14
    for (int i = 0; i < Rows; ++i) {
      acc0[i] = _mm512_fmadd_ps(_mm512_set1_ps(a[i]), b0, acc0[i]);
    }
    a += kMr;
    b += kNr;
  }
  store_tile<Rows>(acc0, acc1, t);
}

// One row of C (M = 1, a GEMV, or the last row of an M = 14k + 1 operand): each B value is used
// by two FMAs only, so the loop is bound by loads, not FMAs. Even and odd k steps accumulate
// apart (half the FMA latency chain) and are added at the end. AStride: kMr for a packed A
// panel, 1 for a row read in place (the GEMV path).
// kPrefetchB: B is one sequential stream, but in a GEMV it is the weights, read once per
// inference from memory out of the artifact's mapped 4 KiB pages, where the hardware streamer
// stops at every page end: an L2 prefetch 8 KiB ahead. In the models (1 thread, min us):
// MobileNetV2's classifier 1x1280x1000 ~200 -> ~175, ResNet-50's fc 1x2048x1000 ~600 -> ~540,
// MNIST fc1 1x9216x128 ~163 -> ~156 (a prefetch per line: ~185, ~565, ~157). The last row of
// a GEMM tile (B from L2, packed just before) does without: there the prefetches only take
// load slots (6.1 vs 8.3 us for 1x128x1024).
template <int64_t AStride, bool kPrefetchB>
void one_row(int64_t kc, const float* a, const float* b, const MicroTile& t) {
  __m512 acc0 = _mm512_setzero_ps(), acc1 = acc0, odd0 = acc0, odd1 = acc0;
  int64_t k = 0;
#pragma GCC unroll 1
  for (; k + 2 <= kc; k += 2) {
    // One line in four (two k steps are four lines of B): enough to carry the streamer over
    // page ends without holding a fill buffer per line.
    if constexpr (kPrefetchB) prefetch_l2(b + kGemvPrefetchSteps * kNr);
    const __m512 a0 = _mm512_set1_ps(a[0]), a1 = _mm512_set1_ps(a[AStride]);
    acc0 = _mm512_fmadd_ps(a0, _mm512_loadu_ps(b), acc0);
    acc1 = _mm512_fmadd_ps(a0, _mm512_loadu_ps(b + 16), acc1);
    odd0 = _mm512_fmadd_ps(a1, _mm512_loadu_ps(b + kNr), odd0);
    odd1 = _mm512_fmadd_ps(a1, _mm512_loadu_ps(b + kNr + 16), odd1);
    a += 2 * AStride;
    b += 2 * kNr;
  }
  if (k < kc) {
    const __m512 a0 = _mm512_set1_ps(a[0]);
    acc0 = _mm512_fmadd_ps(a0, _mm512_loadu_ps(b), acc0);
    acc1 = _mm512_fmadd_ps(a0, _mm512_loadu_ps(b + 16), acc1);
  }
  acc0 = _mm512_add_ps(acc0, odd0);
  acc1 = _mm512_add_ps(acc1, odd1);
  store_tile<1>(&acc0, &acc1, t);
}

template <>
void micro_rows<1>(int64_t kc, const float* a, const float* b, const MicroTile& t) {
  one_row<kMr, false>(kc, a, b, t);
}

template <int Rows>
void store_tile(const __m512* acc0, const __m512* acc1, const MicroTile& t) {
  const __mmask16 m0 = lane_mask(t.cols);
  const __mmask16 m1 = lane_mask(t.cols > 16 ? t.cols - 16 : 0);
  const __m512 alpha = _mm512_set1_ps(t.alpha);
  const __m512 beta = _mm512_set1_ps(t.beta);
  const __m512 zero = _mm512_setzero_ps();
  __m512 cb0 = zero, cb1 = zero;
  if (t.column_bias) {
    cb0 = _mm512_maskz_loadu_ps(m0, t.column_bias);
    cb1 = _mm512_maskz_loadu_ps(m1, t.column_bias + 16);
  }
#pragma GCC unroll 14
  for (int i = 0; i < Rows; ++i) {
    float* c = t.c + i * t.ldc;
    __m512 v0 = _mm512_mul_ps(acc0[i], alpha);
    __m512 v1 = _mm512_mul_ps(acc1[i], alpha);
    if (t.load_c) {
      v0 = _mm512_fmadd_ps(_mm512_maskz_loadu_ps(m0, c), beta, v0);
      v1 = _mm512_fmadd_ps(_mm512_maskz_loadu_ps(m1, c + 16), beta, v1);
    }
    if (t.row_bias) {
      const __m512 rb = _mm512_set1_ps(t.row_bias[i]);
      v0 = _mm512_add_ps(v0, rb);
      v1 = _mm512_add_ps(v1, rb);
    }
    if (t.column_bias) {
      v0 = _mm512_add_ps(v0, cb0);
      v1 = _mm512_add_ps(v1, cb1);
    }
    if (t.relu) {
      // The mask form: GCC 12's plain _mm512_max_ps trips -Wmaybe-uninitialized.
      v0 = _mm512_mask_max_ps(v0, 0xFFFF, v0, zero);
      v1 = _mm512_mask_max_ps(v1, 0xFFFF, v1, zero);
    }
    _mm512_mask_storeu_ps(c, m0, v0);
    _mm512_mask_storeu_ps(c + 16, m1, v1);
  }
}

template <size_t... I>
constexpr auto make_row_table(std::index_sequence<I...>) {
  return std::array<MicroKernelFn, sizeof...(I)>{&micro_rows<static_cast<int>(I) + 1>...};
}

// Rows 2..14 (one row keeps its GEMV kernel, which splits the chain differently).
template <size_t... I>
constexpr auto make_half_table(std::index_sequence<I...>) {
  return std::array<MicroKernelFn, sizeof...(I)>{&micro_rows_half<static_cast<int>(I) + 2>...};
}

}  // namespace

void sgemm_micro_avx512(int64_t kc, const float* a, const float* b, const MicroTile& t) {
  static constexpr auto table = make_row_table(std::make_index_sequence<kMr>());
  static constexpr auto half = make_half_table(std::make_index_sequence<kMr - 1>());
  if (t.cols <= kNr / 2 && t.rows > 1) return half[static_cast<size_t>(t.rows - 2)](kc, a, b, t);
  table[static_cast<size_t>(t.rows - 1)](kc, a, b, t);
}

void sgemm_gemv_avx512(int64_t kc, const float* a, const float* b, const MicroTile& t) {
  one_row<1, true>(kc, a, b, t);
}

}  // namespace kiln::cpu
