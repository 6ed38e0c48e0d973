#include "runtime/kernels/cpu/depthwise_conv.h"

#include "runtime/kernels/cpu/sliding_window.h"
#include "runtime/threadpool/thread_pool.h"

namespace kiln::cpu {

void depthwise_conv(const KilnConv2dShape& s, int64_t out_h, int64_t out_w, Isa isa, const float* w,
                    const float* x, const KilnGemmEpilogue& ep, float* y, ThreadPool* pool) {
  const PlaneWindow g{s.H,        s.W,          out_h,        out_w,
                      s.KH,       s.KW,         s.stride_h,   s.stride_w,
                      s.pad_top,  s.pad_left,   s.dilation_h, s.dilation_w};
  const float* bias = ep.row_bias;
  const int64_t plane = out_h * out_w, taps = s.KH * s.KW, planes = s.N * s.C;
  auto run = [&](int64_t begin, int64_t end) {
    for (int64_t p = begin; p < end; ++p) {
      const int64_t c = p % s.C;
      float* out = y + p * plane;
      window_plane(isa, g, WindowOp::Conv, w + c * taps, bias ? bias[c] : 0.0f, ep.relu != 0,
                   x + p * s.H * s.W, out);
      if (ep.post) ep.post(ep.post_closure, out, plane, 1, plane);
    }
  };
  if (pool && planes > 1) {
    pool->parallel_for(planes, run);
  } else {
    run(0, planes);
  }
}

}  // namespace kiln::cpu
