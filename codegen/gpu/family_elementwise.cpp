// Index helpers shared by every family, and the fused elementwise chain: one work item (or loop
// iteration) per output element, inputs read through broadcast strides (fp16 ones widened on
// load), the chain's steps evaluated in f32 registers, the result rounded to fp16 if stored so.
#include "codegen/cpu/elementwise_groups.h"
#include "codegen/gpu/families.h"
#include "ir/error.h"

namespace kiln::gpu {

std::vector<std::string> decompose(KernelWriter& k, const std::string& flat, const Dims& dims) {
  std::vector<std::string> c(dims.size());
  if (dims.empty()) return c;
  const std::string base = k.fresh("c");
  std::string rest = flat;
  for (size_t d = dims.size(); d-- > 0;) {
    c[d] = cat(base, "_", d);
    if (d == 0) {
      k.line(cat("const ", k.idx(), " ", c[d], " = ", rest, ";"));
    } else {
      k.line(cat("const ", k.idx(), " ", c[d], " = ", rest, " % ", KernelWriter::i64(dims[d]),
                 ";"));
      const std::string next = cat(base, "_r", d);
      k.line(cat("const ", k.idx(), " ", next, " = ", rest, " / ", KernelWriter::i64(dims[d]),
                 ";"));
      rest = next;
    }
  }
  return c;
}

std::string offset_of(const std::vector<std::string>& coords, const std::vector<int64_t>& strides) {
  KILN_CHECK(coords.size() == strides.size(), "offset_of: ", coords.size(), " coordinates, ",
             strides.size(), " strides");
  std::string s;
  for (size_t d = 0; d < coords.size(); ++d) {
    if (strides[d] == 0) continue;
    if (!s.empty()) s += " + ";
    s += strides[d] == 1 ? coords[d] : cat(coords[d], " * ", KernelWriter::i64(strides[d]));
  }
  return s.empty() ? "0L" : "(" + s + ")";
}

std::string step_expr(const KernelWriter& k, const EwStep& s, const std::vector<std::string>& in) {
  const std::string& x = in.at(0);
  auto y = [&] { return in.at(1); };
  auto f = [&](float v) { return k.f32(v); };
  auto sel = [](const std::string& c, const std::string& a, const std::string& b) {
    return cat("((", c, ") ? (", a, ") : (", b, "))");
  };
  switch (s.op) {
    case OpKind::Identity: return x;
    case OpKind::Add: return cat("(", x, " + ", y(), ")");
    case OpKind::Sub: return cat("(", x, " - ", y(), ")");
    case OpKind::Mul: return cat("(", x, " * ", y(), ")");
    case OpKind::Div: return cat("(", x, " / ", y(), ")");
    // NaN in either operand gives NaN, as the reference does.
    case OpKind::Max:
      return sel(cat(x, " != ", x, " || ", y(), " != ", y()), cat(x, " + ", y()),
                 sel(cat(y(), " > ", x), y(), x));
    case OpKind::Min:
      return sel(cat(x, " != ", x, " || ", y(), " != ", y()), cat(x, " + ", y()),
                 sel(cat(y(), " < ", x), y(), x));
    case OpKind::Pow:
      if (s.alpha == 2.0f) return cat("(", x, " * ", x, ")");
      if (s.alpha == 3.0f) return cat("(", x, " * ", x, " * ", x, ")");
      if (s.alpha == 0.5f) return k.math("sqrt", x);
      return x;
    case OpKind::Relu: return sel(cat(x, " < 0.0f"), "0.0f", x);
    case OpKind::LeakyRelu: return sel(cat(x, " < 0.0f"), cat(x, " * ", f(s.alpha)), x);
    case OpKind::Clip: {
      const std::string lo = sel(cat(x, " < ", f(s.alpha)), f(s.alpha), x);
      return sel(cat(lo, " > ", f(s.beta)), f(s.beta), lo);
    }
    case OpKind::Sigmoid: return cat("(1.0f / (1.0f + ", k.math("exp", "-" + x), "))");
    case OpKind::Tanh: return k.math("tanh", x);
    case OpKind::Exp: return k.math("exp", x);
    case OpKind::Log: return k.math("log", x);
    case OpKind::Sqrt: return k.math("sqrt", x);
    case OpKind::Neg: return cat("(-", x, ")");
    case OpKind::Abs: return k.math("fabs", x);
    case OpKind::Reciprocal: return cat("(1.0f / ", x, ")");
    case OpKind::Floor: return k.math("floor", x);
    case OpKind::Ceil: return k.math("ceil", x);
    case OpKind::Erf: return k.math("erf", x);
    case OpKind::HardSigmoid:
      return k.math("fmin", k.math("fmax", cat(x, " * ", f(s.alpha), " + ", f(s.beta)), "0.0f"),
                    "1.0f");
    case OpKind::HardSwish:
      return cat("(", x, " * ",
                 k.math("fmin", k.math("fmax", cat(x, " * ", f(1.0f / 6), " + 0.5f"), "0.0f"),
                        "1.0f"),
                 ")");
    case OpKind::Softplus:  // max(x, 0) + log(1 + exp(-|x|)): stable for large |x|
      return cat("(", k.math("fmax", x, "0.0f"), " + ",
                 k.math("log1p", k.math("exp", "-" + k.math("fabs", x))), ")");
    case OpKind::Gelu:
      if (s.approximate_tanh)
        return cat("(0.5f * ", x, " * (1.0f + ",
                   k.math("tanh", cat(f(0.7978845608f), " * (", x, " + ", f(0.044715f), " * ", x,
                                      " * ", x, " * ", x, ")")),
                   "))");
      return cat("(0.5f * ", x, " * (1.0f + ", k.math("erf", cat(x, " * ", f(0.70710678118f))),
                 "))");
    default:
      fail("gpu codegen: no elementwise spelling for ", op_name(s.op));
  }
}

// Evaluates the program's steps on loaded operands; returns the variable holding the result.
static std::string evaluate(KernelWriter& k, const EwProgram& p, std::vector<std::string> vals) {
  for (const auto& step : p.steps) {
    std::vector<std::string> ops;
    for (int o : step.operands) ops.push_back(vals.at(static_cast<size_t>(o)));
    const std::string v = k.fresh("v");
    k.line(cat("const float ", v, " = ", step_expr(k, step, ops), ";"));
    vals.push_back(v);
  }
  return vals.back();
}

void emit_elementwise(KernelWriter& k, const EwProgram& p) {
  const int64_t n = checked_numel(p.out_dims);
  const std::vector<int64_t> own = cpu_codegen::contiguous_strides(p.out_dims);
  k.parallel("i", n);
  bool need_coords = false;
  for (const auto& in : p.inputs) need_coords = need_coords || in.strides != own;
  const std::vector<std::string> c =
      need_coords ? decompose(k, "i", p.out_dims) : std::vector<std::string>{};
  std::vector<std::string> vals;
  for (const auto& in : p.inputs) {
    const std::string v = k.fresh("x");
    const std::string off = in.strides == own ? "i" : offset_of(c, in.strides);
    const std::string p = k.ptr(in.buffer);
    k.line(cat("const float ", v, " = ", in.half ? k.load_half(p, off) : cat(p, "[", off, "]"),
               ";"));
    vals.push_back(v);
  }
  const std::string result = evaluate(k, p, vals);
  if (p.out_half)
    k.line(k.store_half(k.ptr(p.out_buffer), "i", result));
  else
    k.line(cat(k.ptr(p.out_buffer), "[i] = ", result, ";"));
  k.close();
}

}  // namespace kiln::gpu
