// The skeleton the precision converters share (quantize-int8, quantize-int8-dynamic; convert-fp16
// may adopt it): the candidates are the nodes whose policy for the pass's precision in
// ir/ops.def is Always and whose op name is not blocked; the subclass may look at all of them
// first (calibration), then converts them one by one and may decline any. The pass notes how
// many nodes it converted, by op, and the constant bytes before and after.
#pragma once

#include <map>
#include <set>
#include <string>
#include <vector>

#include "ir/graph.h"
#include "passes/pass.h"

namespace kiln {

class PrecisionConverter : public Pass {
 public:
  bool run(Graph& g, PassContext& ctx) final;

 protected:
  enum class Precision { Fp16, Int8 };
  virtual Precision precision() const = 0;
  // Op names kept in full precision on top of the op table's policy (may be null).
  virtual const std::set<std::string, std::less<>>* blocked(const PassContext&) const {
    return nullptr;
  }
  // Sees every candidate before any is converted; may drop some from `candidates`.
  virtual void prepare(Graph&, PassContext&, std::vector<Node*>& /*candidates*/) {}
  // Rewrites `n` (nodes may be added and removed; no topo_sort needed). False = left as is.
  virtual bool convert(Graph& g, Node* n, PassContext& ctx) = 0;
  // After every conversion, before the graph is re-sorted (links between converted nodes).
  virtual void finish(Graph&, PassContext&) {}
  // The report's verb: "quantized", "converted to fp16".
  virtual std::string_view verb() const = 0;
};

}  // namespace kiln
