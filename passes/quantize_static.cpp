// quantize-int8: static int8 quantization. Conv / Gemm / MatMul (and their fused forms) with
// constant weights become KilnQConv / KilnQMatMul: weights s8 per output channel (symmetric),
// the activation input u8 per tensor (asymmetric) with its range measured by running the model
// on PassContext::calib_data_dir under PassContext::calib_method. Between int8 convolutions the
// activations stay u8 (quantize_link.h); every other op still sees f32. Nodes whose input never
// varies in calibration (a constant range of 0) still quantize: the range is widened to include 0.
#include <algorithm>

#include "passes/calibration.h"
#include "passes/calibration_data.h"
#include "passes/quantize_link.h"
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
    const auto observe = [&](const Value* v) {
      if (v && std::find(xs.begin(), xs.end(), v) == xs.end()) xs.push_back(v);
    };
    for (Node* n : candidates)
      if (auto q = match_quantizable(g, n)) matched_.emplace(n, std::move(*q));
    plan_ = plan_u8_links(g, matched_);
    for (Node* n : plan_.quantized) {
      observe(matched_.at(n).x);
      if (plan_.u8.count(matched_.at(n).residual)) observe(matched_.at(n).residual);
    }
    if (xs.empty()) return;
    const CalibrationData data = load_calibration_data(ctx.calib_data_dir, g);
    ranges_ = calibrate(g, data.batches, xs, method);
    ctx.note(name(), cat("calibrated ", xs.size(), " activations on ", data.samples, " samples (",
                         data.batches.size(), " runs, ", ctx.calib_method, ")"));
    if (!plan_.u8.empty())
      ctx.note(name(), cat(plan_.u8.size(), " activations kept in u8 between int8 convolutions"));
  }

  void finish(Graph&, PassContext&) override { apply_u8_links(plan_.u8, ranges_); }

  bool convert(Graph& g, Node* n, PassContext&) override {
    auto it = matched_.find(n);
    if (it == matched_.end() || !plan_.quantized.count(n)) return false;
    const QuantizableNode& q = it->second;
    rewrite_quantized(g, q, activation_params(ranges_.at(q.x)));
    return true;
  }

 private:
  std::map<Node*, QuantizableNode> matched_;
  std::map<const Value*, Range> ranges_;
  U8Plan plan_;
};

}  // namespace

std::unique_ptr<Pass> create_quantize_static() { return std::make_unique<QuantizeStatic>(); }

}  // namespace kiln
