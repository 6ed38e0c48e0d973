// The 3x3 int8 depthwise planes (qconv_dw.h, Dw3Args) with AVX-512 VNNI and VBMI2: u8 bytes
// straight into vpdpbusd, no widening; u8 results compressed to the valid pixels by vpcompressb.
//
// The plane is copied once into zero-point-padded u8 sub-planes (one for stride 1; four, split by
// row and column parity, for stride 2) of row pitch wq, so every output pixel (oy, ox) is the
// linear index L = oy * wq + ox and each tap reads sub-plane bytes at L + a fixed offset: narrow
// 7x7 / 14x14 planes fill whole vectors (a row's last pitch - OW lanes are wasted, not 16 - OW).
// A group is the taps of one kernel row that lie in one sub-plane, at most 4 adjacent bytes:
// int32 lane j of the 64 bytes loaded at L0 + r holds bytes L0 + 4j + r .. + 3, so one vpdpbusd
// per group and phase r (0..3) accumulates output pixel L0 + 4j + r. The padding holds the zero
// point, so sum(x * w) - zero_point * sum(w) is the exact int32 sum of (x - zero_point) * w
// everywhere, as the reference. The four phase vectors are dequantized in f32 (dequantize_tile's
// arithmetic); u8 outputs are finished per phase and their bytes permuted into pixel order, other
// outputs interleaved in f32; then compressed to the valid pixels and stored contiguously. Small
// planes are filled one plane ahead (see planes()).
#include <immintrin.h>

#include <cmath>
#include <cstring>

#include "runtime/kernels/cpu/qconv_dw.h"
#include "runtime/kernels/cpu/qconv_finish_avx512.h"
#include "runtime/kernels/cpu/qgemm_util.h"
#include "runtime/kernels/cpu/sgemm_pack.h"

namespace kiln::cpu {

namespace {

// Unmasked vpmovwb trips GCC 12's maybe-uninitialized in its own header (see kAll).
constexpr __mmask32 kAll32 = ~__mmask32(0);

inline __mmask64 bytes_below(int64_t n) {
  return n >= 64 ? ~__mmask64(0) : (__mmask64(1) << n) - 1;
}

// Copies one u8 plane into the padded sub-planes (see the top comment). Stride 2: row stores
// are full vectors whose lanes past the image hold the zero point, so the bytes they spill over
// the row's end are padding too (rows go in increasing order; the slack after each sub-plane
// takes the rest).
void fill(const Dw3Args& a, const uint8_t* x, uint8_t* sub) {
  const uint8_t zp = a.zero_point;
  const __m512i zpv = _mm512_set1_epi8(static_cast<char>(zp));
  if (a.stride == 1 && a.W >= 64) {  // rows of whole vectors (spilling zero points, as below)
    std::memset(sub, zp, static_cast<size_t>(a.sub_bytes));
    for (int64_t y = 0; y < a.H; ++y) {
      const uint8_t* src = x + y * a.W;
      uint8_t* d = sub + (y + 1) * a.wq + 1;
      for (int64_t i = 0; i < a.W; i += 64)
        _mm512_storeu_si512(d + i, _mm512_mask_loadu_epi8(zpv, bytes_below(a.W - i), src + i));
    }
    return;
  }
  if (a.stride == 1) {
    // Narrow rows, chunk by chunk: the next image bytes expanded into their places
    // (Dw3Args::data), the zero point elsewhere; one aligned store each.
    for (int64_t k = 0; k < a.data_words; ++k) {
      const uint64_t m = a.data[k];
      const int n = __builtin_popcountll(m);
      const __m512i v = _mm512_maskz_loadu_epi8(bytes_below(n), x);
      _mm512_store_si512(sub + 64 * k, _mm512_mask_expand_epi8(zpv, m, v));
      x += n;
    }
    return;
  }
  // Stride 2: image row y is padded row y + 1, in sub-plane row (y + 1) / 2 of parity (y + 1) & 1;
  // image column 2k lands in the odd-column sub-plane at column k, column 2k + 1 in the even one
  // at column k + 1 (column 0 there is the left padding).
  // Padding rows first: padded row 0 and those past the image (both column parities).
  const int64_t hq = (a.H + 3) / 2;
  const bool narrow = a.W <= 62;  // a sub-plane row fits one 32-byte store
  const __m256i zp32 = _mm256_set1_epi8(static_cast<char>(zp));
  for (int64_t r = 0; r < 2 * hq; r = r == 0 ? a.H + 1 : r + 1)
    for (int64_t pc = 0; pc < 2; ++pc) {
      uint8_t* d = sub + (2 * (r & 1) + pc) * a.sub_bytes + (r >> 1) * a.wq;
      // Narrow: the store spills zero points into the next row, rewritten by the image rows.
      if (narrow) _mm256_storeu_si256(reinterpret_cast<__m256i*>(d), zp32);
      else std::memset(d, zp, static_cast<size_t>(a.wq));
    }
  if (narrow) {
    // One byte permute per row: its even bytes to the low half, the zero point then its odd
    // bytes to the high half (lanes past W hold the zero point: the right padding).
    alignas(64) static const uint8_t kSplit[64] = {
#define KILN_E(i) 2 * (i), 2 * (i) + 2, 2 * (i) + 4, 2 * (i) + 6
#define KILN_O(i) 2 * (i) - 1, 2 * (i) + 1, 2 * (i) + 3, 2 * (i) + 5
        KILN_E(0),  KILN_E(4),  KILN_E(8),  KILN_E(12), KILN_E(16), KILN_E(20), KILN_E(24),
        KILN_E(28), 64,         1,          3,          5,          KILN_O(4),  KILN_O(8),
        KILN_O(12), KILN_O(16), KILN_O(20), KILN_O(24), KILN_O(28)
#undef KILN_E
#undef KILN_O
    };
    const __m512i split = _mm512_load_si512(kSplit);
    for (int64_t y = 0; y < a.H; ++y) {
      const int64_t pr = (y + 1) & 1, row = (y + 1) >> 1;
      const __m512i v = _mm512_permutex2var_epi8(
          _mm512_mask_loadu_epi8(zpv, bytes_below(a.W), x + y * a.W), split, zpv);
      _mm256_storeu_si256(
          reinterpret_cast<__m256i*>(sub + (2 * pr + 1) * a.sub_bytes + row * a.wq),
          _mm512_maskz_extracti64x4_epi64(0xff, v, 0));
      _mm256_storeu_si256(reinterpret_cast<__m256i*>(sub + 2 * pr * a.sub_bytes + row * a.wq),
                          _mm512_maskz_extracti64x4_epi64(0xff, v, 1));
    }
    return;
  }
  const __m512i low = _mm512_set1_epi16(0xff);
  for (int64_t y = 0; y < a.H; ++y) {
    const int64_t pr = (y + 1) & 1, row = (y + 1) >> 1;
    uint8_t* even = sub + (2 * pr) * a.sub_bytes + row * a.wq + 1;
    uint8_t* odd = sub + (2 * pr + 1) * a.sub_bytes + row * a.wq;
    const uint8_t* src = x + y * a.W;
    for (int64_t i = 0; i < a.W; i += 64) {
      const __m512i v = _mm512_mask_loadu_epi8(zpv, bytes_below(a.W - i), src + i);
      _mm256_storeu_si256(reinterpret_cast<__m256i*>(odd + i / 2),
                          _mm512_maskz_cvtepi16_epi8(kAll32, _mm512_and_si512(v, low)));
      _mm256_storeu_si256(reinterpret_cast<__m256i*>(even + i / 2),
                          _mm512_maskz_cvtepi16_epi8(kAll32, _mm512_srli_epi16(v, 8)));
    }
    // The left padding column of the even one and the last column of the odd one (the stores
    // end just short of it when W / 2 is a multiple of 32).
    even[-1] = zp;
    odd[a.wq - 1] = zp;
  }
}

// The four phase accumulators of the 64 linear outputs from L0 (phase r lane j: L0 + 4j + r).
template <int NG>
inline void accumulate(const uint8_t* sub, const int64_t* off, const __m512i* w, __m512i init,
                       int64_t L0, __m512i* acc) {
  acc[0] = acc[1] = acc[2] = acc[3] = init;
  for (int g = 0; g < NG; ++g) {
    const uint8_t* p = sub + off[g] + L0;
    acc[0] = _mm512_dpbusd_epi32(acc[0], _mm512_loadu_si512(p), w[g]);
    acc[1] = _mm512_dpbusd_epi32(acc[1], _mm512_loadu_si512(p + 1), w[g]);
    acc[2] = _mm512_dpbusd_epi32(acc[2], _mm512_loadu_si512(p + 2), w[g]);
    acc[3] = _mm512_dpbusd_epi32(acc[3], _mm512_loadu_si512(p + 3), w[g]);
  }
}

// One channel's constants.
struct Channel {
  __m512i w[6], init;
  __m512 scale, bias;
  bool has_bias, relu;
};

// dequantize_tile's arithmetic in its order; mul_round is not contracted into an FMA.
inline __m512 dequantize(const Channel& ch, __m512i acc) {
  __m512 v = _mm512_maskz_mul_round_ps(kAll, _mm512_maskz_cvtepi32_ps(kAll, acc), ch.scale,
                                       _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
  if (ch.has_bias) v = _mm512_add_ps(v, ch.bias);
  if (ch.relu) v = max16(v, _mm512_setzero_ps());
  return v;
}

// u8 output without residual and with finite scale, bias and 1 / y_scale (so no NaN): each
// phase rounded to an int32 in [-y_zero_point, 255 - y_zero_point] (finish_u8 without its
// + zero point), the four phases' low bytes permuted into one vector of 64 bytes in pixel order
// (byte 4j + r: phase r lane j), + zero point bytewise, compressed to the valid pixels, stored.
template <int NG>
void compute_u8(const Dw3Args& a, const uint8_t* sub, const Channel& ch, const FinishVec& fin,
                uint8_t* y) {
  // Byte 4j + 0 / 1 from the first / second source's lane j (its low byte); the same for
  // bytes 4j + 2 / 3 in the second table.
  alignas(64) static const uint8_t kIdx[2][64] = {
#define KILN_Q(j) 4 * (j), 64 + 4 * (j), 0, 0
      {KILN_Q(0), KILN_Q(1), KILN_Q(2), KILN_Q(3), KILN_Q(4), KILN_Q(5), KILN_Q(6), KILN_Q(7),
       KILN_Q(8), KILN_Q(9), KILN_Q(10), KILN_Q(11), KILN_Q(12), KILN_Q(13), KILN_Q(14),
       KILN_Q(15)},
#undef KILN_Q
#define KILN_Q(j) 0, 0, 4 * (j), 64 + 4 * (j)
      {KILN_Q(0), KILN_Q(1), KILN_Q(2), KILN_Q(3), KILN_Q(4), KILN_Q(5), KILN_Q(6), KILN_Q(7),
       KILN_Q(8), KILN_Q(9), KILN_Q(10), KILN_Q(11), KILN_Q(12), KILN_Q(13), KILN_Q(14),
       KILN_Q(15)}
#undef KILN_Q
  };
  const __m512i idx_lo = _mm512_load_si512(kIdx[0]), idx_hi = _mm512_load_si512(kIdx[1]);
  const __m512i yz = _mm512_set1_epi8(static_cast<char>(fin.y_zero_point));
  constexpr __mmask64 kHigh = 0xccccccccccccccccull;  // bytes 2 and 3 of each word
  constexpr int kNear = _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC;
  const int64_t n = a.OH * a.wq;
  for (int64_t L0 = 0; L0 < n; L0 += 64) {
    __m512i acc[4];
    accumulate<NG>(sub, a.off, ch.w, ch.init, L0, acc);
    __m512i b[4];
    for (int r = 0; r < 4; ++r) {
      const __m512 q = _mm512_maskz_mul_round_ps(kAll, dequantize(ch, acc[r]), fin.inv, kNear);
      b[r] = _mm512_maskz_cvt_roundps_epi32(kAll, min16(fin.qhi, max16(fin.qlo, q)), kNear);
    }
    const __m512i lo = _mm512_permutex2var_epi8(b[0], idx_lo, b[1]);
    const __m512i hi = _mm512_permutex2var_epi8(b[2], idx_hi, b[3]);
    const __m512i bytes = _mm512_add_epi8(_mm512_mask_blend_epi8(kHigh, lo, hi), yz);
    const uint64_t valid = a.valid[L0 / 64];
    if (!valid) continue;
    const int k = __builtin_popcountll(valid);
    if (k == 64) {
      _mm512_storeu_si512(y, bytes);
    } else {
      _mm512_mask_storeu_epi8(y, (__mmask64(1) << k) - 1, _mm512_maskz_compress_epi8(valid, bytes));
    }
    y += k;
  }
}

// Any other output: the phases dequantized, interleaved into pixel order in f32, compressed
// and stored or finished (finish_store) 16 at a time from element `pos` of Y.
template <int NG>
void compute(const Dw3Args& a, const uint8_t* sub, const Channel& ch, float* out,
             const FinishVec* fin, int64_t pos) {
  // Interleave (see the top comment): phase r lane j is pixel 4j + r. First pairs of phases
  // (lane i: phase i % 2 lane i / 2, then + 8), then the pairs into pixel order.
  alignas(64) static const int32_t kPairLo[16] = {0, 16, 1, 17, 2, 18, 3, 19,
                                                  4, 20, 5, 21, 6, 22, 7, 23};
  alignas(64) static const int32_t kPairHi[16] = {8,  24, 9,  25, 10, 26, 11, 27,
                                                  12, 28, 13, 29, 14, 30, 15, 31};
  alignas(64) static const int32_t kQuadLo[16] = {0, 1, 16, 17, 2, 3, 18, 19,
                                                  4, 5, 20, 21, 6, 7, 22, 23};
  alignas(64) static const int32_t kQuadHi[16] = {8,  9,  24, 25, 10, 11, 26, 27,
                                                  12, 13, 28, 29, 14, 15, 30, 31};
  const __m512i pair_lo = _mm512_load_si512(kPairLo), pair_hi = _mm512_load_si512(kPairHi);
  const __m512i quad_lo = _mm512_load_si512(kQuadLo), quad_hi = _mm512_load_si512(kQuadHi);
  const int64_t n = a.OH * a.wq;
  for (int64_t L0 = 0; L0 < n; L0 += 64) {
    __m512i acc[4];
    accumulate<NG>(sub, a.off, ch.w, ch.init, L0, acc);
    __m512 v[4];
    for (int r = 0; r < 4; ++r) v[r] = dequantize(ch, acc[r]);
    const __m512 p01a = _mm512_permutex2var_ps(v[0], pair_lo, v[1]);
    const __m512 p01b = _mm512_permutex2var_ps(v[0], pair_hi, v[1]);
    const __m512 p23a = _mm512_permutex2var_ps(v[2], pair_lo, v[3]);
    const __m512 p23b = _mm512_permutex2var_ps(v[2], pair_hi, v[3]);
    const __m512 o[4] = {_mm512_permutex2var_ps(p01a, quad_lo, p23a),
                         _mm512_permutex2var_ps(p01a, quad_hi, p23a),
                         _mm512_permutex2var_ps(p01b, quad_lo, p23b),
                         _mm512_permutex2var_ps(p01b, quad_hi, p23b)};
    const uint64_t valid = a.valid[L0 / 64];
    for (int q = 0; q < 4; ++q) {
      const auto m = static_cast<__mmask16>(valid >> (16 * q));
      if (!m) continue;
      const int k = __builtin_popcount(m);
      const auto head = static_cast<__mmask16>((1u << k) - 1);
      const __m512 c = m == 0xffff ? o[q] : _mm512_maskz_compress_ps(m, o[q]);
      if (fin) finish_store(*fin, c, pos, head);
      else _mm512_mask_storeu_ps(out + pos, head, c);
      pos += k;
    }
  }
}

template <int NG>
void planes(const Dw3Args& a, const uint8_t* x, int64_t t0, int64_t t1, float* Y) {
  const QEpilogue& e = *a.e;
  // Small planes: two sets of sub-planes, plane t + 1 filled before plane t is computed, so
  // the vector loads (each spanning two or more of the fill's stores) find them committed
  // instead of stalling on failed store forwarding. Large planes would not stay in L1 twice
  // over, and their loads mostly come long after the stores anyway.
  const int64_t set_bytes = a.sub_bytes * (a.stride == 1 ? 1 : 4);
  const int64_t sets = set_bytes <= 8192 ? 2 : 1;
  thread_local ScratchBuffer t_sub;
  auto* subs = reinterpret_cast<uint8_t*>(t_sub.floats(static_cast<size_t>(sets * set_bytes / 4)));
  FinishVec fv{};
  if (e.fin) fv = finish_vec(*e.fin);
  const bool u8_out = e.fin && e.fin->y_u8 && !e.fin->z && std::isfinite(1.0f / e.fin->y_scale);
  const int64_t P = a.OH * a.OW;
  Channel ch;
  ch.has_bias = e.bias != nullptr;
  ch.relu = e.relu;
  if (sets == 2 && t0 < t1) fill(a, x + t0 * a.H * a.W, subs);
  for (int64_t t = t0; t < t1; ++t) {
    const uint8_t* sub = subs + (sets == 2 ? ((t - t0) & 1) * set_bytes : 0);
    if (sets == 1) fill(a, x + t * a.H * a.W, subs);
    else if (t + 1 < t1) fill(a, x + (t + 1) * a.H * a.W, subs + ((t + 1 - t0) & 1) * set_bytes);
    const int64_t c = t % a.C;
    const int32_t* words = a.words + c * kDw3Words;
    for (int g = 0; g < NG; ++g) ch.w[g] = _mm512_set1_epi32(words[g]);
    ch.init = _mm512_set1_epi32(words[6]);
    const float scale = e.x_scale * e.w_scale[c], bias = e.bias ? e.bias[c] : 0.0f;
    ch.scale = _mm512_set1_ps(scale);
    ch.bias = _mm512_set1_ps(bias);
    if (u8_out && std::isfinite(scale) && std::isfinite(bias)) {
      compute_u8<NG>(a, sub, ch, fv, static_cast<uint8_t*>(e.fin->y) + t * P);
    } else if (e.fin) {
      compute<NG>(a, sub, ch, nullptr, &fv, t * P);
    } else {
      compute<NG>(a, sub, ch, Y + t * P, nullptr, 0);
      if (e.post) e.post(e.post_closure, Y + t * P, a.OW, a.OH, a.OW);
    }
  }
}

}  // namespace

void qdw3_planes_avx512vbmi2(const Dw3Args& a, const uint8_t* x, int64_t t0, int64_t t1,
                             float* Y) {
  if (a.stride == 1) planes<3>(a, x, t0, t1, Y);
  else planes<6>(a, x, t0, t1, Y);
}

}  // namespace kiln::cpu
