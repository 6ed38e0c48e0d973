#include "runtime/kernels/cpu/depthwise_flat.h"

namespace kiln::cpu {
namespace {

// Where tap (kh, kw) of output (oy, ox) reads, as an element of the flat source (the plane at
// stride 1, the parity sub-planes at stride 2), or -1 when the tap falls in the padding. At
// stride 2, input (iy, ix) is element (iy / 2) * OW + ix / 2 of sub-plane (iy % 2, ix % 2),
// sub-planes `sub_floats` apart.
int64_t source_index(const KilnConv2dShape& s, int64_t ow, int64_t sub_floats, int64_t oy,
                     int64_t ox, int64_t kh, int64_t kw) {
  const int64_t iy = oy * s.stride_h - s.pad_top + kh, ix = ox * s.stride_w - s.pad_left + kw;
  if (iy < 0 || iy >= s.H || ix < 0 || ix >= s.W) return -1;
  if (s.stride_h == 1) return iy * s.W + ix;
  return (iy % 2 * 2 + ix % 2) * sub_floats + iy / 2 * ow + ix / 2;
}

}  // namespace

bool depthwise_flat_applies(const KilnConv2dShape& s, int64_t oh, int64_t ow) {
  if (s.dilation_h != 1 || s.dilation_w != 1 || oh <= 0 || oh * ow > kFlatMaxPlane ||
      s.KH * s.KW > kFlatMaxTaps || s.stride_h != s.stride_w)
    return false;
  if (s.stride_h == 1) return ow == s.W;
  // Stride 2: every sub-plane row (ceil(W / 2) columns) fits the output row pitch, and one
  // input row is at most two vectors (the even / odd split).
  return s.stride_h == 2 && (s.W + 1) / 2 <= ow && s.W <= 32;
}

FlatPlan depthwise_flat_plan(const KilnConv2dShape& s, int64_t oh, int64_t ow) {
  FlatPlan p;
  p.plane = oh * ow;
  p.vectors = (p.plane + 15) / 16;
  p.taps = s.KH * s.KW;
  p.stride = s.stride_h;
  p.H = s.H;
  p.W = s.W;
  p.OW = ow;
  // Sub-planes hold (H + 1) / 2 rows; 16 floats of slack take the spill of the split's
  // whole-vector row stores.
  p.sub_floats = p.stride == 2 ? (s.H + 1) / 2 * ow + 16 : 0;
  p.offset.assign(static_cast<size_t>(p.taps), 0);
  p.mask.assign(static_cast<size_t>(p.taps * p.vectors), 0);
  p.out_mask.assign(static_cast<size_t>(p.vectors), 0);
  for (int64_t kh = 0; kh < s.KH; ++kh)
    for (int64_t kw = 0; kw < s.KW; ++kw) {
      const int64_t t = kh * s.KW + kw;
      bool have = false;
      for (int64_t L = 0; L < p.plane; ++L) {
        const int64_t src = source_index(s, ow, p.sub_floats, L / ow, L % ow, kh, kw);
        if (src < 0) continue;
        // One offset per tap: every in-plane read of the tap is at L + offset (applies()
        // guarantees it; checked here so a wrong table can never be built).
        if (!have) p.offset[t] = src - L;
        if (src - L != p.offset[t]) return FlatPlan{};
        have = true;
        p.mask[(L / 16) * p.taps + t] |= static_cast<uint16_t>(1u << (L % 16));
      }
    }
  for (int64_t L = 0; L < p.plane; ++L)
    p.out_mask[L / 16] |= static_cast<uint16_t>(1u << (L % 16));
  return p;
}

}  // namespace kiln::cpu
