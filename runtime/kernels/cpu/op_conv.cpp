// Convolution-family op kernels on the CPU fast paths (f32, 2-D, NCHW):
//   Conv                kiln_conv2d with the weights packed per call (training changes them
//                       every step, so there is nothing to cache);
//   ConvTranspose       per (image, group): col = W_g^T X_g by SGEMM, then col2im adds each
//                       column back into the output window it came from;
//   KilnConvGradWeight  on AVX-512, dot products over output pixels (conv_grad_weight.h);
//                       otherwise dW_g = sum over images of dY_g im2col(X_g)^T by SGEMM. Images
//                       are cut into a number of chunks fixed by the shape alone; each chunk
//                       sums its images into a partial dW and the partials are added in chunk
//                       order, so the result never depends on the thread count.
#include <algorithm>
#include <cstdlib>
#include <memory>

#include "ir/infer/conv_shape.h"
#include "runtime/kernels/cpu/conv.h"
#include "runtime/kernels/cpu/conv_grad_weight.h"
#include "runtime/kernels/cpu/im2col_row.h"
#include "runtime/kernels/cpu/op_util.h"
#include "runtime/kernels/cpu/sgemm.h"
#include "runtime/kernels/cpu/sgemm_pack.h"
#include "runtime/threadpool/thread_pool.h"

namespace kiln::cpu {

namespace {

thread_local ScratchBuffer t_col;

struct FreeDeleter {
  void operator()(void* p) const { std::free(p); }
};

// First and one-past-last input index i in [0, in) with i*stride + offset in [0, out):
// the rows / columns of one kernel tap that land inside the output (or come from inside the input).
void tap_range(int64_t in, int64_t out, int64_t stride, int64_t offset, int64_t* lo, int64_t* hi) {
  // i >= ceil(-offset / stride) and i <= floor((out - 1 - offset) / stride)
  auto floor_div = [](int64_t a, int64_t b) { return a >= 0 ? a / b : -((-a + b - 1) / b); };
  *lo = std::max<int64_t>(0, -floor_div(offset, stride));
  *hi = std::min<int64_t>(in, floor_div(out - 1 - offset, stride) + 1);
  if (*hi < *lo) *hi = *lo;
}

// The 2-D window geometry both directions share: input H x W, output OH x OW, and for each
// axis stride, dilation and the begin pad. Output (oh, ow) of tap (kh, kw) reads / writes input
// (oh*sh - ph + kh*dh, ow*sw - pw + kw*dw).
struct Geom2d {
  int64_t H, W, OH, OW, KH, KW, sh, sw, dh, dw, ph, pw;
};

// col[(c*KH + kh)*KW + kw, oh*OW + ow] = x[c, ih, iw] or 0 in the padding (cg channels).
void im2col(const Geom2d& g, int64_t cg, const float* x, float* col) {
  const int64_t P = g.OH * g.OW;
  for (int64_t c = 0; c < cg; ++c) {
    const float* xc = x + c * g.H * g.W;
    for (int64_t kh = 0; kh < g.KH; ++kh) {
      for (int64_t kw = 0; kw < g.KW; ++kw) {
        float* row = col + ((c * g.KH + kh) * g.KW + kw) * P;
        int64_t ow_lo, ow_hi;  // outputs whose tap column is inside the input
        tap_range(g.OW, g.W, g.sw, kw * g.dw - g.pw, &ow_lo, &ow_hi);
        for (int64_t oh = 0; oh < g.OH; ++oh) {
          float* dst = row + oh * g.OW;
          const int64_t ih = oh * g.sh - g.ph + kh * g.dh;
          const int64_t shift = kw * g.dw - g.pw;  // iw = ow * sw + shift
          im2col_row(ih < 0 || ih >= g.H ? nullptr : xc + ih * g.W, dst, g.OW, ow_lo, ow_hi, g.sw,
                     shift);
        }
      }
    }
  }
}

// The adjoint of im2col for ConvTranspose: here the *input* of the op is the small side.
// y[m, ih*sh - ph + kh*dh, iw*sw - pw + kw*dw] += col[(m*KH + kh)*KW + kw, ih*W + iw].
void col2im_add(const Geom2d& g, int64_t mg, const float* col, float* y) {
  const int64_t P = g.H * g.W;
  for (int64_t m = 0; m < mg; ++m) {
    float* ym = y + m * g.OH * g.OW;
    for (int64_t kh = 0; kh < g.KH; ++kh) {
      int64_t ih_lo, ih_hi;
      tap_range(g.H, g.OH, g.sh, kh * g.dh - g.ph, &ih_lo, &ih_hi);
      for (int64_t kw = 0; kw < g.KW; ++kw) {
        const float* row = col + ((m * g.KH + kh) * g.KW + kw) * P;
        int64_t iw_lo, iw_hi;
        tap_range(g.W, g.OW, g.sw, kw * g.dw - g.pw, &iw_lo, &iw_hi);
        for (int64_t ih = ih_lo; ih < ih_hi; ++ih) {
          float* dst = ym + (ih * g.sh - g.ph + kh * g.dh) * g.OW;
          const int64_t shift = kw * g.dw - g.pw;  // ow = iw * sw + shift
          const float* src = row + ih * g.W;
          if (g.sw == 1) {
            for (int64_t iw = iw_lo; iw < iw_hi; ++iw) dst[iw + shift] += src[iw];
          } else {
            for (int64_t iw = iw_lo; iw < iw_hi; ++iw) dst[iw * g.sw + shift] += src[iw];
          }
        }
      }
    }
  }
}

// Runs task(i, inner_pool) for i in [0, n): across the pool when there are enough tasks to
// feed every thread, else one after another with the pool handed to the task's SGEMMs. Every
// task's arithmetic is the same either way (the SGEMM ignores its thread count).
template <typename Task>
void run_tasks(ThreadPool* pool, int64_t n, Task task) {
  if (pool && pool->num_threads() > 1 && n >= pool->num_threads()) {
    pool->parallel_for(n, [&](int64_t b, int64_t e) {
      for (int64_t i = b; i < e; ++i) task(i, nullptr);
    });
  } else {
    for (int64_t i = 0; i < n; ++i) task(i, pool);
  }
}

bool f32_4d(const KernelContext& ctx, size_t i) {
  return input_is_f32(ctx, i) && ctx.input(i).rank() == 4;
}

}  // namespace

void fast_Conv(KernelContext& ctx) { conv2d_forward(ctx, false); }

void conv2d_forward(KernelContext& ctx, bool relu) {
  if (ctx.num_inputs() > 3 || !f32_4d(ctx, 0) || !f32_4d(ctx, 1) || !input_is_f32(ctx, 2, true)) {
    return run_reference(ctx);
  }
  const Tensor& x = ctx.input(0);
  const Tensor& w = ctx.input(1);
  const Tensor* b = ctx.has_input(2) ? &ctx.input(2) : nullptr;
  const ConvShape cs = conv_shape(ctx.attr(), Shape::of(x.dims()), Shape::of(w.dims()), ctx.where());
  const Window& win = *cs.window;
  const std::vector<WindowAxis> axes = window_axes(win, {x.dim(2), x.dim(3)}, ctx.where());
  if (b && b->numel() != w.dim(0)) return run_reference(ctx);  // it reports the bad bias
  KilnConv2dShape s{};
  s.N = x.dim(0), s.C = x.dim(1), s.H = x.dim(2), s.W = x.dim(3);
  s.M = w.dim(0), s.KH = w.dim(2), s.KW = w.dim(3);
  s.stride_h = win.strides[0], s.stride_w = win.strides[1];
  s.dilation_h = win.dilations[0], s.dilation_w = win.dilations[1];
  s.pad_top = axes[0].pad_begin, s.pad_bottom = axes[0].pad_end;
  s.pad_left = axes[1].pad_begin, s.pad_right = axes[1].pad_end;
  s.group = cs.group;
  if (s.pad_bottom < 0 || s.pad_right < 0 || kiln_conv2d_output_height(&s) != axes[0].out ||
      kiln_conv2d_output_width(&s) != axes[1].out) {
    return run_reference(ctx);
  }
  Tensor& y = uninit_output(ctx, 0, {s.N, s.M, axes[0].out, axes[1].out});
  std::unique_ptr<void, FreeDeleter> packed(
      std::aligned_alloc(64, (kiln_conv2d_packed_weights_size(&s) + 63) / 64 * 64));
  if (!packed) ctx.fail("out of memory packing the weights");
  kiln_conv2d_pack_weights(&s, w.data<float>(), packed.get());
  kiln_conv2d(&s, packed.get(), x.data<float>(), b ? b->data<float>() : nullptr, relu ? 1 : 0,
              y.data<float>(), ctx.pool);
}

void fast_ConvTranspose(KernelContext& ctx) {
  if (ctx.num_inputs() > 3 || !f32_4d(ctx, 0) || !f32_4d(ctx, 1) || !input_is_f32(ctx, 2, true)) {
    return run_reference(ctx);
  }
  const Tensor& x = ctx.input(0);
  const Tensor& w = ctx.input(1);
  const Tensor* b = ctx.has_input(2) ? &ctx.input(2) : nullptr;
  const ConvTransposeShape cs =
      conv_transpose_shape(ctx.attr(), Shape::of(x.dims()), Shape::of(w.dims()), ctx.where());
  if (!cs.window || cs.axes.size() != 2) return run_reference(ctx);
  const Window& win = *cs.window;
  const int64_t N = x.dim(0), C = x.dim(1), group = cs.group;
  const int64_t cg = C / group, mg = w.dim(1), M = mg * group;
  if (b && b->numel() != M) return run_reference(ctx);
  const Geom2d g{x.dim(2),        x.dim(3),          cs.axes[0].out,   cs.axes[1].out,
                 win.kernel[0],   win.kernel[1],     win.strides[0],   win.strides[1],
                 win.dilations[0], win.dilations[1], cs.axes[0].pad_begin, cs.axes[1].pad_begin};
  Tensor& yt = uninit_output(ctx, 0, {N, M, g.OH, g.OW});
  float* y = yt.data<float>();
  const float* px = x.data<float>();
  const float* pw = w.data<float>();
  const float* pb = b ? b->data<float>() : nullptr;
  const int64_t rows = mg * g.KH * g.KW, in_plane = g.H * g.W, out_plane = g.OH * g.OW;
  run_tasks(ctx.pool, N * group, [&](int64_t task, ThreadPool* inner) {
    const int64_t n = task / group, gi = task % group;
    float* col = t_col.floats(static_cast<size_t>(rows * in_plane));
    // col [rows, H*W] = W_g^T [rows, cg] x X_g [cg, H*W]; W_g is stored [cg, rows].
    kiln_sgemm(1, 0, rows, in_plane, cg, 1.0f, pw + gi * cg * rows, rows,
               px + (n * C + gi * cg) * in_plane, in_plane, 0.0f, col, in_plane, nullptr, inner);
    float* yg = y + (n * M + gi * mg) * out_plane;
    for (int64_t m = 0; m < mg; ++m) {
      std::fill(yg + m * out_plane, yg + (m + 1) * out_plane, pb ? pb[gi * mg + m] : 0.0f);
    }
    col2im_add(g, mg, col, yg);
  });
}

void fast_KilnConvGradWeight(KernelContext& ctx) {
  if (!f32_4d(ctx, 0) || !f32_4d(ctx, 1)) return run_reference(ctx);
  const Tensor& x = ctx.input(0);
  const Tensor& dy = ctx.input(1);
  const int64_t group = ctx.attr().get_int("group", 1);
  const std::vector<int64_t> kernel = ctx.attr().get_ints("kernel_shape");
  if (group < 1 || x.dim(1) % group != 0 || kernel.size() != 2 || dy.dim(1) % group != 0) {
    return run_reference(ctx);  // it reports what is wrong
  }
  const Dims wdims = {dy.dim(1), x.dim(1) / group, kernel[0], kernel[1]};
  const ConvShape cs = conv_shape(ctx.attr(), Shape::of(x.dims()), Shape::of(wdims), ctx.where());
  const Window& win = *cs.window;
  const std::vector<WindowAxis> axes = window_axes(win, {x.dim(2), x.dim(3)}, ctx.where());
  if (dy.dims() != Dims{x.dim(0), dy.dim(1), axes[0].out, axes[1].out}) return run_reference(ctx);
  const Geom2d g{x.dim(2),        x.dim(3),          axes[0].out,      axes[1].out,
                 kernel[0],       kernel[1],         win.strides[0],   win.strides[1],
                 win.dilations[0], win.dilations[1], axes[0].pad_begin, axes[1].pad_begin};
  const int64_t N = x.dim(0), C = x.dim(1), M = dy.dim(1);
  const int64_t cg = C / group, mg = M / group, kc = cg * g.KH * g.KW, P = g.OH * g.OW;
  Tensor& dwt = uninit_output(ctx, 0, wdims);
  float* dw = dwt.data<float>();
  const int64_t wsize = M * kc;
  if (N == 0) return std::fill(dw, dw + wsize, 0.0f);
  if (conv_grad_weight_dot_available()) {
    const GradWeightShape gs{N,   C,   g.H,  g.W,  M,    g.OH, g.OW, g.KH,
                             g.KW, g.sh, g.sw, g.dh, g.dw, g.ph, g.pw, group};
    return conv_grad_weight_dot(gs, x.data<float>(), dy.data<float>(), dw, ctx.pool);
  }

  // Chunks of images: at most 16, fewer when the partial sums would pass 2^24 floats.
  const int64_t chunks = std::clamp<int64_t>((int64_t{1} << 24) / std::max<int64_t>(wsize, 1), 1,
                                             std::min<int64_t>(N, 16));
  std::vector<float> partial_store(chunks > 1 ? static_cast<size_t>(chunks * wsize) : 0);
  const float* px = x.data<float>();
  const float* pdy = dy.data<float>();
  run_tasks(ctx.pool, chunks * group, [&](int64_t task, ThreadPool* inner) {
    const int64_t c = task / group, gi = task % group;
    float* out = (chunks > 1 ? partial_store.data() + c * wsize : dw) + gi * mg * kc;
    float* col = t_col.floats(static_cast<size_t>(kc * P));
    const int64_t n0 = N * c / chunks, n1 = N * (c + 1) / chunks;
    for (int64_t n = n0; n < n1; ++n) {
      im2col(g, cg, px + (n * C + gi * cg) * g.H * g.W, col);
      // dW_g [mg, kc] (+)= dY_g [mg, P] x col^T [P, kc]
      kiln_sgemm(0, 1, mg, kc, P, 1.0f, pdy + (n * M + gi * mg) * P, P, col, P,
                 n == n0 ? 0.0f : 1.0f, out, kc, nullptr, inner);
    }
  });
  if (chunks == 1) return;
  parallel_ranges(ctx.pool, wsize, chunks, [&](int64_t b, int64_t e) {
    for (int64_t i = b; i < e; ++i) {
      float s = partial_store[static_cast<size_t>(i)];
      for (int64_t c = 1; c < chunks; ++c) s += partial_store[static_cast<size_t>(c * wsize + i)];
      dw[i] = s;
    }
  });
}

}  // namespace kiln::cpu
