// Reference kernels for the Kiln-internal training ops: the backward passes of Conv (weights),
// MaxPool, AveragePool, SoftmaxCrossEntropyLoss, Gather and Relu. f32 and f64; accumulation in
// double, in a fixed order, so results are deterministic.
#include <cmath>
#include <optional>

#include "ir/infer/window.h"
#include "runtime/kernels/ref/conv_util.h"

namespace kiln {

namespace {

// Calls fn.template operator()<T>() for f32 / f64 and fails for anything else.
template <typename Fn>
void dispatch_f32_f64(const KernelContext& ctx, DType t, Fn&& fn) {
  if (t == DType::F32) return fn.template operator()<float>();
  if (t == DType::F64) return fn.template operator()<double>();
  ctx.fail("dtype ", dtype_name(t), " is not supported (f32 or f64 only)");
}

}  // namespace

// dW[m, c, t] = sum over n and output positions o of dY[n, m, o] * X[n, g*cg + c, o*s - p + t*d].
void ref_KilnConvGradWeight(KernelContext& ctx) {
  const Tensor& x = ctx.input(0);
  const Tensor& dy = ctx.input(1);
  ctx.check(x.rank() >= 3 && dy.rank() == x.rank(), "X ", x.describe(), " and dY ", dy.describe(),
            " must have the same rank >= 3");
  const int64_t group = ctx.attr().get_int("group", 1);
  ctx.check(group >= 1 && x.dim(1) % group == 0, "X channels ", x.dim(1),
            " are not divisible by group ", group);
  Dims wdims = {dy.dim(1), x.dim(1) / group};
  for (int64_t k : ctx.attr().get_ints("kernel_shape")) wdims.push_back(k);
  const ref::ConvGeom g = ref::conv_geom(ctx, x.dims(), wdims);
  ctx.check(g.N == dy.dim(0) && Dims(dy.dims().begin() + 2, dy.dims().end()) == g.out_sp,
            "dY ", dy.describe(), " does not match the convolution of X ", x.describe());
  Tensor& dw = ctx.output(0);
  dispatch_f32_f64(ctx, x.dtype(), [&]<typename T>() {
    const T* px = x.data<T>();
    const T* pdy = dy.data<T>();
    T* pdw = dw.data<T>();
    const size_t rank = g.in_sp.size();
    const int64_t in_size = checked_numel(g.in_sp);
    const int64_t out_size = checked_numel(g.out_sp);
    const int64_t taps = checked_numel(g.kernel);
    const int64_t cg = g.C / g.group, mg = g.M / g.group;
    const std::vector<int64_t> oc = ref::all_coords(g.out_sp);
    const std::vector<int64_t> kc = ref::all_coords(g.kernel);
    const std::vector<int64_t> in_strides = ref::strides_of(g.in_sp);
    // Input offset of (output position o, tap t), or -1 in the padding.
    std::vector<int64_t> off(static_cast<size_t>(out_size * taps));
    for (int64_t o = 0; o < out_size; ++o) {
      for (int64_t t = 0; t < taps; ++t) {
        int64_t f = 0;
        bool inside = true;
        for (size_t d = 0; d < rank && inside; ++d) {
          const int64_t p = oc[static_cast<size_t>(o) * rank + d] * g.strides[d] - g.pad_begin[d] +
                            kc[static_cast<size_t>(t) * rank + d] * g.dilations[d];
          inside = p >= 0 && p < g.in_sp[d];
          f += p * in_strides[d];
        }
        off[static_cast<size_t>(o * taps + t)] = inside ? f : -1;
      }
    }
    std::vector<double> acc(static_cast<size_t>(taps));
    for (int64_t m = 0; m < g.M; ++m) {
      const int64_t first_c = (m / mg) * cg;
      for (int64_t c = 0; c < cg; ++c) {
        std::fill(acc.begin(), acc.end(), 0.0);
        for (int64_t n = 0; n < g.N; ++n) {
          const T* xp = px + (n * g.C + first_c + c) * in_size;
          const T* dyp = pdy + (n * g.M + m) * out_size;
          for (int64_t o = 0; o < out_size; ++o) {
            const double gy = static_cast<double>(dyp[o]);
            if (gy == 0.0) continue;
            const int64_t* op = &off[static_cast<size_t>(o * taps)];
            for (int64_t t = 0; t < taps; ++t) {
              if (op[t] >= 0) acc[static_cast<size_t>(t)] += gy * static_cast<double>(xp[op[t]]);
            }
          }
        }
        for (int64_t t = 0; t < taps; ++t) {
          pdw[(m * cg + c) * taps + t] = static_cast<T>(acc[static_cast<size_t>(t)]);
        }
      }
    }
  });
}

// dX = 0; dX[Indices[i]] += dY[i] (indices are flat offsets into X, as MaxPool's output 1).
void ref_KilnMaxPoolGrad(KernelContext& ctx) {
  const Tensor& dy = ctx.input(0);
  const Tensor& ind = ctx.input(1);
  const Tensor& x = ctx.input(2);
  ctx.check(dy.dims() == ind.dims(), "dY ", dy.describe(), " and Indices ", ind.describe(),
            " must have the same shape");
  Tensor& dx = ctx.output(0, x.dims());
  const std::vector<int64_t> idx = ind.to_int64_vector();
  dispatch_f32_f64(ctx, dy.dtype(), [&]<typename T>() {
    const T* g = dy.data<T>();
    std::vector<double> acc(static_cast<size_t>(x.numel()), 0.0);
    for (size_t i = 0; i < idx.size(); ++i) {
      if (idx[i] < 0) continue;  // a window entirely in the padding
      ctx.check(idx[i] < x.numel(), "index ", idx[i], " is out of range for X ", x.describe());
      acc[static_cast<size_t>(idx[i])] += static_cast<double>(g[i]);
    }
    T* out = dx.data<T>();
    for (size_t i = 0; i < acc.size(); ++i) out[i] = static_cast<T>(acc[i]);
  });
}

// Each dY element is spread evenly over the in-bounds taps of its window, divided by the same
// count AveragePool divides by (count_include_pad: taps inside the padded input).
void ref_KilnAveragePoolGrad(KernelContext& ctx) {
  const Tensor& dy = ctx.input(0);
  const Tensor& x = ctx.input(1);
  ctx.check(x.rank() >= 3 && dy.rank() == x.rank(), "X ", x.describe(), " and dY ", dy.describe(),
            " must have the same rank >= 3");
  const Window w = read_window(ctx.attr(), ctx.attr().get_ints("kernel_shape"), ctx.where());
  const Dims in_sp(x.dims().begin() + 2, x.dims().end());
  const std::vector<WindowAxis> axes = window_axes(w, in_sp, ctx.where());
  Dims out_sp;
  for (const WindowAxis& a : axes) out_sp.push_back(a.out);
  ctx.check(dy.dim(0) == x.dim(0) && dy.dim(1) == x.dim(1) &&
                Dims(dy.dims().begin() + 2, dy.dims().end()) == out_sp,
            "dY ", dy.describe(), " does not match pooling X ", x.describe());
  const bool include_pad = ctx.attr().get_int("count_include_pad", 0) == 1;
  const size_t r = w.rank();
  const int64_t planes = x.dim(0) * x.dim(1);
  const int64_t in_plane = checked_numel(in_sp), out_plane = checked_numel(out_sp);
  const int64_t taps = checked_numel(w.kernel);
  const std::vector<int64_t> oc = ref::all_coords(out_sp), kc = ref::all_coords(w.kernel);
  const std::vector<int64_t> in_strides = ref::strides_of(in_sp);
  Tensor& dx = ctx.output(0, x.dims());
  dispatch_f32_f64(ctx, dy.dtype(), [&]<typename T>() {
    const T* g = dy.data<T>();
    std::vector<double> acc(static_cast<size_t>(x.numel()), 0.0);
    std::vector<int64_t> inside_taps;
    for (int64_t o = 0; o < out_plane; ++o) {
      inside_taps.clear();
      int64_t padded = 0;
      for (int64_t t = 0; t < taps; ++t) {
        bool inside = true, in_padded = true;
        int64_t f = 0;
        for (size_t d = 0; d < r; ++d) {
          const int64_t p = oc[static_cast<size_t>(o) * r + d] * w.strides[d] - axes[d].pad_begin +
                            kc[static_cast<size_t>(t) * r + d] * w.dilations[d];
          if (p < 0 || p >= in_sp[d]) inside = false;
          if (p >= in_sp[d] + axes[d].pad_end) in_padded = false;
          f += p * in_strides[d];
        }
        if (inside) inside_taps.push_back(f);
        if (in_padded) ++padded;
      }
      const int64_t count = include_pad ? padded : static_cast<int64_t>(inside_taps.size());
      if (count == 0) continue;
      for (int64_t pl = 0; pl < planes; ++pl) {
        const double share = static_cast<double>(g[pl * out_plane + o]) / static_cast<double>(count);
        for (int64_t f : inside_taps) acc[static_cast<size_t>(pl * in_plane + f)] += share;
      }
    }
    T* out = dx.data<T>();
    for (size_t i = 0; i < acc.size(); ++i) out[i] = static_cast<T>(acc[i]);
  });
}

// dScores[n, c, d] = dL * w[label] * (softmax[n, c, d] - [c == label]) / norm, where norm is the
// summed weight for "mean" and 1 otherwise ("none" takes dL per element). Ignored labels get 0.
void ref_KilnSoftmaxCrossEntropyGrad(KernelContext& ctx) {
  const Tensor& dl = ctx.input(0);
  const Tensor& s = ctx.input(1);
  const Tensor& labels = ctx.input(2);
  const Tensor* weights = ctx.has_input(3) ? &ctx.input(3) : nullptr;
  ctx.check(s.rank() >= 2, "Scores must have rank >= 2, got ", s.describe());
  const int64_t N = s.dim(0), C = s.dim(1);
  int64_t D = 1;
  for (int64_t i = 2; i < s.rank(); ++i) D *= s.dim(i);
  ctx.check(labels.numel() == N * D, "labels ", labels.describe(), " do not match Scores ",
            s.describe());
  if (weights) {
    ctx.check(weights->rank() == 1 && weights->dim(0) == C, "weights ", weights->describe(),
              " do not match ", C, " classes");
  }
  std::optional<int64_t> ignore;
  if (ctx.attr().has("ignore_index")) ignore = ctx.attr().get_int("ignore_index");
  const std::string reduction = ctx.attr().get_string("reduction", "mean");
  const bool per_element = reduction == "none";
  ctx.check(per_element ? dl.numel() == N * D : dl.numel() == 1, "dLoss ", dl.describe(),
            " does not fit reduction '", reduction, "'");
  const std::vector<int64_t> t = labels.to_int64_vector();
  Tensor& ds = ctx.output(0, s.dims());
  dispatch_f32_f64(ctx, s.dtype(), [&]<typename T>() {
    const T* x = s.data<T>();
    const T* pdl = dl.data<T>();
    auto weight = [&](int64_t label) {
      return weights ? static_cast<double>(weights->data<T>()[label]) : 1.0;
    };
    double norm = 1.0;
    if (reduction == "mean") {
      norm = 0.0;
      for (int64_t l : t)
        if (!(ignore && l == *ignore) && l >= 0 && l < C) norm += weight(l);
    }
    T* out = ds.data<T>();
    std::vector<double> p(static_cast<size_t>(C));
    for (int64_t n = 0; n < N; ++n) {
      for (int64_t d = 0; d < D; ++d) {
        auto at = [&](int64_t c) { return (n * C + c) * D + d; };
        const int64_t e = n * D + d;
        const int64_t label = t[static_cast<size_t>(e)];
        if (ignore && label == *ignore) {
          for (int64_t c = 0; c < C; ++c) out[at(c)] = T(0);
          continue;
        }
        ctx.check(label >= 0 && label < C, "label ", label, " at element ", e,
                  " is out of range for ", C, " classes");
        double m = static_cast<double>(x[at(0)]);
        for (int64_t c = 1; c < C; ++c) m = std::max(m, static_cast<double>(x[at(c)]));
        double sum = 0;
        for (int64_t c = 0; c < C; ++c) {
          p[static_cast<size_t>(c)] = std::exp(static_cast<double>(x[at(c)]) - m);
          sum += p[static_cast<size_t>(c)];
        }
        const double scale =
            static_cast<double>(pdl[per_element ? e : 0]) * weight(label) / norm;
        for (int64_t c = 0; c < C; ++c) {
          const double grad = p[static_cast<size_t>(c)] / sum - (c == label ? 1.0 : 0.0);
          out[at(c)] = static_cast<T>(scale * grad);
        }
      }
    }
  });
}

// dX = dY where Y > 0, else 0 (the subgradient at 0 is 0, as in PyTorch).
void ref_KilnReluGrad(KernelContext& ctx) {
  const Tensor& dy = ctx.input(0);
  const Tensor& y = ctx.input(1);
  ctx.check(dy.dims() == y.dims() && dy.dtype() == y.dtype(), "dY ", dy.describe(), " and Y ",
            y.describe(), " must have the same shape and dtype");
  Tensor& dx = ctx.output(0, dy.dims());
  dispatch_f32_f64(ctx, dy.dtype(), [&]<typename T>() {
    const T* g = dy.data<T>();
    const T* v = y.data<T>();
    T* out = dx.data<T>();
    for (int64_t i = 0; i < dy.numel(); ++i) out[i] = v[i] > T(0) ? g[i] : T(0);
  });
}

// dX = 0; for every dY element at (outer, i, inner): dX[outer, Indices[i], inner] += dY.
void ref_KilnGatherGrad(KernelContext& ctx) {
  const Tensor& dy = ctx.input(0);
  const Tensor& x = ctx.input(1);
  const Tensor& ind = ctx.input(2);
  int64_t axis = ctx.attr().get_int("axis", 0);
  if (axis < 0) axis += x.rank();
  ctx.check(axis >= 0 && axis < x.rank(), "axis is out of range for X ", x.describe());
  int64_t outer = 1, inner = 1;
  for (int64_t i = 0; i < axis; ++i) outer *= x.dim(i);
  for (int64_t i = axis + 1; i < x.rank(); ++i) inner *= x.dim(i);
  const int64_t size = x.dim(axis);
  const std::vector<int64_t> idx = ind.to_int64_vector();
  const int64_t k = static_cast<int64_t>(idx.size());
  ctx.check(dy.numel() == outer * k * inner, "dY ", dy.describe(), " does not match Gather of X ",
            x.describe(), " with indices ", ind.describe());
  Tensor& dx = ctx.output(0, x.dims());
  dispatch_f32_f64(ctx, dy.dtype(), [&]<typename T>() {
    const T* g = dy.data<T>();
    std::vector<double> acc(static_cast<size_t>(x.numel()), 0.0);
    for (int64_t o = 0; o < outer; ++o) {
      for (int64_t j = 0; j < k; ++j) {
        int64_t i = idx[static_cast<size_t>(j)];
        if (i < 0) i += size;
        ctx.check(i >= 0 && i < size, "index ", idx[static_cast<size_t>(j)],
                  " is out of range for axis ", axis, " of size ", size);
        for (int64_t in = 0; in < inner; ++in) {
          acc[static_cast<size_t>((o * size + i) * inner + in)] +=
              static_cast<double>(g[(o * k + j) * inner + in]);
        }
      }
    }
    T* out = dx.data<T>();
    for (size_t i = 0; i < acc.size(); ++i) out[i] = static_cast<T>(acc[i]);
  });
}

}  // namespace kiln
