// Few-taps convolution driver: tap offsets, the zero-bordered source rows of padded convs, row
// segments, `post` on finished blocks, and the split of (image, group, row chunk) over threads.
#include "runtime/kernels/cpu/conv_fewtaps.h"

#include <algorithm>
#include <vector>

#include "runtime/kernels/cpu/conv_outvec.h"
#include "runtime/kernels/cpu/sgemm_pack.h"
#include "runtime/threadpool/thread_pool.h"

namespace kiln::cpu {

namespace {

thread_local ScratchBuffer t_rows;
// Below this many multiply-adds the launch stays on the calling thread.
constexpr int64_t kMinParallelMacs = int64_t{1} << 20;
// Output bytes per work item, at most (while rows allow).
constexpr int64_t kItemOutputBytes = int64_t{256} << 10;

}  // namespace

bool fewtaps_conv_supported(const KilnConv2dShape& s) {
  return s.stride_w == 1 && (s.C / s.group) * s.KH * s.KW <= kFewTapsMaxK;
}

size_t fewtaps_packed_floats(const KilnConv2dShape& s) {
  return static_cast<size_t>(s.M * (s.C / s.group) * s.KH * s.KW);
}

void fewtaps_conv(const KilnConv2dShape& s, int64_t out_h, int64_t out_w, const float* weights,
                  const float* x, const KilnGemmEpilogue& ep, const float* residual, float* y,
                  ThreadPool* pool) {
  const int64_t cg = s.C / s.group, mg = s.M / s.group, kg = cg * s.KH * s.KW;
  const int64_t P = out_h * out_w;
  const bool padded = s.pad_top || s.pad_left || s.pad_bottom || s.pad_right;
  const int64_t sw_cols = s.W + s.pad_left + s.pad_right;
  if (s.N * s.M * P * kg < kMinParallelMacs) pool = nullptr;
  const int threads = pool ? pool->num_threads() : 1;

  // Items: (image, group, row chunk); rows are split when images and groups are fewer than a
  // few items per thread, and so that an item's output stays in L2 for `post`.
  const int64_t outer = s.N * s.group;
  const int64_t want = threads > 1 ? 4 * threads : 1;
  const int64_t by_size = (mg * P * 4 + kItemOutputBytes - 1) / kItemOutputBytes;
  const int64_t row_chunks =
      std::clamp<int64_t>(std::max((want + outer - 1) / outer, by_size), 1, out_h);
  const int64_t items = outer * row_chunks;
  const int64_t chunk_rows = (out_h + row_chunks - 1) / row_chunks;
  auto source_rows = [&](int64_t rows) {
    return (rows - 1) * s.stride_h + (s.KH - 1) * s.dilation_h + 1;
  };
  // Padded: each item copies the zero-bordered rows it reads (per channel plane, an odd
  // number of cache lines apart); unpadded: the input itself.
  const int64_t chan_stride =
      padded ? ((source_rows(chunk_rows) * sw_cols + 15) / 16 | 1) * 16 : s.H * s.W;
  const int64_t row_stride = padded ? sw_cols : s.W;
  std::vector<int64_t> off(static_cast<size_t>(kg));
  for (int64_t c = 0; c < cg; ++c) {
    for (int64_t kh = 0; kh < s.KH; ++kh) {
      for (int64_t kw = 0; kw < s.KW; ++kw) {
        off[static_cast<size_t>((c * s.KH + kh) * s.KW + kw)] =
            c * chan_stride + kh * s.dilation_h * row_stride + kw * s.dilation_w;
      }
    }
  }

  const int64_t seg = kg <= 9 ? 32 : 16;  // pixels per row segment (fewtaps_row_avx512)
  auto run = [&](int64_t begin, int64_t end) {
    for (int64_t item = begin; item < end; ++item) {
      const int64_t ri = item % row_chunks, o = item / row_chunks, n = o / s.group,
                    g = o % s.group;
      const int64_t r0 = out_h * ri / row_chunks, r1 = out_h * (ri + 1) / row_chunks;
      if (r0 == r1) continue;
      const float* src = x + (n * s.C + g * cg) * s.H * s.W;
      int64_t row0 = 0;  // the source row at src's row 0
      if (padded) {
        row0 = r0 * s.stride_h;
        float* buf = t_rows.floats(static_cast<size_t>(cg * chan_stride));
        fill_padded(s, sw_cols, x + n * s.C * s.H * s.W, g * cg, cg, row0, source_rows(r1 - r0),
                    chan_stride, buf);
        src = buf;
      }
      float* yg = y + (n * s.M + g * mg) * P;
      const float* rg = residual ? residual + (n * s.M + g * mg) * P : nullptr;
      FewTapsRow t{};
      t.w = weights + g * mg * kg;
      t.off = off.data();
      t.ldy = P;
      t.channels = static_cast<int>(mg);
      t.bias = ep.row_bias ? ep.row_bias + g * mg : nullptr;
      t.relu = ep.relu != 0;
      // All channels per row: taken channel blocks outer instead (fewer output streams at a
      // time), MNIST's 1->32 at b64 measured no faster.
      for (int64_t r = r0; r < r1; ++r) {
        const float* xr = src + (r * s.stride_h - row0) * row_stride;
        for (int64_t col = 0; col < out_w; col += seg) {
          t.x = xr + col;
          t.y = yg + r * out_w + col;
          t.res = rg ? rg + r * out_w + col : nullptr;
          t.pixels = static_cast<int>(std::min(seg, out_w - col));
          fewtaps_row_avx512(static_cast<int>(kg), t);
        }
      }
      // The item's rows are finished (and in L2): one `post` call.
      if (ep.post) ep.post(ep.post_closure, yg + r0 * out_w, P, mg, (r1 - r0) * out_w);
    }
  };
  if (threads > 1 && items > 1) {
    pool->parallel_for(items, run);
  } else {
    run(0, items);
  }
}

}  // namespace kiln::cpu
