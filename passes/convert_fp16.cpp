// convert-fp16: float32 weights and activations become float16, with fp32 kept where the
// precision matters:
//  - each op's fp16 policy in ir/ops.def decides: Always ops (Conv, MatMul, Gemm, ...) run in
//    fp16; Never ops (Softmax, LayerNormalization, reductions that sum, Exp/Log/Pow, ...) stay
//    fp32; Follow ops run in fp16 when an activation input already is fp16 (or every float
//    input is a constant), so chains like Conv-Relu-MaxPool-Reshape stay fp16 with no casts;
//  - ops named in PassContext::fp16_block_ops (kilnc --fp16-block=Op,Op) stay fp32 as well;
//  - model inputs and outputs stay fp32 by default, with Casts at the boundary;
//  - fp16 GEMM / conv kernels accumulate in fp32 (the reference kernels compute half through
//    float; the CPU target widens to f32 registers), so only storage rounds to fp16.
// Constants are converted once per value (a constant still read by an fp32 op keeps its fp32
// copy); finite values beyond fp16's range are clamped to +-65504 instead of becoming inf
// (attention masks of -1e9 stay very negative). Casts are shared per value and direction.
#include <algorithm>
#include <cmath>
#include <map>
#include <set>
#include <unordered_map>

#include "ir/infer.h"
#include "passes/pass.h"
#include "passes/pattern_util.h"
#include "passes/registry.h"

namespace kiln {
namespace {

constexpr double kHalfMax = 65504.0;

// Inputs whose type is not the op's main float type T (ONNX type constraints of their own):
// they keep their dtype whatever precision the op runs in.
bool is_fixed_input(OpKind op, size_t i) {
  switch (op) {
    case OpKind::Resize: return i == 1 || i == 2;  // roi (T2), scales (float)
    case OpKind::Upsample: return i == 1;          // scales (float)
    default: return false;
  }
}

class ConvertFp16 : public Pass {
 public:
  std::string_view name() const override { return "convert-fp16"; }

  bool run(Graph& g, PassContext& ctx) override {
    g_ = &g;
    const std::vector<Node*> order = snapshot();
    if (!ctx.fp16_keep_io_fp32) {
      for (Value* v : g.inputs) {
        if (v->type.dtype == DType::F32) {
          v->type.dtype = DType::F16;
          half_.insert(v);
          io_changed_ = true;
        }
      }
    }
    for (Node* n : order) {
      if (!has_float_input(*n)) continue;
      const PrecisionPolicy policy = op_info(n->op).fp16;
      const bool blocked = ctx.fp16_block_ops.count(op_name(n->op)) > 0;
      const bool to_half = !blocked && policy != PrecisionPolicy::Never &&
                           (policy == PrecisionPolicy::Always || follows_half(*n));
      if (to_half) {
        convert_node(*n);
      } else {
        (blocked ? blocked_ : kept_)++;
        restore_fp32_inputs(*n);
      }
    }
    fix_graph_outputs(ctx.fp16_keep_io_fp32);
    if (converted_ == 0 && !io_changed_) return false;
    g.topo_sort();
    g.remove_dead_values();
    ctx.note(name(), cat(converted_, " nodes in fp16, ", kept_, " kept fp32 by op policy, ",
                         blocked_, " by the block list"));
    ctx.note(name(), cat(constants_, " constants converted (", clamped_,
                         " values clamped to +-65504), ", casts_, " Casts inserted"));
    return true;
  }

 private:
  std::vector<Node*> snapshot() const {
    std::vector<Node*> v;
    for (const auto& n : g_->nodes()) v.push_back(n.get());
    return v;
  }

  // A float input this pass may change: fp32, or fp16 that it made so.
  bool convertible(const Node& n, size_t i) const {
    const Value* v = n.input(i);
    if (!v || is_fixed_input(n.op, i)) return false;
    return v->type.dtype == DType::F32 || half_.count(v);
  }

  bool has_float_input(const Node& n) const {
    for (size_t i = 0; i < n.inputs().size(); ++i)
      if (convertible(n, i)) return true;
    return false;
  }

  // Follow policy: fp16 when an activation input is fp16 already, or all float inputs are
  // constants (an embedding table read by Gather).
  bool follows_half(const Node& n) const {
    bool any_activation = false;
    for (size_t i = 0; i < n.inputs().size(); ++i) {
      if (!convertible(n, i)) continue;
      const Value* v = n.input(i);
      if (half_.count(v)) return true;
      if (!constant_tensor(*g_, v)) any_activation = true;
    }
    return !any_activation;
  }

  Value* half_constant(Value* v) {
    auto it = half_const_.find(v);
    if (it != half_const_.end()) return it->second;
    std::vector<double> vals = float_values(*v->constant);
    for (double& x : vals) {
      if (std::isfinite(x) && std::fabs(x) > kHalfMax) {
        x = std::copysign(kHalfMax, x);
        ++clamped_;
      }
    }
    Value* c = add_constant_named(*g_, v->name() + "_fp16",
                                  float_tensor(DType::F16, v->constant->dims(), vals));
    ++constants_;
    half_const_.emplace(v, c);
    return c;
  }

  Value* cast(Value* v, DType to) {
    auto key = std::make_pair(v, to);
    auto it = casts_of_.find(key);
    if (it != casts_of_.end()) return it->second;
    ValueType t = v->type;
    t.dtype = to;
    Value* out = g_->add_value(g_->unique_name(v->name() + (to == DType::F16 ? "_fp16" : "_fp32")),
                               t);
    Attributes a;
    a.set("to", Attribute::of_int(static_cast<int64_t>(to)));
    g_->add_node(OpKind::Cast, {v}, {out}, std::move(a), out->name(), g_->opset);
    ++casts_;
    casts_of_.emplace(key, out);
    return out;
  }

  void convert_node(Node& n) {
    for (size_t i = 0; i < n.inputs().size(); ++i) {
      if (!convertible(n, i)) continue;
      Value* v = n.input(i);
      if (half_.count(v)) continue;
      g_->set_input(&n, i, constant_tensor(*g_, v) ? half_constant(v) : cast(v, DType::F16));
    }
    // Output dtypes from inference: most ops follow their inputs, some (Cast, comparisons,
    // Shape) do not.
    InferContext ictx = make_infer_context(n);
    infer_node(ictx);
    for (size_t i = 0; i < n.outputs().size(); ++i) {
      Value* out = n.output(i);
      if (!out || out->type.dtype == ictx.outputs[i].dtype) continue;
      KILN_CHECK(out->type.dtype == DType::F32 && ictx.outputs[i].dtype == DType::F16,
                 "convert-fp16: ", n.label(), " output '", out->name(), "' would change from ",
                 dtype_name(out->type.dtype), " to ", dtype_name(ictx.outputs[i].dtype));
      out->type.dtype = DType::F16;
      half_.insert(out);
    }
    ++converted_;
  }

  void restore_fp32_inputs(Node& n) {
    for (size_t i = 0; i < n.inputs().size(); ++i) {
      Value* v = n.input(i);
      if (v && half_.count(v) && !is_fixed_input(n.op, i)) g_->set_input(&n, i, cast(v, DType::F32));
    }
  }

  // A graph output this pass turned fp16 gets its fp32 type back through a Cast that writes
  // the output value (so the name stays): the producer is rebuilt writing a new fp16 value.
  void fix_graph_outputs(bool keep_fp32) {
    for (size_t k = 0; k < g_->outputs.size(); ++k) {
      Value* out = g_->outputs[k];
      if (!half_.count(out)) continue;
      Node* p = out->producer();
      if (!keep_fp32 || !p) {  // fp16 I/O asked for (a model input passed through stays as is)
        io_changed_ = true;
        continue;
      }
      Value* h = g_->add_value(g_->unique_name(out->name() + "_fp16"), out->type);
      std::vector<Value*> outs = p->outputs();
      std::replace(outs.begin(), outs.end(), out, h);
      const std::vector<Value*> ins = p->inputs();
      const OpKind op = p->op;
      Attributes attrs = p->attrs;
      const std::string node_name = p->name;
      const int opset = p->opset;
      g_->remove_node(p);
      g_->add_node(op, ins, outs, std::move(attrs), node_name, opset);
      const std::vector<Use> uses = out->uses();
      for (const Use& u : uses) g_->set_input(u.node, static_cast<size_t>(u.input_index), h);
      out->type.dtype = DType::F32;
      half_.erase(out);
      half_.insert(h);
      Attributes a;
      a.set("to", Attribute::of_int(static_cast<int64_t>(DType::F32)));
      g_->add_node(OpKind::Cast, {h}, {out}, std::move(a), out->name() + "_to_fp32", g_->opset);
      ++casts_;
    }
  }

  Graph* g_ = nullptr;
  std::set<const Value*> half_;  // values this pass made fp16
  std::unordered_map<Value*, Value*> half_const_;
  std::map<std::pair<Value*, DType>, Value*> casts_of_;
  int converted_ = 0, kept_ = 0, blocked_ = 0, constants_ = 0, casts_ = 0;
  int64_t clamped_ = 0;
  bool io_changed_ = false;
};

}  // namespace

std::unique_ptr<Pass> create_convert_fp16() { return std::make_unique<ConvertFp16>(); }

}  // namespace kiln
