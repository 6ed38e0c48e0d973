// Pooling reference kernels: MaxPool (with Indices), AveragePool, LpPool over 1-D/2-D/3-D (any
// rank) windows, and GlobalAveragePool / GlobalMaxPool / GlobalLpPool.
// Window geometry (output sizes, resolved pads, ceil_mode) comes from ir/infer/window.h.
#include <cmath>
#include <limits>

#include "ir/infer/window.h"
#include "runtime/kernels/ref/kernel.h"
#include "runtime/kernels/ref/normalization_util.h"

namespace kiln {

namespace {

// One output position's window within an (n, c) plane.
struct PoolWindow {
  std::vector<int64_t> taps;  // row-major spatial offsets of the in-bounds input elements
  int64_t padded_count = 0;   // taps inside [-pad_begin, in + pad_end): count_include_pad's divisor
};

struct PoolPlan {
  int64_t planes = 0;  // N * C
  Dims in_spatial, out_spatial;
  int64_t in_plane = 0, out_plane = 0;
  Window window;
  std::vector<WindowAxis> axes;
  std::vector<int64_t> in_strides;
  int64_t taps_per_window = 0;
};

PoolPlan make_plan(const KernelContext& ctx, const Tensor& x) {
  const Dims& dims = x.dims();
  ctx.check(dims.size() >= 3, "input must have rank >= 3, got ", dims_to_string(dims));
  PoolPlan p;
  p.window = read_window(ctx.attr(), ctx.attr().get_ints("kernel_shape"), ctx.where());
  p.planes = ref::dims_product(dims, 0, 2);
  p.in_spatial.assign(dims.begin() + 2, dims.end());
  p.axes = window_axes(p.window, p.in_spatial, ctx.where());
  for (const WindowAxis& a : p.axes) p.out_spatial.push_back(a.out);
  p.in_plane = checked_numel(p.in_spatial);
  p.out_plane = checked_numel(p.out_spatial);
  p.in_strides = ref::strides_of(p.in_spatial);
  p.taps_per_window = checked_numel(p.window.kernel);
  // Hostile kernel/pad attributes can pass the geometry checks yet ask for ~2^90 steps.
  constexpr int64_t kMaxSteps = int64_t{1} << 32;
  ctx.check(p.out_plane == 0 || p.taps_per_window <= kMaxSteps / p.out_plane, "window of ",
            p.taps_per_window, " taps over ", p.out_plane,
            " outputs is too large for the reference kernel");
  return p;
}

// Fills `win` for output position `o` (row-major over the output's spatial dims). Position
// o_i along axis i reads input o_i*stride - pad_begin + k*dilation, k in [0, kernel).
void window_at(const PoolPlan& p, int64_t o, PoolWindow& win) {
  const Window& w = p.window;
  const size_t r = w.rank();
  std::vector<int64_t> pos0(r);  // input position of tap 0
  for (size_t i = r; i-- > 0;) {
    pos0[i] = (o % p.out_spatial[i]) * w.strides[i] - p.axes[i].pad_begin;
    o /= p.out_spatial[i];
  }
  win.taps.clear();
  win.padded_count = 0;
  std::vector<int64_t> k(r, 0);  // kernel tap, row-major
  for (int64_t t = 0; t < p.taps_per_window; ++t) {
    bool inside = true, in_padded = true;
    int64_t offset = 0;
    for (size_t i = 0; i < r; ++i) {
      const int64_t pos = pos0[i] + k[i] * w.dilations[i];
      if (pos < 0 || pos >= p.in_spatial[i]) inside = false;
      if (pos >= p.in_spatial[i] + p.axes[i].pad_end) in_padded = false;
      offset += pos * p.in_strides[i];
    }
    if (inside) win.taps.push_back(offset);
    if (in_padded) ++win.padded_count;
    for (size_t i = r; i-- > 0;) {  // next tap
      if (++k[i] < w.kernel[i]) break;
      k[i] = 0;
    }
  }
}

// Row-major spatial offset -> column-major (first spatial axis fastest), for storage_order=1.
int64_t column_major(int64_t offset, const Dims& spatial) {
  int64_t result = 0, scale = 1;
  std::vector<int64_t> idx(spatial.size());
  for (size_t i = spatial.size(); i-- > 0;) {
    idx[i] = offset % spatial[i];
    offset /= spatial[i];
  }
  for (size_t i = 0; i < spatial.size(); ++i) {
    result += idx[i] * scale;
    scale *= spatial[i];
  }
  return result;
}

// The first maximum wins; a window with no in-bounds element gives the type's lowest value
// and index -1. Indices are flat offsets into X: (n*C + c) * plane + spatial offset.
template <typename T>
void max_pool(KernelContext& ctx, const PoolPlan& p) {
  using C = ref::compute_t<T>;
  const T* x = ctx.input(0).data<T>();
  T* y = ctx.output(0).data<T>();
  const bool want_idx = ctx.wants_output(1);
  int64_t* ind = want_idx ? ctx.output(1).data<int64_t>() : nullptr;
  const bool col_major = ctx.attr().get_int("storage_order", 0) == 1;
  PoolWindow win;
  for (int64_t o = 0; o < p.out_plane; ++o) {
    window_at(p, o, win);
    for (int64_t plane = 0; plane < p.planes; ++plane) {
      const T* xp = x + plane * p.in_plane;
      C best = std::numeric_limits<C>::lowest();
      int64_t arg = -1;
      for (int64_t t : win.taps) {
        const C v = static_cast<C>(xp[t]);
        if (arg < 0 || v > best) {
          best = v;
          arg = t;
        }
      }
      const int64_t out = plane * p.out_plane + o;
      y[out] = T(best);
      if (ind) {
        ind[out] = arg < 0 ? -1
                           : plane * p.in_plane + (col_major ? column_major(arg, p.in_spatial) : arg);
      }
    }
  }
}

enum class PoolKind { Average, Lp };

// AveragePool: mean of the in-bounds taps (count_include_pad: divided by the taps inside the
// padded input instead). LpPool: (sum |x|^p)^(1/p) over the in-bounds taps.
template <typename Acc>
void average_or_lp_pool(KernelContext& ctx, const PoolPlan& p, PoolKind kind, double power) {
  const std::vector<Acc> x = ref::load_as<Acc>(ctx.input(0));
  std::vector<Acc> y(static_cast<size_t>(p.planes * p.out_plane));
  const bool include_pad = ctx.attr().get_int("count_include_pad", 0) == 1;
  const Acc pw = static_cast<Acc>(power);
  PoolWindow win;
  for (int64_t o = 0; o < p.out_plane; ++o) {
    window_at(p, o, win);
    for (int64_t plane = 0; plane < p.planes; ++plane) {
      const Acc* xp = x.data() + plane * p.in_plane;
      Acc sum = 0;
      Acc result;
      if (kind == PoolKind::Average) {
        for (int64_t t : win.taps) sum += xp[t];
        const int64_t n = include_pad ? win.padded_count : static_cast<int64_t>(win.taps.size());
        result = n == 0 ? Acc(0) : sum / static_cast<Acc>(n);
      } else {
        for (int64_t t : win.taps) sum += std::pow(std::fabs(xp[t]), pw);
        result = std::pow(sum, Acc(1) / pw);
      }
      y[static_cast<size_t>(plane * p.out_plane + o)] = result;
    }
  }
  ref::store_from(ctx.output(0), y);
}

// LpPool/GlobalLpPool's p: float at opset 1, int since opset 2; default 2.
double read_p(const KernelContext& ctx) {
  const Attribute* a = ctx.attr().find("p");
  if (!a) return 2.0;
  return a->kind == Attribute::Kind::Float ? static_cast<double>(a->f)
                                           : static_cast<double>(ctx.attr().get_int("p"));
}

enum class GlobalKind { Average, Max, Lp };

// Reduces every (n, c) plane to one value.
template <typename Acc>
void global_pool(KernelContext& ctx, GlobalKind kind) {
  const Tensor& xt = ctx.input(0);
  const Dims& dims = xt.dims();
  ctx.check(dims.size() >= 2, "input must have rank >= 2, got ", dims_to_string(dims));
  const int64_t planes = ref::dims_product(dims, 0, 2);
  const int64_t plane = ref::dims_product(dims, 2, dims.size());
  const Acc pw = static_cast<Acc>(kind == GlobalKind::Lp ? read_p(ctx) : 1.0);
  const std::vector<Acc> x = ref::load_as<Acc>(xt);
  std::vector<Acc> y(static_cast<size_t>(planes));
  for (int64_t pl = 0; pl < planes; ++pl) {
    const Acc* xp = x.data() + pl * plane;
    Acc r = kind == GlobalKind::Max ? -std::numeric_limits<Acc>::infinity() : Acc(0);
    for (int64_t i = 0; i < plane; ++i) {
      if (kind == GlobalKind::Max) {
        if (i == 0 || xp[i] > r) r = xp[i];
      } else if (kind == GlobalKind::Average) {
        r += xp[i];
      } else {
        r += std::pow(std::fabs(xp[i]), pw);
      }
    }
    if (kind == GlobalKind::Average) r = plane == 0 ? Acc(0) : r / static_cast<Acc>(plane);
    if (kind == GlobalKind::Lp) r = std::pow(r, Acc(1) / pw);
    y[static_cast<size_t>(pl)] = r;
  }
  ref::store_from(ctx.output(0), y);
}

template <typename Fn>
void with_acc(DType t, Fn&& fn) {
  if (t == DType::F64) {
    fn.template operator()<double>();
  } else {
    fn.template operator()<float>();
  }
}

}  // namespace

void ref_MaxPool(KernelContext& ctx) {
  const Tensor& x = ctx.input(0);
  const PoolPlan p = make_plan(ctx, x);
  dispatch_dtype(x.dtype(), "MaxPool", [&]<typename T>() {
    if constexpr (std::is_same_v<T, bool>) {
      ctx.fail("MaxPool does not take bool input");
    } else {
      max_pool<T>(ctx, p);
    }
  });
}

void ref_AveragePool(KernelContext& ctx) {
  const PoolPlan p = make_plan(ctx, ctx.input(0));
  with_acc(ctx.input(0).dtype(),
           [&]<typename Acc>() { average_or_lp_pool<Acc>(ctx, p, PoolKind::Average, 1.0); });
}

void ref_LpPool(KernelContext& ctx) {
  const PoolPlan p = make_plan(ctx, ctx.input(0));
  const double power = read_p(ctx);
  with_acc(ctx.input(0).dtype(),
           [&]<typename Acc>() { average_or_lp_pool<Acc>(ctx, p, PoolKind::Lp, power); });
}

void ref_GlobalAveragePool(KernelContext& ctx) {
  with_acc(ctx.input(0).dtype(), [&]<typename Acc>() { global_pool<Acc>(ctx, GlobalKind::Average); });
}

void ref_GlobalMaxPool(KernelContext& ctx) {
  with_acc(ctx.input(0).dtype(), [&]<typename Acc>() { global_pool<Acc>(ctx, GlobalKind::Max); });
}

void ref_GlobalLpPool(KernelContext& ctx) {
  with_acc(ctx.input(0).dtype(), [&]<typename Acc>() { global_pool<Acc>(ctx, GlobalKind::Lp); });
}

}  // namespace kiln
