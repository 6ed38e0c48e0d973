// Pooling op kernels (f32, NCHW, 2-D windows), planes split over the pool:
//   MaxPool            max_pool_rows (stride-2 windows) or window_plane when only Y is
//                      wanted and every window has an in-bounds tap; with Indices (training)
//                      a direct loop that keeps the reference's rule: taps in row-major
//                      order, the first maximum wins;
//   AveragePool        window_plane sums divided by each window's count (count_include_pad
//                      and ceil_mode as the reference);
//   GlobalAveragePool  kiln_global_average_pool;
//   KilnMaxPoolGrad    each (n, c) plane scatters its dY into its own dX plane, so planes run in
//                      parallel; an index outside its plane sends the node to the reference.
#include <algorithm>
#include <atomic>
#include <limits>

#include "ir/infer/window.h"
#include "runtime/kernels/cpu/op_util.h"
#include "runtime/kernels/cpu/pool.h"
#include "runtime/kernels/cpu/pool_indices.h"
#include "runtime/kernels/cpu/pool_rows.h"
#include "runtime/kernels/cpu/sliding_window.h"

namespace kiln::cpu {

namespace {

// Window geometry of a 2-D pool over X [N, C, H, W].
struct PoolGeom {
  int64_t planes, H, W, OH, OW, KH, KW, sh, sw, dh, dw, ph, pw, pad_end_h, pad_end_w;
  // Taps of output row oh (column ow) that fall inside the input: [lo, hi) in kernel steps.
  void taps_h(int64_t oh, int64_t* lo, int64_t* hi) const { taps(oh * sh - ph, dh, KH, H, lo, hi); }
  void taps_w(int64_t ow, int64_t* lo, int64_t* hi) const { taps(ow * sw - pw, dw, KW, W, lo, hi); }
  static void taps(int64_t start, int64_t dil, int64_t k, int64_t in, int64_t* lo, int64_t* hi) {
    *lo = start >= 0 ? 0 : std::min(k, (-start + dil - 1) / dil);
    *hi = start >= in ? 0 : std::min(k, (in - 1 - start) / dil + 1);
    if (*hi < *lo) *hi = *lo;
  }
};

// False (the caller falls back) unless X is f32 NCHW and the window is 2-D.
bool pool_geom(const KernelContext& ctx, PoolGeom* g) {
  if (!input_is_f32(ctx, 0) || ctx.input(0).rank() != 4) return false;
  const std::vector<int64_t> kernel = ctx.attr().get_ints("kernel_shape");
  if (kernel.size() != 2) return false;
  const Tensor& x = ctx.input(0);
  const Window w = read_window(ctx.attr(), kernel, ctx.where());
  const std::vector<WindowAxis> a = window_axes(w, {x.dim(2), x.dim(3)}, ctx.where());
  *g = PoolGeom{x.dim(0) * x.dim(1), x.dim(2),       x.dim(3),         a[0].out,
                a[1].out,            kernel[0],      kernel[1],        w.strides[0],
                w.strides[1],        w.dilations[0], w.dilations[1],   a[0].pad_begin,
                a[1].pad_begin,      a[0].pad_end,   a[1].pad_end};
  return true;
}

bool every_window_has_a_tap(const PoolGeom& g) {
  for (int64_t o = 0; o < g.OH; ++o) {
    int64_t lo, hi;
    g.taps_h(o, &lo, &hi);
    if (lo == hi) return false;
  }
  for (int64_t o = 0; o < g.OW; ++o) {
    int64_t lo, hi;
    g.taps_w(o, &lo, &hi);
    if (lo == hi) return false;
  }
  return true;
}

PlaneWindow plane_window(const PoolGeom& g) {
  return PlaneWindow{g.H, g.W, g.OH, g.OW, g.KH, g.KW, g.sh, g.sw, g.ph, g.pw, g.dh, g.dw};
}

// The in-bounds taps of every output row and column, computed once per call: output (oh, ow)
// reads rows h_start[oh] + kh*dh for kh in [h_lo[oh], h_hi[oh]), and likewise for columns.
struct TapTable {
  std::vector<int64_t> start, lo, hi;
  TapTable(int64_t out, int64_t stride, int64_t pad, int64_t dil, int64_t k, int64_t in)
      : start(static_cast<size_t>(out)), lo(start), hi(start) {
    for (int64_t o = 0; o < out; ++o) {
      const size_t i = static_cast<size_t>(o);
      start[i] = o * stride - pad;
      PoolGeom::taps(start[i], dil, k, in, &lo[i], &hi[i]);
    }
  }
};

// One plane of MaxPool with flat indices (plane_base = plane * H * W).
void max_pool_plane(const PoolGeom& g, const TapTable& rows, const TapTable& cols,
                    const float* __restrict x, float* __restrict y, int64_t* __restrict ind,
                    int64_t plane_base) {
  for (int64_t oh = 0; oh < g.OH; ++oh) {
    const size_t r = static_cast<size_t>(oh);
    for (int64_t ow = 0; ow < g.OW; ++ow) {
      const size_t c = static_cast<size_t>(ow);
      if (rows.lo[r] == rows.hi[r] || cols.lo[c] == cols.hi[c]) {  // all padding
        y[oh * g.OW + ow] = std::numeric_limits<float>::lowest();
        ind[oh * g.OW + ow] = -1;
        continue;
      }
      // Start from the first tap; later taps win only when strictly larger (selects, not
      // branches: which tap wins is data, and mispredictions would dominate).
      int64_t arg = (rows.start[r] + rows.lo[r] * g.dh) * g.W + cols.start[c] + cols.lo[c] * g.dw;
      float best = x[arg];
      for (int64_t kh = rows.lo[r]; kh < rows.hi[r]; ++kh) {
        const int64_t row = (rows.start[r] + kh * g.dh) * g.W + cols.start[c];
        for (int64_t kw = cols.lo[c]; kw < cols.hi[c]; ++kw) {
          const int64_t at = row + kw * g.dw;
          const bool wins = x[at] > best;
          best = wins ? x[at] : best;
          arg = wins ? at : arg;
        }
      }
      y[oh * g.OW + ow] = best;
      ind[oh * g.OW + ow] = plane_base + arg;
    }
  }
}

}  // namespace

void fast_MaxPool(KernelContext& ctx) {
  PoolGeom g;
  const bool want_idx = ctx.wants_output(1);
  if (!pool_geom(ctx, &g) || (want_idx && ctx.attr().get_int("storage_order", 0) != 0)) {
    return run_reference(ctx);
  }
  const Tensor& x = ctx.input(0);
  const Dims out_dims = {x.dim(0), x.dim(1), g.OH, g.OW};
  float* y = uninit_output(ctx, 0, out_dims).data<float>();
  const float* px = x.data<float>();
  if (!want_idx && every_window_has_a_tap(g)) {
    const PlaneWindow w = plane_window(g);
    const Isa isa = active_isa();
    parallel_ranges(ctx.pool, g.planes, g.H * g.W, [&](int64_t b, int64_t e) {
      const float* xb = px + b * g.H * g.W;
      float* yb = y + b * g.OH * g.OW;
      if (max_pool_rows(isa, w, e - b, xb, yb)) return;
      for (int64_t p = 0; p < e - b; ++p) {
        window_plane(isa, w, WindowOp::Max, nullptr, 0.0f, false, xb + p * g.H * g.W,
                     yb + p * g.OH * g.OW);
      }
    });
    return;
  }
  int64_t* ind = want_idx ? uninit_output(ctx, 1, out_dims).data<int64_t>() : nullptr;
  if (want_idx && max_pool_2x2_with_indices({g.planes, g.H, g.W, g.OH, g.OW, g.KH, g.KW, g.sh, g.sw,
                                             g.dh, g.dw, g.ph, g.pw},
                                            px, y, ind, ctx.pool)) {
    return;  // training's common case (pool_indices.h)
  }
  const int64_t in_plane = g.H * g.W, out_plane = g.OH * g.OW;
  const TapTable rows(g.OH, g.sh, g.ph, g.dh, g.KH, g.H), cols(g.OW, g.sw, g.pw, g.dw, g.KW, g.W);
  parallel_ranges(ctx.pool, g.planes, in_plane, [&](int64_t b, int64_t e) {
    std::vector<int64_t> local(want_idx ? 0 : static_cast<size_t>(out_plane));
    for (int64_t p = b; p < e; ++p) {
      max_pool_plane(g, rows, cols, px + p * in_plane, y + p * out_plane,
                     want_idx ? ind + p * out_plane : local.data(), p * in_plane);
    }
  });
}

void fast_AveragePool(KernelContext& ctx) {
  PoolGeom g;
  if (!pool_geom(ctx, &g)) return run_reference(ctx);
  const Tensor& x = ctx.input(0);
  float* y = uninit_output(ctx, 0, {x.dim(0), x.dim(1), g.OH, g.OW}).data<float>();
  const float* px = x.data<float>();
  const bool include_pad = ctx.attr().get_int("count_include_pad", 0) == 1;
  // count_include_pad divides by the taps inside [-pad_begin, in + pad_end) of each axis.
  auto padded = [](int64_t start, int64_t dil, int64_t k, int64_t end) {
    int64_t n = 0;
    for (int64_t t = 0; t < k; ++t) n += start + t * dil < end;
    return n;
  };
  // Window sums by window_plane (a depthwise convolution with all-ones taps: the same
  // additions, in the same order, as the reference), then each output divided by its count.
  std::vector<int64_t> row_n(static_cast<size_t>(g.OH)), col_n(static_cast<size_t>(g.OW));
  for (int64_t o = 0; o < g.OH; ++o) {
    int64_t lo, hi;
    g.taps_h(o, &lo, &hi);
    row_n[static_cast<size_t>(o)] =
        include_pad ? padded(o * g.sh - g.ph, g.dh, g.KH, g.H + g.pad_end_h) : hi - lo;
  }
  for (int64_t o = 0; o < g.OW; ++o) {
    int64_t lo, hi;
    g.taps_w(o, &lo, &hi);
    col_n[static_cast<size_t>(o)] =
        include_pad ? padded(o * g.sw - g.pw, g.dw, g.KW, g.W + g.pad_end_w) : hi - lo;
  }
  const std::vector<float> ones(static_cast<size_t>(g.KH * g.KW), 1.0f);
  const PlaneWindow w = plane_window(g);
  const Isa isa = active_isa();
  const int64_t in_plane = g.H * g.W, out_plane = g.OH * g.OW;
  parallel_ranges(ctx.pool, g.planes, in_plane, [&](int64_t b, int64_t e) {
    for (int64_t p = b; p < e; ++p) {
      float* yp = y + p * out_plane;
      window_plane(isa, w, WindowOp::Conv, ones.data(), 0.0f, false, px + p * in_plane, yp);
      for (int64_t oh = 0; oh < g.OH; ++oh) {
        float* row = yp + oh * g.OW;
        const int64_t rn = row_n[static_cast<size_t>(oh)];
        for (int64_t ow = 0; ow < g.OW; ++ow) {
          const int64_t n = rn * col_n[static_cast<size_t>(ow)];
          row[ow] = n == 0 ? 0.0f : row[ow] / static_cast<float>(n);
        }
      }
    }
  });
}

void fast_GlobalAveragePool(KernelContext& ctx) {
  if (!input_is_f32(ctx, 0) || ctx.input(0).rank() < 3) return run_reference(ctx);
  const Tensor& x = ctx.input(0);
  int64_t plane = 1;
  for (int64_t i = 2; i < x.rank(); ++i) plane *= x.dim(i);
  if (plane == 0) return run_reference(ctx);
  Dims out_dims(static_cast<size_t>(x.rank()), 1);
  out_dims[0] = x.dim(0);
  out_dims[1] = x.dim(1);
  Tensor& y = uninit_output(ctx, 0, out_dims);
  kiln_global_average_pool(x.dim(0), x.dim(1), 1, plane, x.data<float>(), y.data<float>(), ctx.pool);
}

void fast_KilnMaxPoolGrad(KernelContext& ctx) {
  if (!input_is_f32(ctx, 0) || !ctx.has_input(1) || ctx.input(1).dtype() != DType::I64 ||
      !ctx.has_input(2)) {
    return run_reference(ctx);
  }
  const Tensor& dy = ctx.input(0);
  const Tensor& ind = ctx.input(1);
  const Tensor& x = ctx.input(2);
  if (dy.dims() != ind.dims() || x.rank() < 3 || dy.rank() != x.rank() || dy.dim(0) != x.dim(0) ||
      dy.dim(1) != x.dim(1)) {
    return run_reference(ctx);
  }
  const int64_t planes = x.dim(0) * x.dim(1);
  if (planes == 0) return run_reference(ctx);
  const int64_t in_plane = x.numel() / planes, out_plane = dy.numel() / planes;
  Tensor& dxt = uninit_output(ctx, 0, x.dims());
  float* dx = dxt.data<float>();
  const float* g = dy.data<float>();
  const int64_t* idx = ind.data<int64_t>();
  std::atomic<bool> outside{false};
  parallel_ranges(ctx.pool, planes, in_plane + out_plane, [&](int64_t b, int64_t e) {
    for (int64_t p = b; p < e; ++p) {
      float* d = dx + p * in_plane;
      std::fill(d, d + in_plane, 0.0f);
      const int64_t base = p * in_plane;
      for (int64_t i = p * out_plane; i < (p + 1) * out_plane; ++i) {
        const int64_t at = idx[i] - base;
        if (idx[i] < 0) continue;  // a window entirely in the padding
        if (at >= in_plane || at < 0) {
          outside = true;
          continue;
        }
        d[at] += g[i];
      }
    }
  });
  if (outside) run_reference(ctx);  // cross-plane or bad indices: its rules, its errors
}

}  // namespace kiln::cpu
