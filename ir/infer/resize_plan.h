// Resize / Upsample: attribute parsing and the output-size rule, shared by shape inference
// (ir/infer/resample.cpp) and the reference kernel (runtime/kernels/ref/resize.cpp).
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "ir/attribute.h"
#include "ir/tensor.h"

namespace kiln::resize {

// The attributes of one Resize/Upsample node with the defaults of its opset applied.
struct Options {
  std::string mode = "nearest";       // nearest | linear | cubic
  std::string ctm = "half_pixel";     // coordinate_transformation_mode
  std::string nearest_mode = "round_prefer_floor";  // "legacy" = opset < 11 rule
  double cubic_a = -0.75;
  bool exclude_outside = false;
  double extrapolation = 0.0;
  bool antialias = false;
  std::vector<int64_t> axes;           // as written (may be negative); empty = all
  std::string policy = "stretch";      // keep_aspect_ratio_policy
};

// Reads and validates the attributes; `upsample` selects Upsample's rules. Fails via `where`.
Options parse_options(const Attributes& a, bool upsample, int opset, const std::string& where);

// Input positions of roi / scales / sizes for this op and opset (-1 = the op has no such input).
struct Slots {
  int roi = -1, scales = -1, sizes = -1;
};
Slots input_slots(bool upsample, int opset);

// Axes normalized against `rank`, duplicates rejected; empty `axes` means all.
std::vector<int64_t> normalize_axes(const std::vector<int64_t>& axes, int64_t rank,
                                    const std::string& where);

// The per-dimension resize: output size, scale and roi for every dim of the input.
struct Plan {
  Dims out;                      // -1 where unknown (symbolic inference)
  std::vector<double> scale;     // length_resized / length_original as the spec computes it
  std::vector<double> roi_start, roi_end;
};

// `in` holds the input dims (-1 = unknown). Exactly one of scales/sizes is given, listed per
// entry of `axes` (already normalized). `roi` (optional) lists starts then ends per entry of axes.
Plan make_plan(const Dims& in, const std::vector<int64_t>& axes,
               const std::vector<double>* scales, const std::vector<int64_t>* sizes,
               const std::vector<double>* roi, const std::string& policy,
               const std::string& where);

}  // namespace kiln::resize
