// Reference RoiAlign, NonMaxSuppression and AffineGrid.
#include <algorithm>
#include <cmath>

#include "runtime/kernels/ref/kernel.h"
#include "runtime/kernels/ref/ref_util.h"

namespace kiln {
namespace {

std::vector<double> to_doubles(const Tensor& t) {
  std::vector<double> v(static_cast<size_t>(t.numel()));
  for (int64_t i = 0; i < t.numel(); ++i) v[static_cast<size_t>(i)] = t.as_double(i);
  return v;
}

void store(Tensor& t, const std::vector<double>& v) {
  dispatch_dtype(t.dtype(), "output", [&]<typename T>() {
    T* p = t.data<T>();
    for (size_t i = 0; i < v.size(); ++i) p[i] = T(static_cast<ref::compute_t<T>>(v[i]));
  });
}

// One bilinear sample of an HxW plane: four pixel offsets and their weights (all zero outside).
struct Sample {
  int64_t pos[4] = {0, 0, 0, 0};
  double w[4] = {0, 0, 0, 0};
};

Sample bilinear_sample(double y, double x, int64_t h, int64_t w) {
  Sample s;
  const double hf = static_cast<double>(h), wf = static_cast<double>(w);
  if (!(y >= -1.0 && y <= hf && x >= -1.0 && x <= wf)) return s;  // outside, or NaN
  y = std::max(y, 0.0);
  x = std::max(x, 0.0);
  int64_t y0 = static_cast<int64_t>(y), x0 = static_cast<int64_t>(x), y1, x1;
  if (y0 >= h - 1) {
    y0 = y1 = h - 1;
    y = static_cast<double>(y0);
  } else {
    y1 = y0 + 1;
  }
  if (x0 >= w - 1) {
    x0 = x1 = w - 1;
    x = static_cast<double>(x0);
  } else {
    x1 = x0 + 1;
  }
  const double ly = y - static_cast<double>(y0), lx = x - static_cast<double>(x0);
  const double hy = 1 - ly, hx = 1 - lx;
  s.pos[0] = y0 * w + x0;
  s.pos[1] = y0 * w + x1;
  s.pos[2] = y1 * w + x0;
  s.pos[3] = y1 * w + x1;
  s.w[0] = hy * hx;
  s.w[1] = hy * lx;
  s.w[2] = ly * hx;
  s.w[3] = ly * lx;
  return s;
}

}  // namespace

void ref_RoiAlign(KernelContext& ctx) {
  const Tensor &x = ctx.input(0), &rois_t = ctx.input(1), &bi_t = ctx.input(2);
  const Attributes& a = ctx.attr();
  ctx.check(x.rank() == 4, "X must be 4-D, got ", x.describe());
  ctx.check(rois_t.rank() == 2 && rois_t.dim(1) == 4, "rois must be (num_rois, 4), got ", rois_t.describe());
  ctx.check(bi_t.rank() == 1 && bi_t.dim(0) == rois_t.dim(0), "batch_indices must have ",
            rois_t.dim(0), " values, got ", bi_t.describe());
  const bool max_mode = a.get_string("mode", "avg") == "max";
  // Opset 10 had no attribute and behaved as output_half_pixel (no half-pixel shift).
  const bool half_pixel = ctx.opset >= 16 &&
                          a.get_string("coordinate_transformation_mode", "half_pixel") == "half_pixel";
  const int64_t PH = a.get_int("output_height", 1), PW = a.get_int("output_width", 1);
  const int64_t ratio = a.get_int("sampling_ratio", 0);
  const double scale = a.get_float("spatial_scale", 1.0f);
  const int64_t C = x.dim(1), H = x.dim(2), W = x.dim(3), R = rois_t.dim(0);
  const std::vector<double> xs = to_doubles(x), rois = to_doubles(rois_t);
  const std::vector<int64_t> batch = bi_t.to_int64_vector();
  ctx.check(R == 0 || C == 0 || (H > 0 && W > 0), "X has an empty spatial dim");
  std::vector<double> out(static_cast<size_t>(R * C * PH * PW), 0.0);
  const double off = half_pixel ? 0.5 : 0.0;
  for (int64_t n = 0; n < R; ++n) {
    const int64_t b = batch[static_cast<size_t>(n)];
    ctx.check(b >= 0 && b < x.dim(0), "batch index ", b, " is out of range [0, ", x.dim(0), ")");
    const double* roi = &rois[static_cast<size_t>(n * 4)];
    const double x0 = roi[0] * scale - off, y0 = roi[1] * scale - off;
    double rw = roi[2] * scale - off - x0, rh = roi[3] * scale - off - y0;
    if (!half_pixel) {
      rw = std::max(rw, 1.0);
      rh = std::max(rh, 1.0);
    }
    const double bh = rh / static_cast<double>(PH), bw = rw / static_cast<double>(PW);
    // Samples per bin: sampling_ratio, or adaptive ceil(roi / pooled).
    const auto grid_of = [&](double v) {
      const double g = ratio > 0 ? static_cast<double>(ratio) : std::ceil(v);
      return g >= 0 ? static_cast<int64_t>(std::min(g, 1e6)) : int64_t{0};  // NaN -> 0
    };
    const int64_t gh = grid_of(bh), gw = grid_of(bw);
    ctx.check(gh * gw <= (int64_t{1} << 24), "roi ", n, " needs a sampling grid of ", gh, "x", gw,
              " per bin, too large");
    const double count = static_cast<double>(std::max<int64_t>(gh * gw, 1));
    for (int64_t ph = 0; ph < PH; ++ph) {
      for (int64_t pw = 0; pw < PW; ++pw) {
        std::vector<Sample> samples;
        for (int64_t iy = 0; iy < gh; ++iy) {
          const double yy = y0 + static_cast<double>(ph) * bh +
                            (static_cast<double>(iy) + 0.5) * bh / static_cast<double>(gh);
          for (int64_t ix = 0; ix < gw; ++ix) {
            const double xx = x0 + static_cast<double>(pw) * bw +
                              (static_cast<double>(ix) + 0.5) * bw / static_cast<double>(gw);
            samples.push_back(bilinear_sample(yy, xx, H, W));
          }
        }
        for (int64_t c = 0; c < C; ++c) {
          const double* plane = &xs[static_cast<size_t>((b * C + c) * H * W)];
          double acc = 0;
          bool first = true;
          for (const Sample& s : samples) {
            if (max_mode) {
              // The spec's max mode takes the largest weighted corner, not the interpolated value.
              double v = s.w[0] * plane[s.pos[0]];
              for (int k = 1; k < 4; ++k) v = std::max(v, s.w[k] * plane[s.pos[k]]);
              acc = first ? v : std::max(acc, v);
              first = false;
            } else {
              for (int k = 0; k < 4; ++k) acc += s.w[k] * plane[s.pos[k]];
            }
          }
          if (!max_mode) acc /= count;
          out[static_cast<size_t>(((n * C + c) * PH + ph) * PW + pw)] = acc;
        }
      }
    }
  }
  store(ctx.output(0), out);
}

void ref_NonMaxSuppression(KernelContext& ctx) {
  const Tensor &boxes_t = ctx.input(0), &scores_t = ctx.input(1);
  ctx.check(boxes_t.rank() == 3 && boxes_t.dim(2) == 4, "boxes must be (batch, boxes, 4), got ",
            boxes_t.describe());
  ctx.check(scores_t.rank() == 3 && scores_t.dim(0) == boxes_t.dim(0) &&
                scores_t.dim(2) == boxes_t.dim(1),
            "scores ", scores_t.describe(), " does not fit boxes ", boxes_t.describe());
  const auto scalar = [&](size_t i) -> const Tensor* {
    return ctx.has_input(i) && ctx.input(i).numel() > 0 ? &ctx.input(i) : nullptr;
  };
  const int64_t max_out = scalar(2) ? std::max<int64_t>(scalar(2)->as_int64(0), 0) : 0;
  const double iou_th = scalar(3) ? scalar(3)->as_double(0) : 0.0;
  const Tensor* score_th_t = scalar(4);
  const double score_th = score_th_t ? score_th_t->as_double(0) : 0.0;
  const bool center = ctx.attr().get_int("center_point_box", 0) != 0;
  const int64_t B = boxes_t.dim(0), NB = boxes_t.dim(1), NC = scores_t.dim(1);
  const std::vector<double> boxes = to_doubles(boxes_t), scores = to_doubles(scores_t);

  // Corners (ymin, xmin, ymax, xmax) of box i of batch b.
  const auto corners = [&](int64_t b, int64_t i, double* c) {
    const double* p = &boxes[static_cast<size_t>((b * NB + i) * 4)];
    if (center) {  // [x_center, y_center, width, height]
      c[0] = p[1] - p[3] / 2;
      c[2] = p[1] + p[3] / 2;
      c[1] = p[0] - p[2] / 2;
      c[3] = p[0] + p[2] / 2;
    } else {  // [y1, x1, y2, x2] with either corner order
      c[0] = std::min(p[0], p[2]);
      c[2] = std::max(p[0], p[2]);
      c[1] = std::min(p[1], p[3]);
      c[3] = std::max(p[1], p[3]);
    }
  };
  const auto suppresses = [&](int64_t b, int64_t i, int64_t j) {
    double p[4], q[4];
    corners(b, i, p);
    corners(b, j, q);
    const double ix = std::min(p[3], q[3]) - std::max(p[1], q[1]);
    const double iy = std::min(p[2], q[2]) - std::max(p[0], q[0]);
    if (ix <= 0 || iy <= 0) return false;
    const double inter = ix * iy;
    const double a1 = (p[2] - p[0]) * (p[3] - p[1]), a2 = (q[2] - q[0]) * (q[3] - q[1]);
    const double uni = a1 + a2 - inter;
    if (a1 <= 0 || a2 <= 0 || uni <= 0) return false;
    return inter / uni > iou_th;
  };

  std::vector<int64_t> selected;  // triples
  for (int64_t b = 0; b < B; ++b) {
    for (int64_t c = 0; c < NC; ++c) {
      const double* sc = &scores[static_cast<size_t>((b * NC + c) * NB)];
      std::vector<int64_t> cand;
      for (int64_t i = 0; i < NB; ++i) {
        // NaN scores never qualify (they would also break the sort's ordering).
        if (!std::isnan(sc[i]) && (!score_th_t || sc[i] > score_th)) cand.push_back(i);
      }
      // Highest score first; equal scores keep the lower box index first.
      std::stable_sort(cand.begin(), cand.end(), [&](int64_t i, int64_t j) { return sc[i] > sc[j]; });
      std::vector<int64_t> kept;
      for (int64_t i : cand) {
        if (static_cast<int64_t>(kept.size()) >= max_out) break;
        bool keep = true;
        for (int64_t k : kept) {
          if (suppresses(b, i, k)) {
            keep = false;
            break;
          }
        }
        if (!keep) continue;
        kept.push_back(i);
        selected.insert(selected.end(), {b, c, i});
      }
    }
  }
  Tensor& y = ctx.output(0, {static_cast<int64_t>(selected.size() / 3), 3});
  std::copy(selected.begin(), selected.end(), y.data<int64_t>());
}

void ref_AffineGrid(KernelContext& ctx) {
  const Tensor &theta_t = ctx.input(0), &size_t_ = ctx.input(1);
  const std::vector<int64_t> size = size_t_.to_int64_vector();
  ctx.check(size.size() == 4 || size.size() == 5, "size must have 4 or 5 values, got ", size.size());
  const int64_t r = static_cast<int64_t>(size.size()) - 2;
  const int64_t N = size[0];
  ctx.check(theta_t.rank() == 3 && theta_t.dim(0) == N && theta_t.dim(1) == r && theta_t.dim(2) == r + 1,
            "theta must be (", N, ", ", r, ", ", r + 1, "), got ", theta_t.describe());
  const bool align = ctx.attr().get_int("align_corners", 0) != 0;
  // Normalized coordinate of pixel i of n: pixel centres, or corners with align_corners.
  const auto coord = [&](int64_t i, int64_t n) {
    const double fi = static_cast<double>(i), fn = static_cast<double>(n);
    if (align) return n == 1 ? -1.0 : -1 + 2 * fi / (fn - 1);
    return -1 + (2 * fi + 1) / fn;
  };
  const std::vector<double> theta = to_doubles(theta_t);
  const Dims spatial(size.begin() + 2, size.end());
  int64_t points = 1;
  for (int64_t d : spatial) points *= d;
  std::vector<double> out(static_cast<size_t>(N * points * r));
  size_t o = 0;
  for (int64_t n = 0; n < N; ++n) {
    const double* th = &theta[static_cast<size_t>(n * r * (r + 1))];
    for (int64_t p = 0; p < points; ++p) {
      // Homogeneous source point (x, y[, z], 1): x runs along the innermost dim.
      std::vector<double> h(static_cast<size_t>(r + 1), 1.0);
      int64_t rem = p;
      for (int64_t d = r - 1; d >= 0; --d) {
        const int64_t len = spatial[static_cast<size_t>(d)];
        h[static_cast<size_t>(r - 1 - d)] = coord(rem % len, len);
        rem /= len;
      }
      for (int64_t k = 0; k < r; ++k) {
        double acc = 0;
        for (int64_t j = 0; j <= r; ++j) acc += th[k * (r + 1) + j] * h[static_cast<size_t>(j)];
        out[o++] = acc;
      }
    }
  }
  store(ctx.output(0), out);
}

}  // namespace kiln
