#include "codegen/cpu/legalize_fp16.h"

#include <unordered_map>

#include "ir/dtype.h"

namespace kiln::cpu_codegen {
namespace {

bool is_half(const Value* v) { return v && v->type.dtype == DType::F16; }

bool wants_f32_compute(const Node& n) {
  switch (n.op) {
    case OpKind::Conv:
    case OpKind::KilnFusedConv:
    case OpKind::Gemm:
    case OpKind::MatMul:
    case OpKind::KilnFusedMatMul:
    // Pooling has f32 fast kernels only; its Casts fuse with the neighbours' ones.
    case OpKind::MaxPool:
    case OpKind::AveragePool:
    case OpKind::GlobalAveragePool:
      break;
    default:
      return false;
  }
  if (!is_half(n.output(0)) || n.outputs().size() != 1) return false;
  for (const Value* v : n.inputs())
    if (v && !is_half(v)) return false;
  return true;
}

class Legalizer {
 public:
  explicit Legalizer(Graph& g) : g_(g) {}

  HalfLegalization run() {
    std::vector<Node*> f32_nodes;
    for (const auto& n : g_.nodes())
      if (wants_f32_compute(*n)) f32_nodes.push_back(n.get());
    for (Node* n : f32_nodes) rewrite(n);
    if (!f32_nodes.empty()) {
      g_.topo_sort();
      g_.remove_dead_values();
    }
    out_.ops = static_cast<int>(f32_nodes.size());
    return std::move(out_);
  }

 private:
  Value* to_f32(Value* v, bool is_weight) {
    auto it = f32_of_.find(v);
    if (it != f32_of_.end()) return it->second;
    Value* w;
    if (v->is_constant()) {
      Tensor t(DType::F32, v->constant->dims());
      const half* src = v->constant->data<half>();
      float* dst = t.data<float>();
      for (int64_t i = 0; i < t.numel(); ++i) dst[i] = static_cast<float>(src[i]);
      w = g_.add_constant(g_.unique_name(v->name() + "_f32"), std::move(t));
      if (is_weight) out_.half_weights.insert(w);
    } else {
      ValueType t = v->type;
      t.dtype = DType::F32;
      w = g_.add_value(g_.unique_name(v->name() + "_f32"), t);
      g_.add_node(OpKind::Cast, {v}, {w}, cast_to(DType::F32), w->name(), g_.opset);
    }
    f32_of_.emplace(v, w);
    return w;
  }

  static Attributes cast_to(DType d) {
    Attributes a;
    a.set("to", Attribute::of_int(static_cast<int64_t>(d)));
    return a;
  }

  void rewrite(Node* n) {
    std::vector<Value*> ins;
    for (size_t i = 0; i < n->inputs().size(); ++i) {
      Value* v = n->input(i);
      ins.push_back(v ? to_f32(v, i == 1) : nullptr);
    }
    Value* y = n->output(0);
    ValueType t = y->type;
    t.dtype = DType::F32;
    Value* y32 = g_.add_value(g_.unique_name(y->name() + "_f32"), t);
    const OpKind op = n->op;
    Attributes attrs = n->attrs;
    const std::string name = n->name;
    const int opset = n->opset;
    g_.remove_node(n);
    g_.add_node(op, std::move(ins), {y32}, std::move(attrs), name, opset);
    g_.add_node(OpKind::Cast, {y32}, {y}, cast_to(DType::F16), y->name() + "_to_f16", g_.opset);
  }

  Graph& g_;
  HalfLegalization out_;
  std::unordered_map<const Value*, Value*> f32_of_;
};

}  // namespace

HalfLegalization legalize_half_compute(Graph& g) { return Legalizer(g).run(); }

}  // namespace kiln::cpu_codegen
