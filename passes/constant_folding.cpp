// Constant folding: a node whose inputs are all constants is evaluated once with the reference
// kernels (evaluate_op) and its outputs become constants of the same names. Shape and Size of
// a statically shaped value fold too, whatever its contents. Results are size-capped so that
// ConstantOfShape/Expand/Tile of a huge shape are not materialized into the model.
#include <algorithm>
#include <unordered_set>

#include "ir/graph.h"
#include "ir/infer.h"
#include "passes/node_traits.h"
#include "passes/pass.h"
#include "passes/registry.h"
#include "runtime/kernels/ref/evaluate.h"

namespace kiln {
namespace {

int64_t static_bytes(const ValueType& t) {
  return checked_numel(t.shape.static_dims()) * static_cast<int64_t>(dtype_size(t.dtype));
}

class ConstantFolding : public Pass {
 public:
  std::string_view name() const override { return "constant-fold"; }

  bool run(Graph& g, PassContext& ctx) override {
    // An initializer that is also a graph input is a default the caller may override.
    const std::unordered_set<const Value*> graph_inputs(g.inputs.begin(), g.inputs.end());
    auto is_constant = [&](const Value* v) { return v->is_constant() && !graph_inputs.count(v); };

    std::vector<Node*> candidates;
    for (const auto& n : g.nodes()) candidates.push_back(n.get());
    int folded = 0, shape_folded = 0, too_large = 0;
    for (Node* n : candidates) {
      if (is_nondeterministic(*n)) continue;
      const bool all_constant =
          std::all_of(n->inputs().begin(), n->inputs().end(),
                      [&](const Value* v) { return !v || is_constant(v); });
      std::vector<Tensor> results;
      if (all_constant) {
        if (!evaluate(*n, ctx.max_folded_bytes, results)) {
          ++too_large;
          continue;
        }
      } else if (!evaluate_shape_op(*n, results)) {
        continue;
      }
      if (results.empty()) continue;  // evaluation failed; leave the node to the backend
      replace_with_constants(g, n, std::move(results));
      ++(all_constant ? folded : shape_folded);
    }
    g.remove_dead_values();
    if (folded) ctx.note(name(), cat("folded ", folded, " nodes with constant inputs"));
    if (shape_folded) ctx.note(name(), cat("folded ", shape_folded, " Shape/Size of static shapes"));
    if (too_large) ctx.note(name(), cat("kept ", too_large, " nodes whose results exceed the size cap"));
    return folded + shape_folded != 0;
  }

 private:
  // Evaluates a node with constant inputs into `results` (left empty when evaluation fails).
  // Returns false when the results would exceed `max_bytes` and be larger than the inputs.
  static bool evaluate(const Node& n, int64_t max_bytes, std::vector<Tensor>& results) {
    int64_t input_bytes = 0;
    for (const Value* v : n.inputs())
      if (v) input_bytes += static_cast<int64_t>(v->constant->nbytes());
    if (const Attribute* a = n.attrs.find("value"); a && n.op == OpKind::Constant)
      input_bytes += static_cast<int64_t>(a->t.nbytes());
    const int64_t budget = std::max(max_bytes, input_bytes);
    try {
      // Size the outputs by inference first; data-dependent shapes (NonZero, Unique) are
      // bounded by their inputs, so those are evaluated only when the inputs are small.
      InferContext ic = make_infer_context(n);
      infer_node(ic);
      int64_t output_bytes = 0;
      for (size_t i = 0; i < ic.outputs.size(); ++i) {
        const ValueType& t = ic.outputs[i];
        if (!n.output(i)) continue;
        if (!t.shape.rank_known || !t.shape.is_static()) {
          if (input_bytes > max_bytes / 8) return false;
          continue;
        }
        output_bytes += static_bytes(t);
      }
      if (output_bytes > budget) return false;
      results = evaluate_op(call_for(n, constant_inputs(n)));
    } catch (const Error&) {
      results.clear();  // invalid or unsupported here: not this pass's to report
      return true;
    }
    int64_t result_bytes = 0;
    for (size_t i = 0; i < results.size(); ++i)
      if (n.output(i) && results[i].defined()) result_bytes += static_cast<int64_t>(results[i].nbytes());
    if (result_bytes > budget) {
      results.clear();
      return false;
    }
    for (size_t i = 0; i < n.outputs().size(); ++i) {
      if (n.output(i) && (i >= results.size() || !results[i].defined())) results.clear();
    }
    return true;
  }

  // Shape/Size of a value whose shape is static, whatever its contents: the kernel reads only
  // the dims, so it runs on a data-less tensor of that shape.
  static bool evaluate_shape_op(const Node& n, std::vector<Tensor>& results) {
    if (n.op != OpKind::Shape && n.op != OpKind::Size) return false;
    const Value* in = n.input(0);
    if (!in || in->type.dtype == DType::Undefined || !in->type.shape.rank_known ||
        !in->type.shape.is_static())
      return false;
    const Tensor dims_only = Tensor::borrow(in->type.dtype, in->type.shape.static_dims(), nullptr, {});
    try {
      results = evaluate_op(call_for(n, {&dims_only}));
    } catch (const Error&) {
      return false;
    }
    return !results.empty() && results[0].defined();
  }

  static std::vector<const Tensor*> constant_inputs(const Node& n) {
    std::vector<const Tensor*> inputs;
    for (const Value* v : n.inputs()) inputs.push_back(v ? &*v->constant : nullptr);
    return inputs;
  }

  static OpCall call_for(const Node& n, std::vector<const Tensor*> inputs) {
    OpCall call;
    call.op = n.op;
    call.opset = n.opset;
    call.attrs = &n.attrs;
    call.node_name = n.name;
    call.inputs = std::move(inputs);
    call.num_outputs = n.outputs().size();
    return call;
  }

  // The node's output values keep their names (and quantization) and become constants.
  static void replace_with_constants(Graph& g, Node* n, std::vector<Tensor> results) {
    std::vector<Value*> outputs = n->outputs();
    g.remove_node(n);
    for (size_t i = 0; i < outputs.size(); ++i) {
      Value* v = outputs[i];
      if (!v) continue;
      v->type.dtype = results[i].dtype();
      v->type.shape = Shape::of(results[i].dims());
      v->constant = std::move(results[i]);
    }
  }
};

}  // namespace

std::unique_ptr<Pass> create_constant_folding() { return std::make_unique<ConstantFolding>(); }

}  // namespace kiln
