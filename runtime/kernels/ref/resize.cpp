// Reference Resize and Upsample. Interpolation is separable, so the input is resized one axis
// at a time in double precision: each output position along an axis is a weighted sum of a
// few input positions ("taps"), computed once per axis.
#include <cmath>
#include <limits>

#include "ir/infer/resize_plan.h"
#include "runtime/kernels/ref/kernel.h"
#include "runtime/kernels/ref/ref_util.h"

namespace kiln {
namespace {

using resize::Options;

struct Taps {
  std::vector<int64_t> idx;
  std::vector<double> w;
  bool extrapolate = false;  // tf_crop_and_resize sampled outside the input
};

// Where output position y of an axis samples the input (the coordinate_transformation_mode).
double source_coord(const Options& o, int64_t y, int64_t in, int64_t out, double scale,
                    double roi_start, double roi_end, bool* outside) {
  const double yf = static_cast<double>(y), inf = static_cast<double>(in);
  const double out_f = scale * inf;  // the possibly fractional output length
  const std::string& m = o.ctm;
  if (m == "half_pixel") return (yf + 0.5) / scale - 0.5;
  if (m == "half_pixel_symmetric") {
    const double adjustment = static_cast<double>(out) / out_f;
    const double offset = inf / 2 * (1 - adjustment);
    return offset + (yf + 0.5) / scale - 0.5;
  }
  if (m == "pytorch_half_pixel") return out > 1 ? (yf + 0.5) / scale - 0.5 : 0.0;
  if (m == "align_corners") return out_f == 1 ? 0.0 : yf * (inf - 1) / (out_f - 1);
  if (m == "asymmetric") return yf / scale;
  if (m == "tf_half_pixel_for_nn") return (yf + 0.5) / scale;
  // tf_crop_and_resize
  double x = out_f == 1 ? (roi_end - roi_start) * (inf - 1) / 2
                        : yf * (roi_end - roi_start) * (inf - 1) / (out_f - 1);
  x += roi_start * (inf - 1);
  *outside = !(x >= 0 && x <= inf - 1);  // NaN (from a NaN roi) counts as outside
  return x;
}

int64_t nearest_index(const Options& o, double x, double scale) {
  const double fl = std::floor(x);
  if (o.nearest_mode == "legacy") return static_cast<int64_t>(scale >= 1 ? fl : std::ceil(x));
  if (x == fl) return static_cast<int64_t>(x);
  const double r = x - fl;
  bool up = false;
  if (o.nearest_mode == "round_prefer_floor") up = r > 0.5;
  else if (o.nearest_mode == "round_prefer_ceil") up = r >= 0.5;
  else if (o.nearest_mode == "ceil") up = true;
  return static_cast<int64_t>(fl) + (up ? 1 : 0);
}

// Keys cubic convolution kernel with parameter a, and the triangle (linear) kernel.
double cubic_kernel(double x, double a) {
  x = std::fabs(x);
  if (x <= 1) return ((a + 2) * x - (a + 3)) * x * x + 1;
  if (x < 2) return ((a * x - 5 * a) * x + 8 * a) * x - 4 * a;
  return 0.0;
}
double linear_kernel(double x) { return std::max(0.0, 1 - std::fabs(x)); }

std::vector<Taps> axis_taps(const Options& o, int64_t in, int64_t out, double scale,
                            double roi_start, double roi_end) {
  std::vector<Taps> taps(static_cast<size_t>(out));
  const bool cubic = o.mode == "cubic";
  const double support = cubic ? 2.0 : 1.0;
  // Antialiasing stretches the kernel by 1/scale when shrinking.
  const double s = o.antialias ? std::min(scale, 1.0) : 1.0;
  const int64_t n = o.antialias ? 2 - 2 * static_cast<int64_t>(std::floor(-support / s) + 1)
                                : static_cast<int64_t>(2 * support);
  for (int64_t y = 0; y < out; ++y) {
    Taps& t = taps[static_cast<size_t>(y)];
    double x = source_coord(o, y, in, out, scale, roi_start, roi_end, &t.extrapolate);
    if (t.extrapolate) continue;
    if (!std::isfinite(x)) x = 0;  // never index with a non-finite coordinate
    if (o.mode == "nearest") {
      t.idx.push_back(std::clamp<int64_t>(nearest_index(o, x, scale), 0, in - 1));
      t.w.push_back(1.0);
      continue;
    }
    // n taps centred on x; at an exact integer x the window leans left (the spec's tie rule).
    const double fl = std::floor(x);
    const int64_t first = static_cast<int64_t>(fl) - n / 2 + (x == fl ? 0 : 1);
    double sum = 0;
    for (int64_t k = 0; k < n; ++k) {
      const int64_t i = first + k;
      const double d = (static_cast<double>(i) - x) * s;
      double w = cubic ? cubic_kernel(d, o.cubic_a) : linear_kernel(d);
      if (o.exclude_outside && (i < 0 || i >= in)) w = 0;
      t.idx.push_back(std::clamp<int64_t>(i, 0, in - 1));
      t.w.push_back(w);
      sum += w;
    }
    if (o.antialias || o.exclude_outside) {
      if (sum == 0) sum = 1;
      for (double& w : t.w) w /= sum;
    }
  }
  return taps;
}

// Resizes dim `axis` of `src` (dims `dims`) to `out`, returning the new buffer.
std::vector<double> resize_axis(const std::vector<double>& src, Dims& dims, size_t axis,
                                const std::vector<Taps>& taps, double extrapolation) {
  int64_t outer = 1, inner = 1;
  for (size_t d = 0; d < axis; ++d) outer *= dims[d];
  for (size_t d = axis + 1; d < dims.size(); ++d) inner *= dims[d];
  const int64_t in_len = dims[axis], out_len = static_cast<int64_t>(taps.size());
  std::vector<double> dst(static_cast<size_t>(outer * out_len * inner), 0.0);
  for (int64_t o = 0; o < outer; ++o) {
    for (int64_t j = 0; j < out_len; ++j) {
      const Taps& t = taps[static_cast<size_t>(j)];
      double* d = &dst[static_cast<size_t>((o * out_len + j) * inner)];
      if (t.extrapolate) {
        for (int64_t k = 0; k < inner; ++k) d[k] = extrapolation;
        continue;
      }
      for (size_t q = 0; q < t.idx.size(); ++q) {
        const double* s = &src[static_cast<size_t>((o * in_len + t.idx[q]) * inner)];
        for (int64_t k = 0; k < inner; ++k) d[k] += t.w[q] * s[k];
      }
    }
  }
  dims[axis] = out_len;
  return dst;
}

// Interpolated value to element type: floats round, integers round half-even and saturate.
template <typename T>
T to_element(double v) {
  if constexpr (std::is_same_v<T, bool>) {
    return !std::isnan(v) && std::nearbyint(v) != 0;
  } else if constexpr (std::is_integral_v<T>) {
    if (std::isnan(v)) return T(0);
    const double r = std::nearbyint(v);
    if (r <= static_cast<double>(std::numeric_limits<T>::lowest())) return std::numeric_limits<T>::lowest();
    if (r >= static_cast<double>(std::numeric_limits<T>::max())) return std::numeric_limits<T>::max();
    return static_cast<T>(r);
  } else {
    return T(static_cast<ref::compute_t<T>>(v));
  }
}

bool given(const KernelContext& ctx, int slot) {
  return slot >= 0 && ctx.has_input(static_cast<size_t>(slot)) &&
         ctx.input(static_cast<size_t>(slot)).numel() > 0;
}

std::vector<double> doubles(const Tensor& t) {
  std::vector<double> v(static_cast<size_t>(t.numel()));
  for (int64_t i = 0; i < t.numel(); ++i) v[static_cast<size_t>(i)] = t.as_double(i);
  return v;
}

bool near_one(double s) { return std::fabs(s - 1.0) <= 1e-9; }

void resample(KernelContext& ctx, bool upsample) {
  const Options o = resize::parse_options(ctx.attr(), upsample, ctx.opset, ctx.where());
  const resize::Slots slots = resize::input_slots(upsample, ctx.opset);
  const Tensor& x = ctx.input(0);
  std::optional<std::vector<double>> scales, roi;
  std::optional<std::vector<int64_t>> sizes;
  if (upsample && ctx.opset < 9) {
    std::vector<double> v;
    for (float f : ctx.attr().get_floats("scales")) v.push_back(f);
    scales = std::move(v);
  }
  if (given(ctx, slots.scales)) scales = doubles(ctx.input(static_cast<size_t>(slots.scales)));
  if (given(ctx, slots.sizes)) sizes = ctx.input(static_cast<size_t>(slots.sizes)).to_int64_vector();
  if (given(ctx, slots.roi)) roi = doubles(ctx.input(static_cast<size_t>(slots.roi)));
  ctx.check(!(scales && sizes), "only one of scales and sizes may be given");
  const bool crop = o.ctm == "tf_crop_and_resize";
  ctx.check(!crop || roi, "coordinate_transformation_mode tf_crop_and_resize needs the roi input");
  const std::vector<int64_t> axes = resize::normalize_axes(o.axes, x.rank(), ctx.where());
  const resize::Plan p = resize::make_plan(x.dims(), axes, scales ? &*scales : nullptr,
                                           sizes ? &*sizes : nullptr, crop ? &*roi : nullptr,
                                           o.policy, ctx.where());
  Tensor& y = ctx.output(0, p.out);

  dispatch_dtype(x.dtype(), "Resize", [&]<typename T>() {
    std::vector<double> buf(static_cast<size_t>(x.numel()));
    const T* xs = x.data<T>();
    for (size_t i = 0; i < buf.size(); ++i) {
      buf[i] = static_cast<double>(static_cast<ref::compute_t<T>>(xs[i]));
    }
    Dims dims = x.dims();
    for (int64_t a : axes) {
      const size_t d = static_cast<size_t>(a);
      const bool identity = near_one(p.scale[d]) && p.out[d] == dims[d] &&
                            (!crop || (p.roi_start[d] == 0 && p.roi_end[d] == 1));
      if (identity) continue;
      const std::vector<Taps> taps =
          axis_taps(o, dims[d], p.out[d], p.scale[d], p.roi_start[d], p.roi_end[d]);
      buf = resize_axis(buf, dims, d, taps, o.extrapolation);
    }
    T* ys = y.data<T>();
    for (size_t i = 0; i < buf.size(); ++i) ys[i] = to_element<T>(buf[i]);
  });
}

}  // namespace

void ref_Resize(KernelContext& ctx) { resample(ctx, false); }
void ref_Upsample(KernelContext& ctx) { resample(ctx, true); }

}  // namespace kiln
