#include "codegen/cpu/elementwise_groups.h"

#include <functional>
#include <limits>

#include "ir/infer/fused_activation.h"

namespace kiln::cpu_codegen {
namespace {

// f32, or fp16 that the generated loop widens on load and rounds on store.
bool static_f32(const Value* v) {
  return v && (v->type.dtype == DType::F32 || v->type.dtype == DType::F16) &&
         v->type.shape.is_static();
}

// A scalar f32 constant's value.
std::optional<float> constant_scalar(const Value* v) {
  if (!v || !v->is_constant() || v->type.dtype != DType::F32 || v->constant->numel() != 1)
    return std::nullopt;
  return v->constant->data<float>()[0];
}

// The step for `n` when generated code can compute it, with the indices of the inputs that are
// operands (the rest, e.g. Clip bounds, are folded into the step's parameters).
std::optional<std::pair<EwStep, std::vector<size_t>>> supported_step(const Node& n) {
  for (const Value* v : n.outputs())
    if (v && !static_f32(v)) return std::nullopt;
  if (n.outputs().size() != 1) return std::nullopt;
  EwStep s;
  s.op = n.op;
  const Attributes& a = n.attrs;
  auto unary = [&]() -> std::optional<std::pair<EwStep, std::vector<size_t>>> {
    if (n.inputs().size() != 1 || !static_f32(n.input(0))) return std::nullopt;
    return std::pair{s, std::vector<size_t>{0}};
  };
  switch (n.op) {
    case OpKind::Add:
    case OpKind::Sub:
    case OpKind::Mul:
    case OpKind::Div:
    case OpKind::Max:
    case OpKind::Min:
      if (n.inputs().size() != 2 || !static_f32(n.input(0)) || !static_f32(n.input(1)))
        return std::nullopt;
      return std::pair{s, std::vector<size_t>{0, 1}};
    case OpKind::Pow: {
      const auto e = constant_scalar(n.input(1));
      if (!static_f32(n.input(0)) || !e || (*e != 2.0f && *e != 3.0f && *e != 0.5f && *e != 1.0f))
        return std::nullopt;
      s.alpha = *e;
      return std::pair{s, std::vector<size_t>{0}};
    }
    case OpKind::LeakyRelu:
      s.alpha = a.get_float("alpha", 0.01f);
      return unary();
    case OpKind::HardSigmoid:
      s.alpha = a.get_float("alpha", 0.2f);
      s.beta = a.get_float("beta", 0.5f);
      return unary();
    case OpKind::Gelu:
      s.approximate_tanh = a.get_string("approximate", "none") == "tanh";
      return unary();
    case OpKind::Clip: {
      s.alpha = -std::numeric_limits<float>::infinity();
      s.beta = std::numeric_limits<float>::infinity();
      if (n.opset < 11) {
        s.alpha = a.get_float("min", s.alpha);
        s.beta = a.get_float("max", s.beta);
      } else {
        for (size_t i = 1; i < n.inputs().size(); ++i) {
          if (!n.input(i)) continue;
          const auto c = constant_scalar(n.input(i));
          if (!c) return std::nullopt;
          (i == 1 ? s.alpha : s.beta) = *c;
        }
      }
      if (!static_f32(n.input(0))) return std::nullopt;
      return std::pair{s, std::vector<size_t>{0}};
    }
    case OpKind::Cast:  // between f32 and fp16: the conversion is the load / store itself
      s.op = OpKind::Identity;
      return unary();
    case OpKind::Relu:
    case OpKind::Sigmoid:
    case OpKind::Tanh:
    case OpKind::Exp:
    case OpKind::Log:
    case OpKind::Sqrt:
    case OpKind::Neg:
    case OpKind::Abs:
    case OpKind::Reciprocal:
    case OpKind::Erf:
    case OpKind::HardSwish:
    case OpKind::Floor:
    case OpKind::Ceil:
    case OpKind::Softplus:
      return unary();
    default:
      return std::nullopt;
  }
}

}  // namespace

EwStep activation_step(OpKind op, const Attributes& fused) {
  EwStep s;
  s.op = op;
  switch (op) {
    case OpKind::LeakyRelu:
      s.alpha = fused.get_float("activation_alpha", 0.01f);
      break;
    case OpKind::HardSigmoid:
      s.alpha = fused.get_float("activation_alpha", 0.2f);
      s.beta = fused.get_float("activation_beta", 0.5f);
      break;
    case OpKind::Clip:
      s.alpha = fused.get_float("activation_alpha", -std::numeric_limits<float>::infinity());
      s.beta = fused.get_float("activation_beta", std::numeric_limits<float>::infinity());
      break;
    default:
      break;
  }
  return s;
}

std::vector<int64_t> contiguous_strides(const Dims& dims) {
  std::vector<int64_t> s(dims.size());
  int64_t acc = 1;
  for (size_t i = dims.size(); i-- > 0;) {
    s[i] = acc;
    acc *= dims[i];
  }
  return s;
}

std::vector<int64_t> broadcast_strides(const Dims& in, const Dims& out) {
  KILN_CHECK(in.size() <= out.size(), "broadcast: rank ", in.size(), " > ", out.size());
  const std::vector<int64_t> own = contiguous_strides(in);
  std::vector<int64_t> s(out.size(), 0);
  const size_t shift = out.size() - in.size();
  for (size_t i = 0; i < in.size(); ++i) {
    KILN_CHECK(in[i] == out[i + shift] || in[i] == 1, "broadcast: dims ", dims_to_string(in),
               " do not broadcast to ", dims_to_string(out));
    s[i + shift] = in[i] == 1 ? 0 : own[i];
  }
  return s;
}

ElementwiseGroups find_elementwise_groups(const Graph& g) {
  ElementwiseGroups out;
  const auto& nodes = g.nodes();
  std::unordered_map<const Node*, size_t> index;
  std::unordered_map<const Node*, std::pair<EwStep, std::vector<size_t>>> steps;
  for (size_t i = 0; i < nodes.size(); ++i) {
    index[nodes[i].get()] = i;
    if (auto s = supported_step(*nodes[i])) steps.emplace(nodes[i].get(), std::move(*s));
  }
  std::unordered_set<const Value*> graph_outputs(g.outputs.begin(), g.outputs.end());
  // A supported node folds into its consumer when that consumer is supported, is its only
  // user, and has the same output dims (inner results are never broadcast).
  std::unordered_map<const Node*, const Node*> consumer;
  for (const auto& [n, s] : steps) {
    const Value* v = n->output(0);
    if (graph_outputs.count(v) || v->uses().empty()) continue;
    const Node* user = v->uses().front().node;
    bool one_user = true;
    for (const auto& u : v->uses()) one_user = one_user && u.node == user;
    if (!one_user || !steps.count(user)) continue;
    if (user->output(0)->type.shape.static_dims() != v->type.shape.static_dims()) continue;
    consumer[n] = user;
  }
  out.schedule.step.resize(nodes.size());
  for (size_t i = 0; i < nodes.size(); ++i) out.schedule.step[i] = static_cast<int>(i);
  // Build each root's program depth-first; members take the root's step.
  for (const auto& [n, s] : steps) {
    if (consumer.count(n)) continue;
    GroupSpec spec;
    std::unordered_map<const Value*, int> operand_of;
    std::function<int(const Node*)> build = [&](const Node* m) -> int {
      const auto& [step, operands] = steps.at(m);
      EwStep st = step;
      st.operands.clear();
      for (size_t i : operands) {
        const Value* v = m->input(i);
        if (auto it = operand_of.find(v); it != operand_of.end()) {
          st.operands.push_back(it->second);
          continue;
        }
        const Node* p = v->producer();
        if (p && consumer.count(p) && consumer.at(p) == m) {
          const int r = build(p);
          operand_of[v] = r;
          st.operands.push_back(r);
          continue;
        }
        // An outside value: a program input. Inputs are numbered first, so steps built
        // so far shift; number them after collection instead (fixed up below).
        spec.inputs.push_back(v);
        const int id = -static_cast<int>(spec.inputs.size());  // provisional: -(k+1)
        operand_of[v] = id;
        st.operands.push_back(id);
      }
      spec.steps.push_back(st);
      ++spec.nodes;
      if (m != n) {
        out.member_of.insert(m);
        out.schedule.step[index.at(m)] = static_cast<int>(index.at(n));
        out.schedule.unmaterialized.insert(m->output(0));
      }
      return static_cast<int>(spec.steps.size()) - 1 + (1 << 20);  // provisional step id
    };
    build(n);
    // Renumber: inputs are -(k+1) -> k; steps are (1<<20)+j -> num_inputs + j.
    const int ni = static_cast<int>(spec.inputs.size());
    for (auto& st : spec.steps) {
      for (int& o : st.operands) o = o < 0 ? -o - 1 : ni + (o - (1 << 20));
    }
    out.root_of.emplace(n, std::move(spec));
  }
  return out;
}

}  // namespace kiln::cpu_codegen
