// quantize-int8: static int8 quantization. Conv / Gemm / MatMul (and their fused forms) with
// constant weights become KilnQConv / KilnQMatMul: weights s8 per output channel (symmetric),
// the activation input u8 per tensor (asymmetric) with its range measured by running the model
// on PassContext::calib_data_dir under PassContext::calib_method. Outputs stay f32, so every
// other op is untouched. Nodes whose input never varies in calibration (a constant range of 0)
// still quantize: the range is widened to include 0.
#include <algorithm>

#include "passes/calibration.h"
#include "passes/calibration_data.h"
#include "passes/precision/precision_converter.h"
#include "passes/quantize_rewrite.h"
#include "passes/registry.h"

namespace kiln {
namespace {

class QuantizeStatic : public PrecisionConverter {
 public:
  std::string_view name() const override { return "quantize-int8"; }

 protected:
  Precision precision() const override { return Precision::Int8; }
  std::string_view verb() const override { return "quantized to int8"; }

  void prepare(Graph& g, PassContext& ctx, std::vector<Node*>& candidates) override {
    if (ctx.calib_data_dir.empty())
      fail("quantize-int8 needs calibration data: pass --calib-data DIR (a folder of .npy inputs)");
    const CalibrationMethod method = parse_calibration_method(ctx.calib_method);
    std::vector<const Value*> xs;
    matched_.clear();
    for (Node* n : candidates) {
      if (auto q = match_quantizable(g, n)) {
        if (std::find(xs.begin(), xs.end(), q->x) == xs.end()) xs.push_back(q->x);
        matched_.emplace(n, std::move(*q));
      }
    }
    if (xs.empty()) return;
    const CalibrationData data = load_calibration_data(ctx.calib_data_dir, g);
    ranges_ = calibrate(g, data.batches, xs, method);
    ctx.note(name(), cat("calibrated ", xs.size(), " activations on ", data.samples, " samples (",
                         data.batches.size(), " runs, ", ctx.calib_method, ")"));
  }

  bool convert(Graph& g, Node* n, PassContext&) override {
    auto it = matched_.find(n);
    if (it == matched_.end()) return false;
    const QuantizableNode& q = it->second;
    rewrite_quantized(g, q, activation_params(ranges_.at(q.x)));
    return true;
  }

 private:
  std::map<Node*, QuantizableNode> matched_;
  std::map<const Value*, Range> ranges_;
};

}  // namespace

std::unique_ptr<Pass> create_quantize_static() { return std::make_unique<QuantizeStatic>(); }

}  // namespace kiln
