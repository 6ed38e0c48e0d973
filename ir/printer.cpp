#include "ir/printer.h"

#include <sstream>

#include "ir/graph.h"

namespace kiln {

namespace {
std::string join_ints(const std::vector<int64_t>& v) {
  std::string s = "[";
  for (size_t i = 0; i < v.size(); ++i) s += (i ? "," : "") + std::to_string(v[i]);
  return s + "]";
}
std::string float_text(float f) {
  std::ostringstream os;
  os << f;
  return os.str();
}
}  // namespace

std::string attribute_to_text(const Attribute& a) {
  switch (a.kind) {
    case Attribute::Kind::Int: return std::to_string(a.i);
    case Attribute::Kind::Float: return float_text(a.f);
    case Attribute::Kind::String: return "\"" + a.s + "\"";
    case Attribute::Kind::Ints: return join_ints(a.ints);
    case Attribute::Kind::Floats: {
      std::string s = "[";
      for (size_t i = 0; i < a.floats.size(); ++i) s += (i ? "," : "") + float_text(a.floats[i]);
      return s + "]";
    }
    case Attribute::Kind::Strings: {
      std::string s = "[";
      for (size_t i = 0; i < a.strings.size(); ++i) s += (i ? ",\"" : "\"") + a.strings[i] + "\"";
      return s + "]";
    }
    case Attribute::Kind::Tensor: return "tensor<" + a.t.describe() + ">";
    case Attribute::Kind::Tensors: return "tensors<" + std::to_string(a.tensors.size()) + ">";
    case Attribute::Kind::Graph: return "graph";
    case Attribute::Kind::Graphs: return "graphs<" + std::to_string(a.graphs.size()) + ">";
  }
  return "?";
}

void print_graph(std::ostream& os, const Graph& g) {
  os << "graph " << g.name << " (opset " << g.opset << ") {\n";
  for (const Value* v : g.inputs) os << "  input %" << v->name() << ": " << v->type.to_string() << "\n";
  for (const auto& v : g.values()) {
    if (v->is_constant()) os << "  const %" << v->name() << ": " << v->type.to_string() << "\n";
  }
  for (const auto& n : g.nodes()) {
    os << "  ";
    for (size_t i = 0; i < n->outputs().size(); ++i) {
      os << (i ? ", " : "") << (n->output(i) ? "%" + n->output(i)->name() : "_");
    }
    os << " = " << op_name(n->op) << "(";
    for (size_t i = 0; i < n->inputs().size(); ++i) {
      os << (i ? ", " : "") << (n->input(i) ? "%" + n->input(i)->name() : "_");
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
  for (const Value* v : g.outputs) os << "  output %" << v->name() << "\n";
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
