// The per-plane work of the int8 depthwise convolution (qconv_dw.cpp), shared by one file per
// ISA (internal linkage, so each copy keeps its own instruction set).
//
// The sums are formed in f32 from (x - zero_point) and the s8 weights: every product and every
// partial sum is an integer below 2^24 in magnitude (at most 255 * 127 * taps, taps <= 512), so
// f32 arithmetic is exact in any order and the result equals the int32 sum: all ISA paths and
// thread counts agree bit for bit, and with the reference's ConvInteger.
#pragma once

#include <algorithm>
#include <cstdint>
#include <cstring>

namespace kiln::cpu {
struct QFinish;
}

namespace kiln::cpu::qdw {

// One channel plane. The padded input is laid out split by column phase for stride sw: padded
// column c of row r is at xp[(r * sw + c % sw) * wq + c / sw], so the taps of a strided output
// row are contiguous runs.
struct Args {
  int64_t H, W, pad_t, pad_l, Hp, sw, wq;
  float zero_point;
  int64_t OH, OW, KH, KW, sh, dh, dw;
  const float* w;  // [KH * KW] weights as f32
  float scale;     // x_scale * w_scale[c]
  float bias;
  bool has_bias, relu;
  // AVX-512 only: when set, the plane is finished straight into Y at element fin_off (the
  // other paths return f32 and the caller runs finish_rows).
  const QFinish* fin = nullptr;
  int64_t fin_off = 0;
};

namespace {

// Where tap t = kh * KW + kw of output row oy reads: xp + oy * sh * sw * wq + off[t], element
// ox being the tap's input for output column ox.
inline void tap_offsets(const Args& a, int64_t* off) {
  for (int64_t kh = 0; kh < a.KH; ++kh)
    for (int64_t kw = 0; kw < a.KW; ++kw) {
      const int64_t c = kw * a.dw;
      off[kh * a.KW + kw] = (kh * a.dh * a.sw + c % a.sw) * a.wq + c / a.sw;
    }
}

// Image columns of phase ph: padded columns ph + sw * i for i in [i0, i1).
inline void phase_span(const Args& a, int64_t ph, int64_t* i0, int64_t* i1) {
  *i0 = std::max<int64_t>(0, (a.pad_l - ph + a.sw - 1) / a.sw);
  const int64_t last = a.W - 1 + a.pad_l - ph;  // padded column of the last image column
  *i1 = last < 0 ? 0 : std::max(*i0, last / a.sw + 1);
}

// Zeroes the pad rows, then `row_fn(d, src, i0, i1)` writes each phase row d (wq floats): the
// image values src[0], src[sw], ... at [i0, i1) and zeros elsewhere (the pad columns, a few).
template <typename RowFn>
inline void fill_plane(const Args& a, const uint8_t* x, float* xp, RowFn&& row_fn) {
  const int64_t row_floats = a.sw * a.wq;
  for (int64_t r = 0; r < a.Hp; ++r) {  // pad rows
    if (r >= a.pad_t && r < a.pad_t + a.H) continue;
    std::memset(xp + r * row_floats, 0, static_cast<size_t>(row_floats) * sizeof(float));
  }
  for (int64_t ph = 0; ph < a.sw; ++ph) {
    int64_t i0, i1;
    phase_span(a, ph, &i0, &i1);
    const uint8_t* src = x + (ph + a.sw * i0 - a.pad_l);
    for (int64_t y = 0; y < a.H; ++y)
      row_fn(xp + (y + a.pad_t) * row_floats + ph * a.wq, src + y * a.W, i0, i1);
  }
}

// The portable phase row (see fill_plane).
inline void convert_row(const Args& a, float* d, const uint8_t* src, int64_t i0, int64_t i1) {
  for (int64_t i = 0; i < i0; ++i) d[i] = 0.0f;
  for (int64_t i = i0; i < i1; ++i) d[i] = static_cast<float>(src[(i - i0) * a.sw]) - a.zero_point;
  for (int64_t i = i1; i < a.wq; ++i) d[i] = 0.0f;
}

// float(acc) * scale + bias, ReLU: dequantize_tile's arithmetic in its order.
inline float dequantize(const Args& a, float acc) {
  float v = acc * a.scale;
  if (a.has_bias) v = v + a.bias;
  if (a.relu) v = std::max(v, 0.0f);
  return v;
}

}  // namespace
}  // namespace kiln::cpu::qdw
