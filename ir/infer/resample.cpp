// Shape inference for Resize and Upsample, plus the shared output-size rule (resize_plan.h).
#include <algorithm>
#include <cmath>

#include "ir/infer/resize_plan.h"
#include "ir/infer_util.h"

namespace kiln {
namespace resize {

namespace {
bool one_of(const std::string& v, std::initializer_list<const char*> allowed) {
  for (const char* a : allowed) {
    if (v == a) return true;
  }
  return false;
}
}  // namespace

Options parse_options(const Attributes& a, bool upsample, int opset, const std::string& where) {
  Options o;
  o.mode = a.get_string("mode", "nearest");
  if (upsample && o.mode == "bilinear") o.mode = "linear";  // Upsample-1 spelling
  const bool legacy = upsample || opset < 11;
  if (legacy) {
    // Resize-10 and Upsample: asymmetric coordinates; nearest picks floor when enlarging.
    if (!one_of(o.mode, {"nearest", "linear"})) {
      fail(where, "mode '", o.mode, "' is not one of nearest, linear");
    }
    o.ctm = "asymmetric";
    o.nearest_mode = "legacy";
    return o;
  }
  if (!one_of(o.mode, {"nearest", "linear", "cubic"})) {
    fail(where, "mode '", o.mode, "' is not one of nearest, linear, cubic");
  }
  o.ctm = a.get_string("coordinate_transformation_mode", "half_pixel");
  if (!one_of(o.ctm, {"half_pixel", "half_pixel_symmetric", "pytorch_half_pixel", "align_corners",
                      "asymmetric", "tf_half_pixel_for_nn", "tf_crop_and_resize"})) {
    fail(where, "coordinate_transformation_mode '", o.ctm, "' is not supported by the spec");
  }
  o.nearest_mode = a.get_string("nearest_mode", "round_prefer_floor");
  if (!one_of(o.nearest_mode, {"round_prefer_floor", "round_prefer_ceil", "floor", "ceil"})) {
    fail(where, "nearest_mode '", o.nearest_mode, "' is not one of round_prefer_floor, ",
         "round_prefer_ceil, floor, ceil");
  }
  o.cubic_a = a.get_float("cubic_coeff_a", -0.75f);
  const int64_t excl = a.get_int("exclude_outside", 0);
  if (excl != 0 && excl != 1) fail(where, "exclude_outside must be 0 or 1, got ", excl);
  o.exclude_outside = excl == 1;
  o.extrapolation = a.get_float("extrapolation_value", 0.0f);
  if (opset >= 18) {
    const int64_t aa = a.get_int("antialias", 0);
    if (aa != 0 && aa != 1) fail(where, "antialias must be 0 or 1, got ", aa);
    o.antialias = aa == 1;
    o.axes = a.get_ints("axes");
    o.policy = a.get_string("keep_aspect_ratio_policy", "stretch");
    if (!one_of(o.policy, {"stretch", "not_larger", "not_smaller"})) {
      fail(where, "keep_aspect_ratio_policy '", o.policy,
           "' is not one of stretch, not_larger, not_smaller");
    }
  }
  return o;
}

Slots input_slots(bool upsample, int opset) {
  Slots s;
  if (upsample) {
    if (opset >= 9) s.scales = 1;
  } else if (opset < 11) {
    s.scales = 1;
  } else {
    s.roi = 1;
    s.scales = 2;
    s.sizes = 3;
  }
  return s;
}

std::vector<int64_t> normalize_axes(const std::vector<int64_t>& axes, int64_t rank,
                                    const std::string& where) {
  std::vector<int64_t> out;
  if (axes.empty()) {
    for (int64_t i = 0; i < rank; ++i) out.push_back(i);
    return out;
  }
  std::vector<bool> seen(static_cast<size_t>(rank), false);
  for (int64_t a : axes) {
    if (a < -rank || a >= rank) fail(where, "axis ", a, " is out of range for rank ", rank);
    const int64_t n = a < 0 ? a + rank : a;
    if (seen[static_cast<size_t>(n)]) fail(where, "axis ", a, " is repeated in axes");
    seen[static_cast<size_t>(n)] = true;
    out.push_back(n);
  }
  return out;
}

Plan make_plan(const Dims& in, const std::vector<int64_t>& axes,
               const std::vector<double>* scales, const std::vector<int64_t>* sizes,
               const std::vector<double>* roi, const std::string& policy,
               const std::string& where) {
  const size_t r = in.size(), n = axes.size();
  Plan p;
  p.out = in;
  p.scale.assign(r, 1.0);
  p.roi_start.assign(r, 0.0);
  p.roi_end.assign(r, 1.0);
  constexpr double kMaxDim = 1e12;  // refuse absurd outputs before they overflow int64
  if (scales) {
    if (scales->size() != n) {
      fail(where, "scales has ", scales->size(), " values, expected ", n);
    }
    for (size_t i = 0; i < n; ++i) {
      const double s = (*scales)[i];
      if (!(s > 0) || !std::isfinite(s)) fail(where, "scale ", s, " must be positive and finite");
      const size_t d = static_cast<size_t>(axes[i]);
      p.scale[d] = s;
      if (in[d] >= 0) {
        const double o = std::floor(static_cast<double>(in[d]) * s);
        if (o > kMaxDim) fail(where, "scale ", s, " gives an output dim that is too large");
        p.out[d] = static_cast<int64_t>(o);
      }
    }
  } else if (sizes) {
    if (sizes->size() != n) fail(where, "sizes has ", sizes->size(), " values, expected ", n);
    for (size_t i = 0; i < n; ++i) {
      const int64_t s = (*sizes)[i];
      const size_t d = static_cast<size_t>(axes[i]);
      if (s < 0) fail(where, "sizes value ", s, " is negative");
      if (in[d] == 0 && s != 0) fail(where, "cannot resize an empty dim ", d, " to size ", s);
    }
    if (policy == "stretch") {
      for (size_t i = 0; i < n; ++i) {
        const size_t d = static_cast<size_t>(axes[i]);
        p.out[d] = (*sizes)[i];
        if (in[d] > 0) p.scale[d] = static_cast<double>((*sizes)[i]) / static_cast<double>(in[d]);
      }
    } else {
      bool known = true;
      double s = policy == "not_larger" ? INFINITY : 0.0;
      for (size_t i = 0; i < n; ++i) {
        const size_t d = static_cast<size_t>(axes[i]);
        if (in[d] <= 0) {
          known = known && in[d] == 0;
          continue;
        }
        const double q = static_cast<double>((*sizes)[i]) / static_cast<double>(in[d]);
        s = policy == "not_larger" ? std::min(s, q) : std::max(s, q);
      }
      for (size_t i = 0; i < n; ++i) {
        const size_t d = static_cast<size_t>(axes[i]);
        if (!known) {
          p.out[d] = -1;
        } else if (in[d] > 0) {
          const double o = std::floor(s * static_cast<double>(in[d]) + 0.5);
          if (o > kMaxDim) fail(where, "sizes give an output dim that is too large");
          p.out[d] = static_cast<int64_t>(o);
          p.scale[d] = s;
        }
      }
    }
  } else {
    fail(where, "one of scales and sizes must be given");
  }
  if (roi) {
    if (roi->size() != 2 * n) fail(where, "roi has ", roi->size(), " values, expected ", 2 * n);
    for (size_t i = 0; i < n; ++i) {
      const size_t d = static_cast<size_t>(axes[i]);
      p.roi_start[d] = (*roi)[i];
      p.roi_end[d] = (*roi)[n + i];
    }
  }
  return p;
}

}  // namespace resize

namespace {

// An optional input counts as given unless it is absent or statically empty (ONNX uses an
// empty tensor as "not given" for scales/roi in Resize-11).
bool given(const InferContext& ctx, int slot) {
  if (slot < 0 || !ctx.has_input(static_cast<size_t>(slot))) return false;
  const auto n = static_numel(ctx.shape(static_cast<size_t>(slot)));
  return !(n && *n == 0);
}

std::optional<int64_t> vector_len(const InferContext& ctx, int slot) {
  const Shape& s = ctx.shape(static_cast<size_t>(slot));
  if (!s.rank_known || s.rank() != 1 || !s.dims[0].is_static()) return std::nullopt;
  return s.dims[0].value;
}

void infer_resample(InferContext& ctx, bool upsample) {
  const DType t = ctx.dtype(0);
  if (t == DType::String) ctx.fail("input X has unsupported dtype ", dtype_name(t));
  ctx.output(0).dtype = t;
  const resize::Options opts = resize::parse_options(ctx.attr(), upsample, ctx.opset, ctx.where());
  const resize::Slots slots = resize::input_slots(upsample, ctx.opset);

  std::optional<std::vector<double>> scales;
  std::optional<std::vector<int64_t>> sizes;
  bool has_scales = false, has_sizes = false;
  std::optional<int64_t> count;  // number of scales/sizes when the shape tells it
  if (upsample && ctx.opset < 9) {
    if (!ctx.attr().has("scales")) ctx.fail("attribute 'scales' is required before opset 9");
    std::vector<double> v;
    for (float f : ctx.attr().get_floats("scales")) v.push_back(f);
    count = static_cast<int64_t>(v.size());
    scales = std::move(v);
    has_scales = true;
  }
  if (given(ctx, slots.scales)) {
    has_scales = true;
    const size_t i = static_cast<size_t>(slots.scales);
    if (!is_float(ctx.dtype(i))) ctx.fail("scales must be a float tensor, got ", dtype_name(ctx.dtype(i)));
    count = vector_len(ctx, slots.scales);
    if (const Tensor* v = ctx.value(i)) {
      std::vector<double> s(static_cast<size_t>(v->numel()));
      for (int64_t k = 0; k < v->numel(); ++k) s[static_cast<size_t>(k)] = v->as_double(k);
      scales = std::move(s);
    }
  }
  if (given(ctx, slots.sizes)) {
    has_sizes = true;
    const size_t i = static_cast<size_t>(slots.sizes);
    if (ctx.dtype(i) != DType::I64) ctx.fail("sizes must be int64, got ", dtype_name(ctx.dtype(i)));
    count = vector_len(ctx, slots.sizes);
    sizes = const_ints(ctx, i);
  }
  if (has_scales && has_sizes) ctx.fail("only one of scales and sizes may be given");
  if (!has_scales && !has_sizes) ctx.fail("one of scales and sizes must be given");
  if (given(ctx, slots.roi) && !is_float(ctx.dtype(static_cast<size_t>(slots.roi)))) {
    ctx.fail("roi must be a float tensor");
  }

  const Shape& xs = ctx.shape(0);
  if (!xs.rank_known) {
    if (opts.axes.empty() && count) ctx.output(0).shape = Shape::of_rank(static_cast<size_t>(*count));
    else ctx.output(0).shape = Shape::unknown_rank();
    return;
  }
  const int64_t rank = static_cast<int64_t>(xs.rank());
  const std::vector<int64_t> axes = resize::normalize_axes(opts.axes, rank, ctx.where());
  if (count && *count != static_cast<int64_t>(axes.size())) {
    ctx.fail(has_scales ? "scales" : "sizes", " has ", *count, " values, expected ", axes.size());
  }
  Dims in(static_cast<size_t>(rank), -1);
  for (size_t d = 0; d < in.size(); ++d) {
    if (xs.dims[d].is_static()) in[d] = xs.dims[d].value;
  }
  Shape out = xs;
  if (scales || sizes) {
    const resize::Plan p = resize::make_plan(in, axes, scales ? &*scales : nullptr,
                                             sizes ? &*sizes : nullptr, nullptr, opts.policy,
                                             ctx.where());
    for (int64_t a : axes) {
      const size_t d = static_cast<size_t>(a);
      // A symbolic dim scaled by exactly 1 keeps its name.
      if (p.out[d] >= 0) out.dims[d] = Dim::of(p.out[d]);
      else if (!(scales && p.scale[d] == 1.0)) out.dims[d] = Dim::unknown();
    }
  } else {
    for (int64_t a : axes) out.dims[static_cast<size_t>(a)] = Dim::unknown();
  }
  ctx.output(0).shape = std::move(out);
}

}  // namespace

void infer_Resize(InferContext& ctx) { infer_resample(ctx, false); }
void infer_Upsample(InferContext& ctx) { infer_resample(ctx, true); }

}  // namespace kiln
