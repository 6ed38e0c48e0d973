#include "runtime/kernels/cpu/depthwise_flat.h"

namespace kiln::cpu {

bool depthwise_flat_applies(const KilnConv2dShape& s, int64_t oh, int64_t ow) {
  return s.stride_h == 1 && s.stride_w == 1 && s.dilation_h == 1 && s.dilation_w == 1 &&
         ow == s.W && oh > 0 && oh * ow <= kFlatMaxPlane && s.KH * s.KW <= kFlatMaxTaps;
}

FlatPlan depthwise_flat_plan(const KilnConv2dShape& s, int64_t oh, int64_t ow) {
  FlatPlan p;
  p.plane = oh * ow;
  p.vectors = (p.plane + 15) / 16;
  p.taps = s.KH * s.KW;
  p.offset.resize(static_cast<size_t>(p.taps));
  p.mask.assign(static_cast<size_t>(p.taps * p.vectors), 0);
  p.out_mask.assign(static_cast<size_t>(p.vectors), 0);
  for (int64_t kh = 0; kh < s.KH; ++kh)
    for (int64_t kw = 0; kw < s.KW; ++kw) {
      const int64_t t = kh * s.KW + kw;
      p.offset[t] = (kh - s.pad_top) * s.W + (kw - s.pad_left);
      for (int64_t L = 0; L < p.plane; ++L) {
        const int64_t iy = L / ow - s.pad_top + kh, ix = L % ow - s.pad_left + kw;
        if (iy >= 0 && iy < s.H && ix >= 0 && ix < s.W)
          p.mask[(L / 16) * p.taps + t] |= static_cast<uint16_t>(1u << (L % 16));
      }
    }
  for (int64_t L = 0; L < p.plane; ++L)
    p.out_mask[L / 16] |= static_cast<uint16_t>(1u << (L % 16));
  return p;
}

}  // namespace kiln::cpu
