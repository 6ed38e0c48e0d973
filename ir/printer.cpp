#include "ir/printer.h"

#include <cctype>
#include <charconv>
#include <sstream>
#include <type_traits>

#include "ir/graph.h"

namespace kiln {

namespace {
std::string join_ints(const std::vector<int64_t>& v) {
  std::string s = "[";
  for (size_t i = 0; i < v.size(); ++i) s += (i ? "," : "") + std::to_string(v[i]);
  return s + "]";
}
// Shortest text that reads back to the same bits; a float that looks like an integer gets
// ".0" so the parser keeps its kind.
template <typename F>
std::string shortest(F f) {
  char buf[64];
  auto r = std::to_chars(buf, buf + sizeof buf, f);
  std::string s(buf, r.ptr);
  if (s.find_first_of(".ein") == std::string::npos) s += ".0";
  return s;
}
}  // namespace

std::string float_to_text(float f) { return shortest(f); }

std::string quote_string(const std::string& s) {
  std::string r = "\"";
  for (unsigned char c : s) {
    switch (c) {
      case '"': r += "\\\""; break;
      case '\\': r += "\\\\"; break;
      case '\n': r += "\\n"; break;
      case '\t': r += "\\t"; break;
      case '\r': r += "\\r"; break;
      default:
        if (c < 0x20 || c == 0x7f) {
          static const char hex[] = "0123456789abcdef";
          r += "\\x";
          r += hex[c >> 4];
          r += hex[c & 15];
        } else {
          r += static_cast<char>(c);
        }
    }
  }
  return r + "\"";
}

std::string name_to_text(const std::string& name) {
  bool safe = !name.empty() && name.back() != ':';
  for (unsigned char c : name) {
    if (!(std::isalnum(c) || c == '_' || c == '.' || c == '-' || c == '/' || c == ':')) safe = false;
  }
  return safe ? name : quote_string(name);
}

std::string tensor_values_to_text(const Tensor& t) {
  std::string s = "[";
  for (int64_t i = 0; i < t.numel(); ++i) {
    if (i) s += ", ";
    dispatch_dtype(t.dtype(), "print", [&]<typename T>() {
      const T v = t.data<T>()[i];
      if constexpr (std::is_same_v<T, bool>) {
        s += v ? "true" : "false";
      } else if constexpr (std::is_same_v<T, double>) {
        s += shortest(v);
      } else if constexpr (std::is_same_v<T, float> || std::is_same_v<T, half> ||
                           std::is_same_v<T, bfloat16>) {
        s += shortest(static_cast<float>(v));
      } else {
        s += std::to_string(v);
      }
    });
  }
  return s + "]";
}

std::string attribute_to_text(const Attribute& a) {
  switch (a.kind) {
    case Attribute::Kind::Int: return std::to_string(a.i);
    case Attribute::Kind::Float: return float_to_text(a.f);
    case Attribute::Kind::String: return quote_string(a.s);
    case Attribute::Kind::Ints: return join_ints(a.ints);
    case Attribute::Kind::Floats: {
      std::string s = "[";
      for (size_t i = 0; i < a.floats.size(); ++i) s += (i ? "," : "") + float_to_text(a.floats[i]);
      return s + "]";
    }
    case Attribute::Kind::Strings: {
      std::string s = "[";
      for (size_t i = 0; i < a.strings.size(); ++i) s += (i ? "," : "") + quote_string(a.strings[i]);
      return s + "]";
    }
    case Attribute::Kind::Tensor: {
      if (!a.t.defined()) return "tensor<undefined[]>";
      std::string s = "tensor<" + std::string(dtype_name(a.t.dtype())) + join_ints(a.t.dims()) + ">";
      if (a.t.numel() <= kMaxPrintedElements) s += " = " + tensor_values_to_text(a.t);
      return s;
    }
    case Attribute::Kind::Tensors: return "tensors<" + std::to_string(a.tensors.size()) + ">";
    case Attribute::Kind::Graph: return "graph";
    case Attribute::Kind::Graphs: return "graphs<" + std::to_string(a.graphs.size()) + ">";
  }
  return "?";
}

void print_graph(std::ostream& os, const Graph& g) {
  os << "graph " << name_to_text(g.name) << " (opset " << g.opset << ") {\n";
  for (const Value* v : g.inputs) {
    os << "  input %" << name_to_text(v->name()) << ": " << v->type.to_string() << "\n";
  }
  for (const auto& v : g.values()) {
    if (!v->is_constant()) continue;
    os << "  const %" << name_to_text(v->name()) << ": " << v->type.to_string();
    if (v->constant->defined() && v->constant->numel() <= kMaxPrintedElements) {
      os << " = " << tensor_values_to_text(*v->constant);
    }
    os << "\n";
  }
  for (const auto& n : g.nodes()) {
    os << "  ";
    for (size_t i = 0; i < n->outputs().size(); ++i) {
      os << (i ? ", " : "") << (n->output(i) ? "%" + name_to_text(n->output(i)->name()) : "_");
    }
    os << " = " << op_name(n->op) << "(";
    for (size_t i = 0; i < n->inputs().size(); ++i) {
      os << (i ? ", " : "") << (n->input(i) ? "%" + name_to_text(n->input(i)->name()) : "_");
    }
    os << ")";
    if (!n->attrs.empty()) {
      os << " {";
      bool first = true;
      for (const auto& [k, a] : n->attrs.all()) {
        os << (first ? "" : ", ") << k << "=" << attribute_to_text(a);
        first = false;
      }
      os << "}";
    }
    os << " :";
    for (size_t i = 0; i < n->outputs().size(); ++i) {
      os << (i ? ", " : " ") << (n->output(i) ? n->output(i)->type.to_string() : "_");
    }
    if (!n->name.empty()) os << "  # " << n->name;
    os << "\n";
  }
  for (const Value* v : g.outputs) os << "  output %" << name_to_text(v->name()) << "\n";
  os << "}\n";
}

std::string graph_to_text(const Graph& g) {
  std::ostringstream os;
  print_graph(os, g);
  return os.str();
}

void write_dot(std::ostream& os, const Graph& g) {
  auto esc = [](const std::string& s) {
    std::string r;
    for (char c : s) {
      if (c == '"' || c == '\\') r += '\\';
      r += c;
    }
    return r;
  };
  os << "digraph \"" << esc(g.name) << "\" {\n  rankdir=TB;\n  node [fontname=\"Helvetica\"];\n";
  for (const Value* v : g.inputs) {
    os << "  \"v:" << esc(v->name()) << "\" [shape=ellipse, label=\"" << esc(v->name()) << "\\n"
       << esc(v->type.to_string()) << "\"];\n";
  }
  for (size_t i = 0; i < g.nodes().size(); ++i) {
    const Node& n = *g.nodes()[i];
    os << "  n" << i << " [shape=box, style=filled, fillcolor=\"#dde7f2\", label=\""
       << op_name(n.op) << (n.name.empty() ? "" : "\\n" + esc(n.name)) << "\"];\n";
  }
  std::unordered_map<const Node*, size_t> index;
  for (size_t i = 0; i < g.nodes().size(); ++i) index[g.nodes()[i].get()] = i;
  for (size_t i = 0; i < g.nodes().size(); ++i) {
    for (const Value* v : g.nodes()[i]->inputs()) {
      if (!v || v->is_constant()) continue;
      std::string from = v->producer() ? "n" + std::to_string(index[v->producer()])
                                       : "\"v:" + esc(v->name()) + "\"";
      os << "  " << from << " -> n" << i << " [label=\"" << esc(v->type.to_string()) << "\"];\n";
    }
  }
  for (const Value* v : g.outputs) {
    os << "  \"o:" << esc(v->name()) << "\" [shape=ellipse, label=\"" << esc(v->name()) << "\"];\n";
    if (v->producer()) os << "  n" << index[v->producer()] << " -> \"o:" << esc(v->name()) << "\";\n";
  }
  os << "}\n";
}

}  // namespace kiln
