// The one direct-convolution loop behind Conv, ConvInteger and QLinearConv (any spatial rank,
// groups, strides, dilations, pads / auto_pad). Element loads are callbacks, so the integer
// variants subtract zero points on the way in and accumulate in int32.
#pragma once

#include <cstdint>
#include <vector>

#include "ir/infer/conv_shape.h"
#include "runtime/kernels/ref/kernel.h"
#include "runtime/kernels/ref/ref_util.h"

namespace kiln::ref {

struct ConvGeom {
  int64_t N = 0, C = 0, M = 0, group = 1;
  Dims in_sp, out_sp, kernel;
  std::vector<int64_t> strides, dilations, pad_begin;
};

// Geometry of a Conv-like node from X's and W's concrete dims (re-validated here).
inline ConvGeom conv_geom(const KernelContext& ctx, const Dims& x, const Dims& w) {
  const ConvShape cs = conv_shape(ctx.attr(), Shape::of(x), Shape::of(w), ctx.where());
  const Window& win = *cs.window;  // always known for concrete W
  ConvGeom g;
  g.N = x[0];
  g.C = x[1];
  g.M = w[0];
  g.group = cs.group;
  g.in_sp.assign(x.begin() + 2, x.end());
  g.kernel = win.kernel;
  g.strides = win.strides;
  g.dilations = win.dilations;
  for (const WindowAxis& a : window_axes(win, g.in_sp, ctx.where())) {
    g.out_sp.push_back(a.out);
    g.pad_begin.push_back(a.pad_begin);
  }
  return g;
}

// Row-major coordinates of every point of `dims`, flattened: point p's axis d is at p*rank+d.
inline std::vector<int64_t> all_coords(const Dims& dims) {
  const int64_t n = checked_numel(dims);
  std::vector<int64_t> c(static_cast<size_t>(n) * dims.size());
  std::vector<int64_t> idx(dims.size(), 0);
  for (int64_t p = 0; p < n; ++p) {
    for (size_t d = 0; d < dims.size(); ++d) c[static_cast<size_t>(p) * dims.size() + d] = idx[d];
    for (int64_t d = static_cast<int64_t>(dims.size()) - 1; d >= 0; --d) {
      if (++idx[static_cast<size_t>(d)] < dims[static_cast<size_t>(d)]) break;
      idx[static_cast<size_t>(d)] = 0;
    }
  }
  return c;
}

// For each output element y[n, m, o...]: acc = sum over the group's input channels c and the
// kernel taps k of load_x(flat X index) * load_w(flat W index), skipping taps that fall in the
// padding; then store(flat Y index, m, acc).
template <typename Acc, typename LoadX, typename LoadW, typename Store>
void conv_loop(const ConvGeom& g, LoadX load_x, LoadW load_w, Store store) {
  const size_t rank = g.in_sp.size();
  const int64_t in_size = checked_numel(g.in_sp);
  const int64_t out_size = checked_numel(g.out_sp);
  const int64_t taps = checked_numel(g.kernel);
  const int64_t cg = g.C / g.group;  // input channels per group
  const int64_t mg = g.M / g.group;  // output channels per group
  const std::vector<int64_t> oc = all_coords(g.out_sp);
  const std::vector<int64_t> kc = all_coords(g.kernel);
  const std::vector<int64_t> in_strides = strides_of(g.in_sp);
  for (int64_t n = 0; n < g.N; ++n) {
    for (int64_t m = 0; m < g.M; ++m) {
      const int64_t first_c = (m / mg) * cg;
      for (int64_t o = 0; o < out_size; ++o) {
        Acc acc{};
        for (int64_t t = 0; t < taps; ++t) {
          int64_t off = 0;
          bool inside = true;
          for (size_t d = 0; d < rank && inside; ++d) {
            const int64_t p = oc[static_cast<size_t>(o) * rank + d] * g.strides[d] -
                              g.pad_begin[d] +
                              kc[static_cast<size_t>(t) * rank + d] * g.dilations[d];
            inside = p >= 0 && p < g.in_sp[d];
            off += p * in_strides[d];
          }
          if (!inside) continue;
          for (int64_t c = 0; c < cg; ++c) {
            const int64_t xi = ((n * g.C) + first_c + c) * in_size + off;
            const int64_t wi = ((m * cg) + c) * taps + t;
            acc += load_x(xi) * load_w(wi);
          }
        }
        store((n * g.M + m) * out_size + o, m, acc);
      }
    }
  }
}

}  // namespace kiln::ref
