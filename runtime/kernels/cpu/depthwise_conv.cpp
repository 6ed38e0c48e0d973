#include "runtime/kernels/cpu/depthwise_conv.h"

#include <vector>

#include "runtime/kernels/cpu/depthwise_flat.h"
#include "runtime/kernels/cpu/sliding_window.h"
#include "runtime/threadpool/thread_pool.h"

namespace kiln::cpu {

namespace {
// Floats of Y per `post` call, at least (or the item's planes).
constexpr int64_t kPostFloats = 2048;
}  // namespace

void depthwise_conv(const KilnConv2dShape& s, int64_t out_h, int64_t out_w, Isa isa, const float* w,
                    const float* x, const KilnGemmEpilogue& ep, float* y, ThreadPool* pool) {
  const PlaneWindow g{s.H,        s.W,          out_h,        out_w,
                      s.KH,       s.KW,         s.stride_h,   s.stride_w,
                      s.pad_top,  s.pad_left,   s.dilation_h, s.dilation_w};
  const float* bias = ep.row_bias;
  const int64_t plane = out_h * out_w, taps = s.KH * s.KW, planes = s.N * s.C;
  const FlatPlan fp = isa == Isa::Avx512 && depthwise_flat_applies(s, out_h, out_w)
                         ? depthwise_flat_plan(s, out_h, out_w)
                         : FlatPlan{};
  const bool flat = fp.plane > 0;
  auto run = [&](int64_t begin, int64_t end) {
    // Stride 2's sub-planes, two sets: plane p + 1 is split before plane p is computed, so the
    // taps' loads find the split's stores committed instead of stalling on store forwarding.
    thread_local std::vector<float> t_sub;
    const int64_t sub = 4 * fp.sub_floats;
    if (flat && fp.stride == 2) {
      t_sub.resize(static_cast<size_t>(2 * sub));
      if (begin < end) depthwise_flat_split_avx512(fp, x + begin * s.H * s.W, t_sub.data());
    }
    int64_t post_from = begin;  // first plane not yet given to `post`
    for (int64_t p = begin; p < end; ++p) {
      const int64_t c = p % s.C;
      float* out = y + p * plane;
      if (flat) {
        const float* src = x + p * s.H * s.W;
        if (fp.stride == 2) {
          if (p + 1 < end)
            depthwise_flat_split_avx512(fp, x + (p + 1) * s.H * s.W,
                                        t_sub.data() + ((p + 1 - begin) & 1) * sub);
          src = t_sub.data() + ((p - begin) & 1) * sub;
        }
        depthwise_flat_plane_avx512(fp, w + c * taps, bias ? bias[c] : 0.0f, ep.relu != 0, src,
                                    out);
      } else {
        window_plane(isa, g, WindowOp::Conv, w + c * taps, bias ? bias[c] : 0.0f, ep.relu != 0,
                     x + p * s.H * s.W, out);
      }
      // Consecutive planes are contiguous in Y, so finished ones go to `post` together as one
      // row of at least kPostFloats (still in L1): a call per small plane (7x7, 14x14) cost
      // more than the epilogue's arithmetic.
      if (ep.post && ((p + 1 - post_from) * plane >= kPostFloats || p + 1 == end)) {
        const int64_t n = (p + 1 - post_from) * plane;
        ep.post(ep.post_closure, y + post_from * plane, n, 1, n);
        post_from = p + 1;
      }
    }
  };
  if (pool && planes > 1) {
    pool->parallel_for(planes, run);
  } else {
    run(0, planes);
  }
}

}  // namespace kiln::cpu
