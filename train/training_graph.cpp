#include "train/training_graph.h"

#include <algorithm>

#include "ir/infer.h"
#include "train/differentiate.h"
#include "train/graph_copy.h"

namespace kiln::train {

namespace {

float dropout_ratio(const Node& n) {
  if (const Value* r = n.input(1)) {
    KILN_CHECK(r->constant.has_value(), n.label(), ": the dropout ratio must be a constant");
    return static_cast<float>(r->constant->as_double(0));
  }
  return n.opset < 12 ? n.attrs.get_float("ratio", 0.5f) : 0.5f;
}

Dims per_sample_dims(const Node& n, const Value* x) {
  const Shape& s = x->type.shape;
  KILN_CHECK(s.rank_known && s.rank() >= 1, n.label(), ": input shape ", s.to_string(),
             " has no batch axis");
  Dims d;
  for (size_t i = 1; i < s.rank(); ++i) {
    KILN_CHECK(s.dims[i].is_static(), n.label(), ": input shape ", s.to_string(),
               " must be static after the batch axis");
    d.push_back(s.dims[i].value);
  }
  return d;
}

// A Conv whose only consumer is a Relu becomes one KilnFusedConv whose epilogue applies the
// ReLU: the gradient rules read the Relu's output (KilnReluGrad) and the Conv's input, never
// the pre-activation, so one pass over the largest activations goes away.
void fuse_conv_relu(Graph& g) {
  std::vector<std::pair<Node*, Node*>> pairs;
  for (const auto& np : g.nodes()) {
    Node* conv = np.get();
    const Value* y = conv->op == OpKind::Conv ? conv->output(0) : nullptr;
    if (!y || y->uses().size() != 1 || std::find(g.outputs.begin(), g.outputs.end(), y) != g.outputs.end()) {
      continue;
    }
    Node* relu = y->uses()[0].node;
    if (relu->op == OpKind::Relu && relu->output(0)) pairs.emplace_back(conv, relu);
  }
  for (auto [conv, relu] : pairs) {
    std::vector<Value*> ins = conv->inputs();
    Value* out = relu->output(0);
    Attributes a = conv->attrs;
    a.set("activation", Attribute::of_string("Relu"));
    const std::string name = conv->name;
    const int opset = conv->opset;
    g.remove_node(relu);
    g.remove_node(conv);
    g.add_node(OpKind::KilnFusedConv, std::move(ins), {out}, std::move(a), name, opset);
  }
  if (pairs.empty()) return;
  g.remove_dead_values();
  g.topo_sort();  // the fused nodes were appended
}

}  // namespace

TrainingGraph make_training_graph(const Graph& model) {
  KILN_CHECK(model.inputs.size() == 1 && model.outputs.size() == 1,
             "training: the model must have one input and one output");
  const Node* last = model.outputs[0]->producer();
  KILN_CHECK(last && last->op == OpKind::LogSoftmax, "training: the model output '",
             model.outputs[0]->name(), "' must come from LogSoftmax");
  TrainingGraph tg;
  tg.graph = std::make_unique<Graph>();
  Graph& g = *tg.graph;
  tg.input_name = model.inputs[0]->name();
  tg.output_name = model.outputs[0]->name();

  copy_graph(model, g, [&](const Node& n, Graph& dst, const std::vector<Value*>& ins,
                           const std::vector<Value*>& outs) {
    if (n.op == OpKind::Dropout) {
      KILN_CHECK(!n.output(1) || n.output(1)->uses().empty(), n.label(),
                 ": a used dropout mask output is not supported in training");
      DropoutMask m;
      m.input_name = dst.unique_name(n.name.empty() ? outs[0]->name() + ".mask" : n.name + ".mask");
      m.ratio = dropout_ratio(n);
      m.sample_dims = per_sample_dims(n, n.input(0));
      ValueType t = n.input(0)->type;
      Value* mask = dst.add_value(m.input_name, t);
      dst.inputs.push_back(mask);
      dst.add_node(OpKind::Mul, {ins[0], mask}, {outs[0]}, {}, n.name);
      tg.masks.push_back(m);
      return true;
    }
    if (n.op == OpKind::MaxPool && !n.output(1)) {
      Value* idx = dst.add_value(dst.unique_name(outs[0]->name() + ".indices"));
      Attributes a = n.attrs;
      a.erase("storage_order");
      dst.add_node(OpKind::MaxPool, ins, {outs[0], idx}, std::move(a), n.name, n.opset);
      return true;
    }
    return false;
  });

  // Trainable parameters: the float constants still used (dropout ratios no longer are), in the
  // order the model declared them.
  std::vector<Value*> params;
  for (const auto& v : g.values()) {
    if (v->constant && v->constant->dtype() == DType::F32 && !v->uses().empty()) {
      v->constant.reset();
      g.inputs.push_back(v.get());
      params.push_back(v.get());
      tg.params.push_back(v->name());
    }
  }

  Value* logits = g.find_value(last->input(0)->name());
  Value* labels = g.add_value(kLabelsName, ValueType{DType::I64, Shape{true, {logits->type.shape.dims.at(0)}}, {}});
  g.inputs.push_back(labels);
  Value* loss = g.add_value(kLossName);
  Attributes a;
  a.set("reduction", Attribute::of_string("sum"));
  g.add_node(OpKind::SoftmaxCrossEntropyLoss, {logits, labels}, {loss}, std::move(a), "loss");
  infer_shapes(g);

  const std::vector<Value*> grads = differentiate(g, loss, params);
  g.outputs = {loss, g.find_value(tg.output_name)};
  for (Value* d : grads) {
    g.outputs.push_back(d);
    tg.grads.push_back(d->name());
  }
  fuse_conv_relu(g);
  return tg;
}

}  // namespace kiln::train
