// max_pool_rows' AVX-512 body. One output row at a time: for 32 input columns starting at the
// first window's column, the vertical max over the window's in-bounds rows (masked loads fill
// the padding with -inf), split into even and odd columns (E, O); 16 outputs are then
// max(E, O) for KW 2, and max(E, O, E shifted one lane on from the next 32 columns) for KW 3.
#include <immintrin.h>

#include <algorithm>
#include <limits>
#include <vector>

#include "runtime/kernels/cpu/pool_rows.h"

namespace kiln::cpu {

namespace {

constexpr __mmask16 kAll = 0xFFFF;

// Mask form: GCC 12's plain _mm512_max_ps trips -Wmaybe-uninitialized.
inline __m512 vmax(__m512 a, __m512 b) { return _mm512_mask_max_ps(a, kAll, a, b); }

// Lanes lo..hi-1, clamped to 0..16.
inline __mmask16 lanes(int64_t lo, int64_t hi) {
  lo = std::clamp<int64_t>(lo, 0, 16);
  hi = std::clamp<int64_t>(hi, 0, 16);
  return hi <= lo ? 0 : static_cast<__mmask16>(((1u << hi) - 1u) & ~((1u << lo) - 1u));
}

struct EvenOdd {
  __m512 e, o;
};

// The window rows of one output row that lie inside the plane: n rows from `first`, W apart.
struct Rows {
  const float* first;
  int64_t W;
  int n;
  const float* at(int i) const { return first + i * W; }
};

// One 32-column input chunk of every output row: its first column and, when it is not wholly
// inside the row, the lanes of its two loads that are.
struct Chunk {
  int64_t col;
  __mmask16 ma, mb;
  bool inside;
};

// Vertical max of rows r.at[0..n) over a chunk's columns, as even / odd columns. kFill: the
// masked-off lanes must read -inf (some window reaches past the row); without it no output
// that is stored uses them, and a zero-masking load is one micro-op fewer.
template <int kMaxRows, bool kFill>
inline EvenOdd column_pair(const Rows& r, const Chunk& c) {
  // kMaxRows: the window's rows are all inside the plane and there are that many.
  const int nr = kMaxRows ? kMaxRows : r.n;
  __m512 a, b;
  if (c.inside) {
    a = _mm512_loadu_ps(r.at(0) + c.col);
    b = _mm512_loadu_ps(r.at(0) + c.col + 16);
    for (int i = 1; i < nr; ++i) {
      a = vmax(a, _mm512_loadu_ps(r.at(i) + c.col));
      b = vmax(b, _mm512_loadu_ps(r.at(i) + c.col + 16));
    }
  } else {  // masked-off lanes read nothing, so the loads may start before or run past the row
    auto load = [&](const float* p, __mmask16 m) {
      if constexpr (kFill) {
        return _mm512_mask_loadu_ps(_mm512_set1_ps(-std::numeric_limits<float>::infinity()), m, p);
      } else {
        return _mm512_maskz_loadu_ps(m, p);
      }
    };
    a = load(r.at(0) + c.col, c.ma);
    b = load(r.at(0) + c.col + 16, c.mb);
    for (int i = 1; i < nr; ++i) {
      a = vmax(a, load(r.at(i) + c.col, c.ma));
      b = vmax(b, load(r.at(i) + c.col + 16, c.mb));
    }
  }
  const __m512i evens =
      _mm512_setr_epi32(0, 2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 22, 24, 26, 28, 30);
  const __m512i odds = _mm512_setr_epi32(1, 3, 5, 7, 9, 11, 13, 15, 17, 19, 21, 23, 25, 27, 29, 31);
  return {_mm512_permutex2var_ps(a, evens, b), _mm512_permutex2var_ps(a, odds, b)};
}

// One output row of OW outputs; chunk k (of `chunks`, plus one past) feeds outputs 16k..16k+15.
template <int KW, int kMaxRows, bool kFill>
inline void pool_row(const Rows& r, const Chunk* chunk, int64_t chunks, int64_t OW,
                     __mmask16 tail, float* y) {
  const __m512 ninf = _mm512_set1_ps(-std::numeric_limits<float>::infinity());
  EvenOdd cur = column_pair<kMaxRows, kFill>(r, chunk[0]);
  for (int64_t k = 0; k < chunks; ++k) {
    const int64_t ow = 16 * k;
    __m512 out = vmax(cur.e, cur.o);
    // The next chunk is needed as the next `cur`, and for KW 3 by a full vector's last lane.
    const bool full = ow + 16 <= OW;
    EvenOdd next{ninf, ninf};
    if (k + 1 < chunks || (KW == 3 && full)) next = column_pair<kMaxRows, kFill>(r, chunk[k + 1]);
    if constexpr (KW == 3) {
      // Lane i's third tap is column 2i + 2: even lane i + 1, the last one from `next`.
      const __m512i e = _mm512_castps_si512(cur.e);
      const __m512i shifted = _mm512_mask_alignr_epi32(e, kAll, _mm512_castps_si512(next.e), e, 1);
      out = vmax(out, _mm512_castsi512_ps(shifted));
    }
    cur = next;
    if (full) {
      _mm512_storeu_ps(y + ow, out);
    } else {
      _mm512_mask_storeu_ps(y + ow, tail, out);
    }
  }
}

template <int KW, int KH, bool kFill>
void pool_planes(const PlaneWindow& g, int64_t planes, const Chunk* chunk, int64_t chunks,
                 const float* x, float* y) {
  const int64_t H = g.H, W = g.W, OH = g.OH, OW = g.OW, sh = g.stride_h, kh = KH ? KH : g.KH;
  const __mmask16 tail = lanes(0, OW % 16);
  // Inputs past L2 stream from L3 or memory: ask for the input kPrefetch floats past the rows
  // being read early (MNIST's 9.4 MB of 24-wide rows: ~3% faster than the prefetcher alone).
  const int64_t total = planes * H * W;
  const bool prefetch = total * 4 > (1 << 20);
  constexpr int64_t kPrefetch = 512;
  for (int64_t p = 0; p < planes; ++p) {
    const float* xp = x + p * H * W;
    float* yp = y + p * OH * OW;
    for (int64_t oh = 0; oh < OH; ++oh) {
      const int64_t ih0 = oh * sh - g.pad_top;
      float* yr = yp + oh * OW;
      const int64_t ahead = p * H * W + (ih0 + kh) * W + kPrefetch;  // index into x
      if (prefetch && ahead >= 0 && ahead + sh * W <= total) {
        const char* at = reinterpret_cast<const char*>(x + ahead);
        for (int64_t b = 0; b < sh * W * 4; b += 64) _mm_prefetch(at + b, _MM_HINT_T0);
      }
      if (ih0 >= 0 && ih0 + kh <= H) {  // all the window's rows inside: a fixed count
        pool_row<KW, KH, kFill>(Rows{xp + ih0 * W, W, static_cast<int>(kh)}, chunk, chunks, OW,
                                tail, yr);
        continue;
      }
      const int64_t lo = std::max<int64_t>(ih0, 0), hi = std::min<int64_t>(ih0 + g.KH, H);
      if (hi <= lo) {  // a row of windows wholly in the padding
        std::fill(yr, yr + OW, -std::numeric_limits<float>::infinity());
        continue;
      }
      const Rows r{xp + lo * W, W, static_cast<int>(hi - lo)};
      pool_row<KW, 0, kFill>(r, chunk, chunks, OW, tail, yr);
    }
  }
}

template <int KW, int KH>
void pool_planes(const PlaneWindow& g, int64_t planes, const float* x, float* y) {
  const int64_t chunks = (g.OW + 15) / 16;
  std::vector<Chunk> chunk(static_cast<size_t>(chunks + 1));
  for (int64_t k = 0; k <= chunks; ++k) {
    const int64_t col = 32 * k - g.pad_left;
    chunk[static_cast<size_t>(k)] = {col, lanes(-col, g.W - col), lanes(-col - 16, g.W - col - 16),
                                     col >= 0 && col + 32 <= g.W};
  }
  // Windows wholly inside the row: masked-off lanes feed only outputs that are never stored.
  if (g.pad_left == 0 && 2 * (g.OW - 1) + KW <= g.W) {
    pool_planes<KW, KH, false>(g, planes, chunk.data(), chunks, x, y);
  } else {
    pool_planes<KW, KH, true>(g, planes, chunk.data(), chunks, x, y);
  }
}

}  // namespace

bool max_pool_rows_avx512(const PlaneWindow& g, int64_t planes, const float* x, float* y) {
  if (g.stride_w != 2 || g.dilation_h != 1 || g.dilation_w != 1 || g.KH < 1 ||
      (g.KW != 2 && g.KW != 3)) {
    return false;
  }
  // The row count fixed where networks use it, so the vertical loop unrolls.
  if (g.KW == 2) {
    g.KH == 2 ? pool_planes<2, 2>(g, planes, x, y) : pool_planes<2, 0>(g, planes, x, y);
  } else {
    g.KH == 3 ? pool_planes<3, 3>(g, planes, x, y) : pool_planes<3, 0>(g, planes, x, y);
  }
  return true;
}

}  // namespace kiln::cpu
