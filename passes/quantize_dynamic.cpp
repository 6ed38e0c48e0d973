// quantize-int8-dynamic: MatMul / Gemm / KilnFusedMatMul with constant weights become
// KilnQMatMul without activation parameters: s8 per-column weights quantized now, the input's
// u8 scale and zero point computed from its range at every run (no calibration data needed).
// Convolutions are left in f32 (their activations are large; static quantization serves them).
#include "passes/precision/precision_converter.h"
#include "passes/quantize_rewrite.h"
#include "passes/registry.h"

namespace kiln {
namespace {

class QuantizeDynamic : public PrecisionConverter {
 public:
  std::string_view name() const override { return "quantize-int8-dynamic"; }

 protected:
  Precision precision() const override { return Precision::Int8; }
  std::string_view verb() const override { return "quantized to dynamic int8"; }

  bool convert(Graph& g, Node* n, PassContext&) override {
    std::optional<QuantizableNode> q = match_quantizable(g, n);
    if (!q || q->conv) return false;
    rewrite_quantized(g, *q, std::nullopt);
    return true;
  }
};

}  // namespace

std::unique_ptr<Pass> create_quantize_dynamic() { return std::make_unique<QuantizeDynamic>(); }

}  // namespace kiln
