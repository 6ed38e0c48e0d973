// Activation ranges for static int8 quantization: the model is run on the calibration batches
// (optimized CPU kernels where an op has one, else the reference kernels) and each observed f32
// value's range is chosen by one of three methods:
//   minmax      the smallest and largest value seen;
//   percentile  the `percentile` and (100 - percentile) percentiles of all values seen (clips
//               rare outliers; default 99.99);
//   entropy     the clipping threshold T on |x| whose 128-level (255 when the value is never
//               negative) quantized histogram has the least KL divergence from the 2048-bin
//               histogram of |x| (TensorRT's entropy calibration); range [max(min, -T), min(max, T)].
//               Point masses (exact zeros, runs of a repeated value) are kept apart, as
//               quantization does not spread them. Model inputs keep their min-max range under it
//               (data, not a tailed activation).
#pragma once

#include <map>
#include <string>
#include <vector>

#include "ir/graph.h"

namespace kiln {

enum class CalibrationMethod { MinMax, Percentile, Entropy };

// "minmax", "percentile", "entropy"; fails naming the choices otherwise.
CalibrationMethod parse_calibration_method(const std::string& name);

struct Range {
  float lo = 0, hi = 0;
};

// Range of one stream of values under `method`: fed with every batch's tensor of the value
// (observe), in two rounds for the histogram methods (needs_second_round / begin_second_round).
class RangeObserver {
 public:
  explicit RangeObserver(CalibrationMethod method, double percentile = 99.99);
  void observe(const float* x, int64_t n);
  bool needs_second_round() const { return method_ != CalibrationMethod::MinMax; }
  void begin_second_round();  // fixes the histogram's span from the first round's min / max
  Range range() const;

 private:
  static constexpr int kBins = 2048;
  CalibrationMethod method_;
  double percentile_;
  bool second_ = false;
  float min_ = 0, max_ = 0;
  bool seen_ = false;
  float span_ = 0;                // percentile: histogram over [min_, max_]; entropy: [0, max|x|]
  std::vector<double> hist_;
  std::vector<double> points_;    // entropy: the point masses' |x|, apart from hist_
};

// Runs `g` on `batches` and returns the range of each value in `values` (all f32).
std::map<const Value*, Range> calibrate(const Graph& g,
                                        const std::vector<std::map<std::string, Tensor>>& batches,
                                        const std::vector<const Value*>& values,
                                        CalibrationMethod method);

// The entropy threshold alone: `hist` counts |x| of spread values and `points` of point masses
// (values that quantization moves but does not spread), both over the same equal bins of
// [0, span]. Returns the upper edge of the chosen bin count.
float entropy_threshold(const std::vector<double>& hist, const std::vector<double>& points,
                        float span, int levels);

}  // namespace kiln
