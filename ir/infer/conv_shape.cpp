#include "ir/infer/conv_shape.h"

#include "ir/infer_util.h"

namespace kiln {

namespace {

// Spatial rank from X and/or W (-1 when neither rank is known); both must agree and be >= 3.
int64_t spatial_rank(const Shape& x, const Shape& w, const std::string& where) {
  if (x.rank_known && x.rank() < 3) {
    fail(where, "X must have rank >= 3 ([N, C, spatial...]), got ", x.to_string());
  }
  if (w.rank_known && w.rank() < 3) {
    fail(where, "W must have rank >= 3 ([M, C/group, kernel...]), got ", w.to_string());
  }
  if (x.rank_known && w.rank_known && x.rank() != w.rank()) {
    fail(where, "X ", x.to_string(), " and W ", w.to_string(), " differ in rank");
  }
  if (x.rank_known) return static_cast<int64_t>(x.rank()) - 2;
  if (w.rank_known) return static_cast<int64_t>(w.rank()) - 2;
  return -1;
}

std::string list(const std::vector<int64_t>& v) {
  std::string s = "[";
  for (size_t i = 0; i < v.size(); ++i) s += (i ? "," : "") + std::to_string(v[i]);
  return s + "]";
}

// kernel_shape attribute, else W's spatial dims; nullopt when neither is known.
std::optional<std::vector<int64_t>> kernel_of(const Attributes& attrs, const Shape& w, size_t n,
                                              const std::string& where) {
  std::vector<int64_t> k = attrs.get_ints("kernel_shape");
  if (!k.empty()) {
    if (k.size() != n)
      fail(where, "kernel_shape ", list(k), " has ", k.size(), " values, expected ", n);
    if (w.rank_known) {
      for (size_t i = 0; i < n; ++i) {
        const Dim& d = w.dims[i + 2];
        if (d.is_static() && d.value != k[i]) {
          fail(where, "kernel_shape ", list(k), " does not match W ", w.to_string());
        }
      }
    }
    return k;
  }
  if (!w.rank_known) return std::nullopt;
  for (size_t i = 0; i < n; ++i) {
    if (!w.dims[i + 2].is_static()) return std::nullopt;
    k.push_back(w.dims[i + 2].value);
  }
  return k;
}

int64_t read_group(const Attributes& attrs, const std::string& where) {
  const int64_t group = attrs.get_int("group", 1);
  // A group never exceeds the channel count; the bound keeps channel arithmetic overflow-free.
  if (group < 1 || group > (int64_t{1} << 31)) fail(where, "group ", group, " is out of range");
  return group;
}

const Dim& dim_or_unknown(const Shape& s, size_t i) {
  static const Dim kUnknown;
  return s.rank_known ? s.dims[i] : kUnknown;
}

}  // namespace

ConvShape conv_shape(const Attributes& attrs, const Shape& x, const Shape& w,
                     const std::string& where) {
  ConvShape r;
  r.group = read_group(attrs, where);
  const int64_t n = spatial_rank(x, w, where);
  if (n < 0) {
    r.out = Shape::unknown_rank();
    return r;
  }
  const size_t ns = static_cast<size_t>(n);
  const Dim& c = dim_or_unknown(x, 1);
  const Dim& m = dim_or_unknown(w, 0);
  const Dim& wc = dim_or_unknown(w, 1);
  if (m.is_static() && m.value % r.group != 0) {
    fail(where, "W's output channels ", m.value, " are not divisible by group ", r.group);
  }
  if (c.is_static() && wc.is_static() &&
      (wc.value > (int64_t{1} << 31) || c.value != wc.value * r.group)) {
    fail(where, "X has ", c.value, " channels but W ", w.to_string(), " with group ", r.group,
         " expects ", wc.value * r.group);
  }
  if (auto k = kernel_of(attrs, w, ns, where)) r.window = read_window(attrs, std::move(*k), where);
  r.out = Shape::of_rank(ns + 2);
  r.out.dims[0] = dim_or_unknown(x, 0);
  r.out.dims[1] = m;
  for (size_t i = 0; i < ns; ++i) {
    r.out.dims[i + 2] =
        r.window ? window_out_dim(*r.window, i, dim_or_unknown(x, i + 2), where) : Dim::unknown();
  }
  return r;
}

ConvTransposeShape conv_transpose_shape(const Attributes& attrs, const Shape& x, const Shape& w,
                                        const std::string& where) {
  ConvTransposeShape r;
  r.group = read_group(attrs, where);
  const int64_t n = spatial_rank(x, w, where);
  if (n < 0) {
    r.out = Shape::unknown_rank();
    return r;
  }
  const size_t ns = static_cast<size_t>(n);
  const Dim& c = dim_or_unknown(x, 1);
  const Dim& wc = dim_or_unknown(w, 0);
  if (c.is_static() && wc.is_static() && c.value != wc.value) {
    fail(where, "X has ", c.value, " channels but W ", w.to_string(), " expects ", wc.value);
  }
  if (c.is_static() && c.value % r.group != 0) {
    fail(where, "X's channels ", c.value, " are not divisible by group ", r.group);
  }
  std::vector<int64_t> out_pad = attrs.get_ints("output_padding");
  if (out_pad.empty()) out_pad.assign(ns, 0);
  if (out_pad.size() != ns) {
    fail(where, "output_padding ", list(out_pad), " has ", out_pad.size(), " values, expected ",
         ns);
  }
  for (int64_t p : out_pad) {
    if (p < 0 || p > (int64_t{1} << 31))
      fail(where, "output_padding ", list(out_pad), " is out of range");
  }
  std::vector<int64_t> out_shape = attrs.get_ints("output_shape");
  if (out_shape.size() == ns + 2) out_shape.erase(out_shape.begin(), out_shape.begin() + 2);
  if (!out_shape.empty() && out_shape.size() != ns) {
    fail(where, "output_shape ", list(out_shape), " has ", out_shape.size(), " values, expected ",
         ns);
  }
  for (int64_t d : out_shape) {
    if (d < 0) fail(where, "output_shape ", list(out_shape), " has a negative size");
  }
  if (auto k = kernel_of(attrs, w, ns, where)) r.window = read_window(attrs, std::move(*k), where);

  r.out = Shape::of_rank(ns + 2);
  r.out.dims[0] = dim_or_unknown(x, 0);
  const Dim& mg = dim_or_unknown(w, 1);
  if (mg.is_static() && mg.value > (int64_t{1} << 31))
    fail(where, "W ", w.to_string(), " is too large");
  r.out.dims[1] = dim_mul(mg, Dim::of(r.group));
  bool all_static = r.window.has_value();
  for (size_t i = 0; i < ns; ++i) {
    const Dim& in = dim_or_unknown(x, i + 2);
    const int64_t requested = out_shape.empty() ? -1 : out_shape[i];
    if (r.window && in.is_static()) {
      r.axes.push_back(transpose_window_axis(*r.window, i, in.value, out_pad[i], requested, where));
      r.out.dims[i + 2] = Dim::of(r.axes.back().out);
    } else {
      all_static = false;
      r.out.dims[i + 2] = requested >= 0 ? Dim::of(requested) : Dim::unknown();
    }
  }
  if (!all_static) r.axes.clear();
  return r;
}

}  // namespace kiln
