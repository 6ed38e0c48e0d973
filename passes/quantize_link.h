// Which activations quantize-int8 keeps in u8 between int8 convolutions, so that only the
// boundaries of an int8 region quantize or dequantize. A KilnQConv output becomes u8 when every
// consumer is a quantized convolution reading it as its input X or its residual Z, it is not a
// graph output and the fused activation is none, Relu or Clip (the kernels clamp before
// requantizing). Its u8 parameters are those of the calibrated range its consumers quantize it
// with, so a chain of int8 convolutions computes what it did with f32 between them, except that
// a residual is read at the precision of u8.
#pragma once

#include <map>
#include <set>

#include "passes/calibration.h"
#include "passes/quantize_rewrite.h"

namespace kiln {

struct U8Plan {
  std::set<Node*> quantized;       // nodes of `matched` to convert
  std::set<const Value*> u8;       // their outputs kept in u8
};

// Plans on the graph before conversion. A convolution that does not pay alone (pays_alone) is
// converted only where its input or its output is u8, decided to a fixpoint (dropping one may
// cut its neighbours' links).
U8Plan plan_u8_links(const Graph& g, const std::map<Node*, QuantizableNode>& matched);

// After conversion: the planned values become u8 with their parameters on the value type, their
// producers get y_scale / y_zero_point and their residual readers z_scale / z_zero_point.
void apply_u8_links(const std::set<const Value*>& u8,
                    const std::map<const Value*, Range>& ranges);

}  // namespace kiln
