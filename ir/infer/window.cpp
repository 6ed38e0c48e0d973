#include "ir/infer/window.h"

#include <limits>

namespace kiln {

namespace {

// Window sizes come from attributes and may be hostile: all arithmetic is overflow-checked.
int64_t add(int64_t a, int64_t b, const std::string& where) {
  int64_t r;
  if (__builtin_add_overflow(a, b, &r)) fail(where, "window arithmetic overflows int64");
  return r;
}
int64_t mul(int64_t a, int64_t b, const std::string& where) {
  int64_t r;
  if (__builtin_mul_overflow(a, b, &r)) fail(where, "window arithmetic overflows int64");
  return r;
}
int64_t floor_div(int64_t a, int64_t b) {
  const int64_t q = a / b;
  return (a % b != 0 && ((a < 0) != (b < 0))) ? q - 1 : q;
}
int64_t ceil_div(int64_t a, int64_t b) { return -floor_div(-a, b); }

std::string list(const std::vector<int64_t>& v) {
  std::string s = "[";
  for (size_t i = 0; i < v.size(); ++i) s += (i ? "," : "") + std::to_string(v[i]);
  return s + "]";
}

std::vector<int64_t> read_list(const Attributes& attrs, const char* name, size_t n, int64_t def,
                               int64_t min, const std::string& where) {
  if (!attrs.has(name)) return std::vector<int64_t>(n, def);
  std::vector<int64_t> v = attrs.get_ints(name);
  if (v.empty()) return std::vector<int64_t>(n, def);  // an empty list reads as the default
  if (v.size() != n) {
    fail(where, name, " ", list(v), " has ", v.size(), " values, expected ", n);
  }
  for (int64_t x : v) {
    if (x < min) fail(where, name, " ", list(v), " has a value below ", min);
  }
  return v;
}

}  // namespace

AutoPad parse_auto_pad(const std::string& s, const std::string& where) {
  if (s.empty() || s == "NOTSET") return AutoPad::NotSet;
  if (s == "VALID") return AutoPad::Valid;
  if (s == "SAME_UPPER") return AutoPad::SameUpper;
  if (s == "SAME_LOWER") return AutoPad::SameLower;
  fail(where, "auto_pad '", s, "' is not NOTSET, VALID, SAME_UPPER or SAME_LOWER");
}

int64_t Window::effective_kernel(size_t axis) const {
  // Bounded by read_window: kernel and dilation are checked so this cannot overflow.
  return (kernel[axis] - 1) * dilations[axis] + 1;
}

Window read_window(const Attributes& attrs, std::vector<int64_t> kernel_shape,
                   const std::string& where) {
  Window w;
  const size_t n = kernel_shape.size();
  for (int64_t k : kernel_shape) {
    if (k < 1) fail(where, "kernel_shape ", list(kernel_shape), " has a value below 1");
  }
  w.kernel = std::move(kernel_shape);
  w.strides = read_list(attrs, "strides", n, 1, 1, where);
  w.dilations = read_list(attrs, "dilations", n, 1, 1, where);
  w.auto_pad = parse_auto_pad(attrs.get_string("auto_pad", "NOTSET"), where);
  w.pads = std::vector<int64_t>(2 * n, 0);
  if (w.auto_pad == AutoPad::NotSet) w.pads = read_list(attrs, "pads", 2 * n, 0, 0, where);
  const int64_t ceil_mode = attrs.get_int("ceil_mode", 0);
  if (ceil_mode != 0 && ceil_mode != 1) fail(where, "ceil_mode ", ceil_mode, " is not 0 or 1");
  w.ceil_mode = ceil_mode == 1;
  constexpr int64_t kMax = int64_t{1} << 31;  // keeps eff_kernel and friends far from overflow
  for (size_t i = 0; i < n; ++i) {
    if (w.kernel[i] > kMax || w.dilations[i] > kMax || w.strides[i] > kMax || w.pads[i] > kMax ||
        w.pads[i + n] > kMax) {
      fail(where, "window attribute on spatial axis ", i, " is too large");
    }
  }
  return w;
}

WindowAxis window_axis(const Window& w, size_t axis, int64_t in, const std::string& where) {
  if (in < 0) fail(where, "negative spatial size ", in);
  const int64_t k = w.effective_kernel(axis);
  const int64_t s = w.strides[axis];
  WindowAxis a;
  if (w.auto_pad == AutoPad::SameUpper || w.auto_pad == AutoPad::SameLower) {
    a.out = ceil_div(in, s);
    int64_t total = add(mul(a.out - 1, s, where), k, where) - in;
    if (total < 0) total = 0;
    const int64_t small = total / 2;
    a.pad_begin = w.auto_pad == AutoPad::SameUpper ? small : total - small;
    a.pad_end = total - a.pad_begin;
    if (in == 0) a.pad_begin = a.pad_end = 0;
    return a;
  }
  if (w.auto_pad == AutoPad::NotSet) {
    a.pad_begin = w.pads[axis];
    a.pad_end = w.pads[axis + w.rank()];
  }
  const int64_t padded = add(add(in, a.pad_begin, where), a.pad_end, where);
  if (padded < k) {
    fail(where, "spatial axis ", axis, ": padded input size ", padded,
         " is smaller than the window ", k, " (kernel ", w.kernel[axis], ", dilation ",
         w.dilations[axis], ")");
  }
  if (w.ceil_mode) {
    a.out = ceil_div(padded - k, s) + 1;
    // A window that would start in the end padding is dropped (ONNX / PyTorch rule).
    if (mul(a.out - 1, s, where) >= in + a.pad_begin) --a.out;
  } else {
    a.out = (padded - k) / s + 1;
  }
  return a;
}

std::vector<WindowAxis> window_axes(const Window& w, const Dims& in_spatial,
                                    const std::string& where) {
  if (in_spatial.size() != w.rank()) {
    fail(where, "input has ", in_spatial.size(), " spatial axes but the window has ", w.rank());
  }
  std::vector<WindowAxis> axes;
  for (size_t i = 0; i < w.rank(); ++i) axes.push_back(window_axis(w, i, in_spatial[i], where));
  return axes;
}

Dim window_out_dim(const Window& w, size_t axis, const Dim& in, const std::string& where) {
  if (in.is_static()) return Dim::of(window_axis(w, axis, in.value, where).out);
  const bool same = w.auto_pad == AutoPad::SameUpper || w.auto_pad == AutoPad::SameLower;
  if (w.strides[axis] == 1) {
    if (same) return in;
    const int64_t pads = w.auto_pad == AutoPad::NotSet ? w.pads[axis] + w.pads[axis + w.rank()] : 0;
    if (pads + 1 == w.effective_kernel(axis)) return in;  // e.g. 3x3 kernel, pads 1
  }
  return Dim::unknown();
}

WindowAxis transpose_window_axis(const Window& w, size_t axis, int64_t in, int64_t output_padding,
                                 int64_t requested_out, const std::string& where) {
  if (in < 0) fail(where, "negative spatial size ", in);
  const int64_t s = w.strides[axis];
  const int64_t full = in == 0 ? 0
                               : add(add(mul(s, in - 1, where), output_padding, where),
                                     w.effective_kernel(axis), where);
  WindowAxis a;
  if (w.auto_pad == AutoPad::SameUpper || w.auto_pad == AutoPad::SameLower) {
    a.out = requested_out >= 0 ? requested_out : mul(in, s, where);
    const int64_t total = full - a.out;
    if (w.auto_pad == AutoPad::SameUpper) {
      a.pad_begin = floor_div(total, 2);
      a.pad_end = total - a.pad_begin;
    } else {
      a.pad_end = floor_div(total, 2);
      a.pad_begin = total - a.pad_end;
    }
    return a;
  }
  if (w.auto_pad == AutoPad::NotSet) a.pad_begin = w.pads[axis];
  const int64_t pad_end = w.auto_pad == AutoPad::NotSet ? w.pads[axis + w.rank()] : 0;
  if (requested_out >= 0) {
    a.out = requested_out;
  } else {
    a.out = full - a.pad_begin - pad_end;
    if (a.out < 0) {
      fail(where, "spatial axis ", axis, ": pads ", a.pad_begin, "+", pad_end,
           " exceed the transposed output size ", full);
    }
  }
  a.pad_end = full - a.pad_begin - a.out;
  return a;
}

}  // namespace kiln
