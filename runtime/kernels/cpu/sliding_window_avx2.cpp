// window_plane's AVX2 body: 8 outputs per vector, lane masks as all-ones/all-zeros int lanes
// (vmaskmovps: masked-off lanes touch no memory, so border loads may start before the row).
#include <immintrin.h>

#include "runtime/kernels/cpu/sliding_window_kernel.h"

namespace kiln::cpu {

namespace {

struct Avx2 {
  using F = __m256;
  using M = __m256i;
  static constexpr int L = 8;
  static F zero() { return _mm256_setzero_ps(); }
  static F set1(float v) { return _mm256_set1_ps(v); }
  static F load(const float* p) { return _mm256_loadu_ps(p); }
  static F load(const float* p, M m, F fill) {
    return _mm256_blendv_ps(fill, _mm256_maskload_ps(p, m), _mm256_castsi256_ps(m));
  }
  static F gather(const float* p, int stride, M m, F fill) {
    const __m256i idx = _mm256_mullo_epi32(_mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7),
                                           _mm256_set1_epi32(stride));
    return _mm256_mask_i32gather_ps(fill, p, idx, _mm256_castsi256_ps(m), 4);
  }
  static void store(float* p, F v) { _mm256_storeu_ps(p, v); }
  static void store(float* p, F v, M m) { _mm256_maskstore_ps(p, m, v); }
  static M range(int64_t lo, int64_t hi) {
    // Lanes lo <= j < hi; the bounds are clamped first so they fit in 32 bits.
    lo = lo < 0 ? 0 : lo > L ? L : lo;
    hi = hi < 0 ? 0 : hi > L ? L : hi;
    const __m256i j = _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7);
    const __m256i ge_lo = _mm256_cmpgt_epi32(j, _mm256_set1_epi32(static_cast<int>(lo) - 1));
    const __m256i lt_hi = _mm256_cmpgt_epi32(_mm256_set1_epi32(static_cast<int>(hi)), j);
    return _mm256_and_si256(ge_lo, lt_hi);
  }
  // shuffle_ps picks within 128-bit halves; permute4x64 then puts the 64-bit pairs in order.
  static F evens(F a, F b) {
    const __m256 t = _mm256_shuffle_ps(a, b, _MM_SHUFFLE(2, 0, 2, 0));
    return _mm256_castpd_ps(_mm256_permute4x64_pd(_mm256_castps_pd(t), _MM_SHUFFLE(3, 1, 2, 0)));
  }
  static F odds(F a, F b) {
    const __m256 t = _mm256_shuffle_ps(a, b, _MM_SHUFFLE(3, 1, 3, 1));
    return _mm256_castpd_ps(_mm256_permute4x64_pd(_mm256_castps_pd(t), _MM_SHUFFLE(3, 1, 2, 0)));
  }
  static F fmadd(F a, F b, F c) { return _mm256_fmadd_ps(a, b, c); }
  static F add(F a, F b) { return _mm256_add_ps(a, b); }
  static F max(F a, F b) { return _mm256_max_ps(a, b); }
};

}  // namespace

void window_plane_avx2(const PlaneWindow& g, WindowOp op, const float* w, float bias, bool relu,
                       const float* x, float* y) {
  sliding::run_window_plane<Avx2>(g, op, w, bias, relu, x, y);
}

}  // namespace kiln::cpu
