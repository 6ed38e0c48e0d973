// window_plane's AVX-512 body: 16 outputs per vector, __mmask16 lane masks (masked-off lanes of
// a load touch no memory, so border loads may start before or run past the row).
#include <immintrin.h>

#include <algorithm>

#include "runtime/kernels/cpu/sliding_window_kernel.h"

namespace kiln::cpu {

namespace {

struct Avx512 {
  using F = __m512;
  using M = __mmask16;
  static constexpr int L = 16;
  static F zero() { return _mm512_setzero_ps(); }
  static F set1(float v) { return _mm512_set1_ps(v); }
  static F load(const float* p) { return _mm512_loadu_ps(p); }
  static F load(const float* p, M m, F fill) { return _mm512_mask_loadu_ps(fill, m, p); }
  static F gather(const float* p, int stride, M m, F fill) {
    const __m512i idx = _mm512_mullo_epi32(
        _mm512_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15),
        _mm512_set1_epi32(stride));
    return _mm512_mask_i32gather_ps(fill, m, idx, p, 4);
  }
  static void store(float* p, F v) { _mm512_storeu_ps(p, v); }
  static void store(float* p, F v, M m) { _mm512_mask_storeu_ps(p, m, v); }
  static M range(int64_t lo, int64_t hi) {
    lo = std::clamp<int64_t>(lo, 0, L);
    hi = std::clamp<int64_t>(hi, 0, L);
    if (hi <= lo) return 0;
    return static_cast<M>(((1u << hi) - 1u) & ~((1u << lo) - 1u));
  }
  static F evens(F a, F b) {
    return _mm512_permutex2var_ps(
        a, _mm512_setr_epi32(0, 2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 22, 24, 26, 28, 30), b);
  }
  static F odds(F a, F b) {
    return _mm512_permutex2var_ps(
        a, _mm512_setr_epi32(1, 3, 5, 7, 9, 11, 13, 15, 17, 19, 21, 23, 25, 27, 29, 31), b);
  }
  static F fmadd(F a, F b, F c) { return _mm512_fmadd_ps(a, b, c); }
  static F add(F a, F b) { return _mm512_add_ps(a, b); }
  // Mask form: GCC 12's plain _mm512_max_ps trips -Wmaybe-uninitialized.
  static F max(F a, F b) { return _mm512_mask_max_ps(a, 0xFFFF, a, b); }
};

}  // namespace

void window_plane_avx512(const PlaneWindow& g, WindowOp op, const float* w, float bias, bool relu,
                         const float* x, float* y) {
  sliding::run_window_plane<Avx512>(g, op, w, bias, relu, x, y);
}

}  // namespace kiln::cpu
