// Internal: the vector body of window_plane, written once over a vector-traits type V and
// included only by sliding_window_avx512.cpp / sliding_window_avx2.cpp (each compiled with its
// own ISA flags; every function here is a template of V, so nothing is shared between them).
//
// V provides: F (vector), M (lane mask), L (lanes), zero(), set1(), load(p), load(p, m, fill)
// (masked-off lanes read nothing and give fill), gather(p, stride, m, fill), store(p, v),
// store(p, v, m), range(lo, hi) (the mask of lanes lo..hi-1, clamped to 0..L), evens(a, b) /
// odds(a, b) (lanes 0, 2, 4, ... / 1, 3, 5, ... of the 2L-lane concatenation a:b), fmadd, add,
// max.
#pragma once

#include <cstdint>
#include <limits>

#include "runtime/kernels/cpu/sliding_window.h"

namespace kiln::cpu::sliding {

template <class V>
struct ConvOp {
  using F = typename V::F;
  static constexpr bool kWeights = true;
  static F fill() { return V::zero(); }
  static F combine(F acc, F v, F w) { return V::fmadd(w, v, acc); }
  static F join(F a, F b) { return V::add(a, b); }
};

template <class V>
struct MaxOp {
  using F = typename V::F;
  static constexpr bool kWeights = false;
  static F fill() { return V::set1(-std::numeric_limits<float>::infinity()); }
  static F combine(F acc, F v, F) { return V::max(acc, v); }
  static F join(F a, F b) { return V::max(a, b); }
};

template <class V>
struct Plane {
  const PlaneWindow& g;
  const float* w;  // KH x KW taps (Conv)
  typename V::F init;
  bool relu;
  const float* x;
  float* y;
};

// The lanes of a load at input column `off` that fall inside the row [0, W).
template <class V>
inline typename V::M row_mask(int64_t off, int64_t W) {
  return V::range(-off, W - off);
}

// The fixed-window kernels' view of one plane, copied into locals: the vector stores (may_alias
// types) would otherwise make the compiler reload every field after each store.
template <class V>
struct Strip {
  const float* x;
  float* y;
  int64_t H, W, OW, pad_top, ix;  // ix: input column of the strip's first output window
  typename V::F init;
  bool relu;
};

// The lane masks of one masked column vector: `in` per load of an input row, `out` for stores.
template <class V, int kLoads>
struct StripMasks {
  typename V::M in[kLoads];
  typename V::M out;
};

// R output rows x one vector of outputs starting at column ox0, for a fixed KH x KW window,
// strides SH / SW (1 or 2) and no dilation. Input row i of the block feeds output row r through
// kernel row i - r * SH, so each row is loaded (and for SW 2 deinterleaved) once for all R.
// Taps accumulate kh-major, kw-minor (for R <= 2, odd kernel rows into a second sum); every
// output gets the same order wherever it sits. kRowsIn: every input row of the block is inside
// the plane (no checks).
template <class V, class Op, int KH, int KW, int SH, int SW, int R, bool kMasked, bool kRowsIn,
          int kLoads>
__attribute__((always_inline)) inline void fixed_block(const Strip<V>& s,
                                                       const StripMasks<V, kLoads>& m,
                                                       const typename V::F* wv, int64_t oh0,
                                                       int64_t ox0) {
  using F = typename V::F;
  constexpr int L = V::L;
  constexpr bool kSplit = R <= 2 && KH > 1;
  const F fill = Op::fill();
  // With few rows per block, odd kernel rows accumulate separately (joined at the end): half as
  // long a dependency chain.
  F acc[R], odd[R];
  for (int r = 0; r < R; ++r) {
    acc[r] = s.init;
    odd[r] = Op::fill();
  }
  const int64_t ih0 = oh0 * SH - s.pad_top;
  const float* base = s.x + ih0 * s.W + s.ix;
#pragma GCC unroll 16
  for (int i = 0; i < (R - 1) * SH + KH; ++i) {
    if constexpr (!kRowsIn) {
      if (ih0 + i < 0 || ih0 + i >= s.H) continue;  // padding rows add nothing
    }
    const float* row = base + i * s.W;
    F v[KW];
#pragma GCC unroll 8
    for (int q = 0; q < (SW == 1 ? KW : (KW + 1) / 2); ++q) {
      if constexpr (SW == 1) {
        v[q] = kMasked ? V::load(row + q, m.in[q], fill) : V::load(row + q);
      } else {
        const float* at = row + 2 * q;
        const F a = kMasked ? V::load(at, m.in[2 * q], fill) : V::load(at);
        const F b = kMasked ? V::load(at + L, m.in[2 * q + 1], fill) : V::load(at + L);
        v[2 * q] = V::evens(a, b);
        if (2 * q + 1 < KW) v[2 * q + 1] = V::odds(a, b);
      }
    }
    // Keep each tap in a register: GCC otherwise folds the load into every FMA that uses it,
    // and the repeated (mostly line-splitting) loads, not the FMAs, set the pace.
    for (int kw = 0; kw < KW; ++kw) asm("" : "+v"(v[kw]));
#pragma GCC unroll 8
    for (int r = 0; r < R; ++r) {
      const int kh = i - r * SH;
      if (kh < 0 || kh >= KH) continue;
#pragma GCC unroll 8
      for (int kw = 0; kw < KW; ++kw) {
        F& a = kSplit && kh % 2 ? odd[r] : acc[r];
        a = Op::combine(a, v[kw], wv[kh * KW + kw]);
      }
    }
  }
  for (int r = 0; r < R; ++r) {
    float* y = s.y + (oh0 + r) * s.OW + ox0;
    if constexpr (kSplit) acc[r] = Op::join(acc[r], odd[r]);
    const F out = s.relu ? V::max(acc[r], V::zero()) : acc[r];
    if constexpr (kMasked) {
      V::store(y, out, m.out);
    } else {
      V::store(y, out);
    }
  }
}

// fixed_block with the row check hoisted: blocks wholly inside the plane skip it.
template <class V, class Op, int KH, int KW, int SH, int SW, int R, bool kMasked, int kLoads>
__attribute__((always_inline)) inline void fixed_rows(const Strip<V>& s,
                                                      const StripMasks<V, kLoads>& m,
                                                      const typename V::F* wv, int64_t oh,
                                                      int64_t ox0) {
  const int64_t ih0 = oh * SH - s.pad_top;
  if (ih0 >= 0 && ih0 + (R - 1) * SH + KH <= s.H) {
    fixed_block<V, Op, KH, KW, SH, SW, R, kMasked, true>(s, m, wv, oh, ox0);
  } else {
    fixed_block<V, Op, KH, KW, SH, SW, R, kMasked, false>(s, m, wv, oh, ox0);
  }
}

// One column vector of outputs down the whole plane, R rows per block; a last partial block
// is redone as a full block ending at the last row (rows computed twice get identical values),
// and planes shorter than R take R / 2. Several blocks keep enough independent accumulator
// chains in flight to hide the FMA latency. Not inlined, and the broadcast weights made here:
// in one big function GCC spills them and every FMA reloads its weight vector.
template <class V, class Op, int KH, int KW, int SH, int SW, int R, bool kMasked, int kLoads>
__attribute__((noinline)) void fixed_column(const Strip<V>& strip, const StripMasks<V, kLoads>& m,
                                            const float* w, int64_t OH, int64_t ox0) {
  if constexpr (R > 1) {
    if (OH < R) return fixed_column<V, Op, KH, KW, SH, SW, R / 2, kMasked>(strip, m, w, OH, ox0);
  }
  const Strip<V> s = strip;
  typename V::F wv[KH * KW];
  for (int t = 0; t < KH * KW; ++t) wv[t] = Op::kWeights ? V::set1(w[t]) : V::zero();
  int64_t oh = 0;
  for (; oh + R <= OH; oh += R) {
    fixed_rows<V, Op, KH, KW, SH, SW, R, kMasked>(s, m, wv, oh, ox0);
  }
  if (oh < OH) fixed_rows<V, Op, KH, KW, SH, SW, R, kMasked>(s, m, wv, OH - R, ox0);
}

// Column vectors are the outer loop so the border masks are made once per vector and plane.
// A vector is unmasked when all its outputs and every tap of them lie inside the plane.
template <class V, class Op, int KH, int KW, int SH, int SW, int R>
__attribute__((noinline)) void fixed_plane(const Plane<V>& p) {
  constexpr int L = V::L;
  constexpr int kLoads = SW == 1 ? KW : 2 * ((KW + 1) / 2);
  // Last input column an unmasked vector reads, relative to its first output's window start.
  constexpr int64_t kReach = SW == 1 ? KW - 1 + L - 1 : 2 * ((KW - 1) / 2) + 2 * L - 1;
  const PlaneWindow& g = p.g;
  Strip<V> s{p.x, p.y, g.H, g.W, g.OW, g.pad_top, 0, p.init, p.relu};
  const int64_t OH = g.OH, OW = g.OW, W = g.W, pad_left = g.pad_left;
  for (int64_t ox0 = 0; ox0 < OW; ox0 += L) {
    s.ix = ox0 * SW - pad_left;
    StripMasks<V, kLoads> m{};
    if (ox0 + L <= OW && s.ix >= 0 && s.ix + kReach < W) {
      fixed_column<V, Op, KH, KW, SH, SW, R, false>(s, m, p.w, OH, ox0);
      continue;
    }
    for (int k = 0; k < kLoads; ++k) {
      const int64_t off = SW == 1 ? s.ix + k : s.ix + 2 * (k / 2) + (k % 2) * L;
      m.in[k] = row_mask<V>(off, W);
    }
    m.out = V::range(0, OW - ox0);
    fixed_column<V, Op, KH, KW, SH, SW, R, true>(s, m, p.w, OH, ox0);
  }
}

// Any window, stride and dilation: one output row and vector at a time, taps in a runtime
// loop; stride 1 loads directly, other strides gather.
template <class V, class Op>
void generic_plane(const Plane<V>& p) {
  using F = typename V::F;
  constexpr int L = V::L;
  const PlaneWindow& g = p.g;
  const F fill = Op::fill();
  for (int64_t oh = 0; oh < g.OH; ++oh) {
    const int64_t ih0 = oh * g.stride_h - g.pad_top;
    for (int64_t ox0 = 0; ox0 < g.OW; ox0 += L) {
      F acc = p.init;
      for (int64_t kh = 0; kh < g.KH; ++kh) {
        const int64_t ih = ih0 + kh * g.dilation_h;
        if (ih < 0 || ih >= g.H) continue;
        const float* row = p.x + ih * g.W;
        for (int64_t kw = 0; kw < g.KW; ++kw) {
          const int64_t off = ox0 * g.stride_w - g.pad_left + kw * g.dilation_w;
          F v;
          if (g.stride_w == 1) {
            v = V::load(row + off, row_mask<V>(off, g.W), fill);
          } else {
            // Lanes j with 0 <= off + j * stride < W.
            const int64_t lo = off >= 0 ? 0 : (-off + g.stride_w - 1) / g.stride_w;
            const int64_t hi = off >= g.W ? 0 : (g.W - 1 - off) / g.stride_w + 1;
            v = V::gather(row + off, static_cast<int>(g.stride_w), V::range(lo, hi), fill);
          }
          const F wt = Op::kWeights ? V::set1(p.w[kh * g.KW + kw]) : fill;
          acc = Op::combine(acc, v, wt);
        }
      }
      V::store(p.y + oh * g.OW + ox0, p.relu ? V::max(acc, V::zero()) : acc,
               V::range(0, g.OW - ox0));
    }
  }
}

// The common windows get a fixed kernel (5x5 only for Conv, 2x2 only for Max: the shapes
// networks use); everything else the generic one.
template <class V, class Op>
void dispatch_plane(const Plane<V>& p) {
  const PlaneWindow& g = p.g;
  if (g.dilation_h == 1 && g.dilation_w == 1 && g.stride_h == g.stride_w && g.stride_w <= 2) {
    const bool s1 = g.stride_w == 1;
    if (g.KH == 3 && g.KW == 3) {
      return s1 ? fixed_plane<V, Op, 3, 3, 1, 1, 4>(p) : fixed_plane<V, Op, 3, 3, 2, 2, 4>(p);
    }
    if constexpr (Op::kWeights) {
      if (g.KH == 5 && g.KW == 5) {
        return s1 ? fixed_plane<V, Op, 5, 5, 1, 1, 4>(p) : fixed_plane<V, Op, 5, 5, 2, 2, 4>(p);
      }
    } else {
      if (g.KH == 2 && g.KW == 2 && !s1) return fixed_plane<V, Op, 2, 2, 2, 2, 8>(p);
    }
  }
  generic_plane<V, Op>(p);
}

template <class V>
void run_window_plane(const PlaneWindow& g, WindowOp op, const float* w, float bias, bool relu,
                      const float* x, float* y) {
  if (op == WindowOp::Conv) {
    dispatch_plane<V, ConvOp<V>>(Plane<V>{g, w, V::set1(bias), relu, x, y});
  } else {
    dispatch_plane<V, MaxOp<V>>(Plane<V>{g, w, MaxOp<V>::fill(), false, x, y});
  }
}

}  // namespace kiln::cpu::sliding
