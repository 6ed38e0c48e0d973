#include "ir/infer/shape_args.h"

#include <algorithm>
#include <limits>

#include "ir/infer.h"
#include "ir/infer_util.h"

namespace kiln {

OpArgs op_args(const InferContext& ctx) {
  OpArgs a;
  a.opset = ctx.opset;
  a.attrs = ctx.attrs;
  a.where = ctx.where();
  for (size_t i = 0; i < ctx.num_inputs(); ++i) {
    a.present.push_back(ctx.has_input(i));
    a.values.push_back(ctx.has_input(i) ? ctx.value(i) : nullptr);
  }
  return a;
}

Dim dim_mul_checked(const InferContext& ctx, const Dim& a, const Dim& b) {
  if (a.is_static() && b.is_static() && a.value != 0 &&
      b.value > std::numeric_limits<int64_t>::max() / a.value) {
    ctx.fail("dimension ", a.value, " x ", b.value, " overflows int64");
  }
  if ((a.is_static() && a.value == 0) || (b.is_static() && b.value == 0)) return Dim::of(0);
  return dim_mul(a, b);
}

Dim dim_add_checked(const InferContext& ctx, const Dim& a, const Dim& b) {
  if (a.is_static() && b.is_static() && b.value > std::numeric_limits<int64_t>::max() - a.value) {
    ctx.fail("dimension ", a.value, " + ", b.value, " overflows int64");
  }
  return dim_add(a, b);
}

std::optional<std::vector<int64_t>> OpArgs::ints(size_t i, const char* name) const {
  const Tensor* t = value(i);
  if (!t) return std::nullopt;
  check(is_int(t->dtype()), "input '", name, "' must be an integer tensor, got ", t->describe());
  check(t->rank() <= 1, "input '", name, "' must be 1-D, got ", t->describe());
  return t->to_int64_vector();
}

std::optional<int64_t> OpArgs::int_scalar(size_t i, const char* name) const {
  const Tensor* t = value(i);
  if (!t) return std::nullopt;
  check(is_int(t->dtype()), "input '", name, "' must be an integer tensor, got ", t->describe());
  check(t->numel() == 1, "input '", name, "' must hold one value, got ", t->describe());
  return t->as_int64(0);
}

int64_t norm_axis(const OpArgs& a, int64_t axis, int64_t rank) {
  a.check(axis >= -rank && axis < rank, "axis ", axis, " is out of range for rank ", rank);
  return axis < 0 ? axis + rank : axis;
}

std::vector<int64_t> norm_axes(const OpArgs& a, const std::vector<int64_t>& axes, int64_t rank) {
  std::vector<int64_t> out;
  for (int64_t ax : axes) {
    const int64_t n = norm_axis(a, ax, rank);
    a.check(std::find(out.begin(), out.end(), n) == out.end(), "axis ", ax, " is repeated");
    out.push_back(n);
  }
  return out;
}

// ---- Slice

std::optional<std::vector<SliceAxisSpec>> slice_spec(const OpArgs& a, int64_t rank) {
  std::vector<int64_t> starts, ends, axes, steps;
  bool axes_given = false, steps_given = false;
  if (a.opset < 10) {
    a.check(!a.has(1), "before opset 10 Slice takes starts/ends as attributes, not inputs");
    starts = a.attr().get_ints("starts");
    ends = a.attr().get_ints("ends");
    a.check(a.attr().has("starts") && a.attr().has("ends"),
            "attributes 'starts' and 'ends' are required");
    axes_given = a.attr().has("axes");
    axes = a.attr().get_ints("axes");
  } else {
    a.check(a.has(1) && a.has(2), "inputs 'starts' and 'ends' are required");
    auto s = a.ints(1, "starts"), e = a.ints(2, "ends");
    auto x = a.has(3) ? a.ints(3, "axes") : std::optional<std::vector<int64_t>>{};
    auto p = a.has(4) ? a.ints(4, "steps") : std::optional<std::vector<int64_t>>{};
    if (!s || !e || (a.has(3) && !x) || (a.has(4) && !p)) return std::nullopt;
    starts = *s;
    ends = *e;
    axes_given = a.has(3);
    if (x) axes = *x;
    steps_given = a.has(4);
    if (p) steps = *p;
  }
  a.check(starts.size() == ends.size(), "starts has ", starts.size(), " values but ends has ",
          ends.size());
  if (!axes_given) {
    a.check(static_cast<int64_t>(starts.size()) <= rank, "starts has ", starts.size(),
            " values for rank ", rank);
    for (int64_t i = 0; i < static_cast<int64_t>(starts.size()); ++i) axes.push_back(i);
  }
  a.check(axes.size() == starts.size(), "axes has ", axes.size(), " values but starts has ",
          starts.size());
  if (!steps_given) steps.assign(starts.size(), 1);
  a.check(steps.size() == starts.size(), "steps has ", steps.size(), " values but starts has ",
          starts.size());
  axes = norm_axes(a, axes, rank);
  std::vector<SliceAxisSpec> out;
  for (size_t i = 0; i < axes.size(); ++i) {
    a.check(steps[i] != 0, "step for axis ", axes[i], " is 0");
    out.push_back({axes[i], starts[i], ends[i], steps[i]});
  }
  return out;
}

SliceRange clamp_slice(int64_t start, int64_t end, int64_t step, int64_t dim) {
  if (start < 0) start += dim;
  if (end < 0) end += dim;
  if (dim == 0) return {0, step, 0};
  int64_t count = 0;
  if (step > 0) {
    start = std::clamp<int64_t>(start, 0, dim);
    end = std::clamp<int64_t>(end, 0, dim);
    if (end > start) count = (end - start - 1) / step + 1;
  } else {
    start = std::clamp<int64_t>(start, 0, dim - 1);
    end = std::clamp<int64_t>(end, -1, dim - 1);
    // -step cannot overflow for step == INT64_MIN: use unsigned-safe division.
    if (start > end) {
      const uint64_t span = static_cast<uint64_t>(start - end - 1);
      const uint64_t s = static_cast<uint64_t>(-(step + 1)) + 1;
      count = static_cast<int64_t>(span / s) + 1;
    }
  }
  return {start, step, count};
}

// ---- Pad

std::optional<std::vector<int64_t>> pad_amounts(const OpArgs& a, int64_t rank) {
  std::vector<int64_t> pads;
  std::vector<int64_t> axes;
  if (a.opset < 11) {
    a.check(!a.has(1), "before opset 11 Pad takes 'pads' as an attribute, not an input");
    a.check(a.attr().has("pads"), "attribute 'pads' is required");
    pads = a.attr().get_ints("pads");
  } else {
    a.check(a.has(1), "input 'pads' is required");
    auto p = a.ints(1, "pads");
    if (!p) return std::nullopt;
    pads = *p;
    if (a.has(3)) {
      a.check(a.opset >= 18, "the 'axes' input needs opset 18 or later");
      auto x = a.ints(3, "axes");
      if (!x) return std::nullopt;
      axes = norm_axes(a, *x, rank);
    }
  }
  if (!a.has(3)) {
    for (int64_t i = 0; i < rank; ++i) axes.push_back(i);
  }
  const size_t n = axes.size();
  a.check(pads.size() == 2 * n, "pads has ", pads.size(), " values, expected ", 2 * n);
  std::vector<int64_t> full(2 * static_cast<size_t>(rank), 0);
  for (size_t i = 0; i < n; ++i) {
    const size_t ax = static_cast<size_t>(axes[i]);
    full[ax] = pads[i];
    full[ax + static_cast<size_t>(rank)] = pads[i + n];
  }
  return full;
}

PadMode pad_mode(const OpArgs& a) {
  const std::string m = a.attr().get_string("mode", "constant");
  if (m == "constant") return PadMode::Constant;
  if (m == "reflect") return PadMode::Reflect;
  if (m == "edge") return PadMode::Edge;
  if (m == "wrap") {
    a.check(a.opset >= 19, "mode 'wrap' needs opset 19 or later");
    return PadMode::Wrap;
  }
  a.fail("unknown mode '", m, "'");
}

// ---- Split

std::optional<std::vector<int64_t>> split_sizes(const OpArgs& a, int64_t dim, size_t n_outputs) {
  std::optional<std::vector<int64_t>> split;
  const bool has_num = a.opset >= 18 && a.attr().has("num_outputs");
  if (a.opset < 13) {
    a.check(!a.has(1), "before opset 13 Split takes 'split' as an attribute, not an input");
    if (a.attr().has("split")) split = a.attr().get_ints("split");
  } else if (a.has(1)) {
    a.check(!has_num, "give either the 'split' input or 'num_outputs', not both");
    split = a.ints(1, "split");
    if (!split) return std::nullopt;
  }
  if (split) {
    a.check(split->size() == n_outputs, "split has ", split->size(), " sizes for ", n_outputs,
            " outputs");
    int64_t sum = 0;
    for (int64_t s : *split) {
      a.check(s >= 0, "split size ", s, " is negative");
      a.check(sum <= std::numeric_limits<int64_t>::max() - s, "split sizes overflow");
      sum += s;
    }
    a.check(dim < 0 || sum == dim, "split sizes sum to ", sum, " but the axis has ", dim);
    return split;
  }
  int64_t n = static_cast<int64_t>(n_outputs);
  if (has_num) {
    n = a.attr().get_int("num_outputs");
    a.check(n >= 1, "num_outputs ", n, " must be positive");
    a.check(n == static_cast<int64_t>(n_outputs), "num_outputs is ", n, " but the node has ",
            n_outputs, " outputs");
  }
  a.check(n >= 1, "Split needs at least one output");
  if (dim < 0) return std::nullopt;
  if (!has_num) {
    a.check(dim % n == 0, "axis of size ", dim, " cannot be split evenly into ", n, " outputs");
    return std::vector<int64_t>(static_cast<size_t>(n), dim / n);
  }
  // num_outputs: equal chunks of ceil(dim / n); the last one takes what is left.
  const int64_t chunk = dim / n + (dim % n != 0 ? 1 : 0);
  const int64_t last = dim - chunk * (n - 1);
  a.check(last >= 0, "axis of size ", dim, " cannot be split into ", n, " chunks of ", chunk);
  std::vector<int64_t> out(static_cast<size_t>(n), chunk);
  out.back() = last;
  return out;
}

// ---- Squeeze / Unsqueeze

std::optional<std::vector<int64_t>> squeeze_axes(const OpArgs& a, bool* given) {
  if (a.opset < 13) {
    a.check(!a.has(1), "before opset 13 the axes are an attribute, not an input");
    *given = a.attr().has("axes");
    return a.attr().get_ints("axes");
  }
  // Lenient: some exporters keep the pre-13 attribute; accept it when there is no input.
  if (!a.has(1) && a.attr().has("axes")) {
    *given = true;
    return a.attr().get_ints("axes");
  }
  *given = a.has(1);
  if (!a.has(1)) return std::vector<int64_t>{};
  return a.ints(1, "axes");
}

}  // namespace kiln
