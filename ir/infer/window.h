// Sliding-window geometry shared by Conv, ConvTranspose, ConvInteger, QLinearConv and the
// pooling ops: attribute parsing (kernel_shape, strides, dilations, pads, auto_pad, ceil_mode)
// and the per-spatial-axis output size with the effective begin/end pads.
//
// Usage (inference or kernel alike; `where` is ctx.where(), the "Op 'name': " error prefix):
//   Window w = read_window(ctx.attr(), kernel_shape, ctx.where());
//   WindowAxis a = window_axis(w, i, in_size, ctx.where());  // a.out, a.pad_begin, a.pad_end
//   Dim d = window_out_dim(w, i, in_dim, ctx.where());        // symbolic inputs
// Output position o of axis i reads input positions o*stride - pad_begin + k*dilation.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "ir/attribute.h"
#include "ir/value_type.h"

namespace kiln {

enum class AutoPad { NotSet, Valid, SameUpper, SameLower };

// "NOTSET" (or ""), "VALID", "SAME_UPPER", "SAME_LOWER"; anything else fails.
AutoPad parse_auto_pad(const std::string& s, const std::string& where);

struct Window {
  std::vector<int64_t> kernel;     // kernel_shape, one per spatial axis, each >= 1
  std::vector<int64_t> strides;    // default 1, each >= 1
  std::vector<int64_t> dilations;  // default 1, each >= 1
  std::vector<int64_t> pads;       // [x1_begin, x2_begin, ..., x1_end, x2_end, ...], each >= 0
  AutoPad auto_pad = AutoPad::NotSet;
  bool ceil_mode = false;  // pooling only; Conv never sets it

  size_t rank() const { return kernel.size(); }
  // (kernel - 1) * dilation + 1: the span of input one window covers.
  int64_t effective_kernel(size_t axis) const;
};

// Reads strides, dilations, pads, auto_pad and ceil_mode (absent = ONNX defaults) for a window
// of the given kernel shape, checking every length and value. Pads are ignored when auto_pad
// is not NOTSET (ONNX forbids using both).
Window read_window(const Attributes& attrs, std::vector<int64_t> kernel_shape,
                   const std::string& where);

struct WindowAxis {
  int64_t out = 0;        // output size along this axis
  int64_t pad_begin = 0;  // effective padding before the input (auto_pad resolved)
  int64_t pad_end = 0;    // effective padding after it (as given or resolved; ceil_mode may
                          // make the last window run past it: clip reads to the input)
};

// Output size and effective pads of spatial axis `axis` for input size `in`:
//   NOTSET: out = floor_or_ceil((in + pad_begin + pad_end - eff_kernel) / stride) + 1
//   VALID:  same with zero pads
//   SAME_*: out = ceil(in / stride); total pad = max(0, (out-1)*stride + eff_kernel - in),
//           the odd unit goes at the end (UPPER) or the beginning (LOWER)
// With ceil_mode, a last window that would start in the end padding is dropped.
// Fails when the (padded) input is shorter than the effective kernel.
WindowAxis window_axis(const Window& w, size_t axis, int64_t in, const std::string& where);

// All spatial axes at once; `in_spatial` has w.rank() entries.
std::vector<WindowAxis> window_axes(const Window& w, const Dims& in_spatial,
                                    const std::string& where);

// Symbolic form: unknown input dims give unknown outputs, except where the window maps the
// axis onto itself (e.g. 1-wide kernel with stride 1 and no pads, or SAME with stride 1).
Dim window_out_dim(const Window& w, size_t axis, const Dim& in, const std::string& where);

// ConvTranspose geometry for one axis (input position i, kernel tap k write output position
// o = i*stride - pad_begin + k*dilation when 0 <= o < out). Natural size:
//   full = stride*(in-1) + output_padding + eff_kernel
// NOTSET: out = requested_out if given (>= 0), else full - pad_begin - pad_end.
// SAME_*: out = requested_out if given, else in*stride; total = full - out is split with the
//         odd unit at the end (SAME_UPPER) or the beginning (SAME_LOWER), floor division, as
//         the ONNX reference does (pads may come out negative: the output then extends).
WindowAxis transpose_window_axis(const Window& w, size_t axis, int64_t in, int64_t output_padding,
                                 int64_t requested_out, const std::string& where);

}  // namespace kiln
