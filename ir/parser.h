// The text form of a Graph read back: the inverse of print_graph (ir/printer.h), so passes can
// be tested text-in/text-out. The grammar is what the printer writes:
//
//   graph NAME (opset N) {
//     input %x: f32[1,3,batch,?]
//     const %w: f32[2,3] = [1, 2.5, 0, 0, 0, -1]
//     %a, _ = Op(%x, _, %w) {k=1, f=0.5, s="str", v=[1,2], t=tensor<f32[2]> = [1, 2]} : t1, _  # name
//     output %a
//   }
//
// - Names are bare ([A-Za-z0-9_.-/:]*, not ending in ':') or quoted with C escapes.
// - Types: dtype[dims] with dims a size, a symbol or '?', or [*] for unknown rank. The
//   printer's quantization suffix `{q:...}` carries only a summary, so it is skipped: parsed
//   values have no QuantParams.
// - Constants and tensor attributes without a value list (the printer omits values beyond
//   kMaxPrintedElements) are filled by fill_placeholder; a tensor attribute needs a static type.
// - `[]` parses as an empty int list. Tensor-list and subgraph attributes (printed as
//   tensors<N>, graph, graphs<N>) cannot be parsed and fail.
// - Nodes may appear in any order (forward references are fine); `: types` may be omitted
//   (outputs are then untyped); `// ...` comments may appear anywhere whitespace can.
// - After parsing: topo_sort and verify_graph. Declared types are kept as written unless
//   `infer` is set, which runs infer_shapes.
// Errors are kiln::Error: "line L, column C: expected WHAT, found WHAT".
#pragma once

#include <memory>
#include <string_view>

#include "ir/graph.h"

namespace kiln {

class Tensor;

std::unique_ptr<Graph> parse_graph(std::string_view text, bool infer = false);

// The deterministic values of a constant parsed without a value list: element i is
// ((i % 13) - 6) / 8 for floating dtypes, (i % 13) - 6 for signed, i % 13 for unsigned
// integers, and i % 2 for bool (all exact in every dtype).
void fill_placeholder(Tensor& t);

}  // namespace kiln
