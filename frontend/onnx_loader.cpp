#include "frontend/onnx_loader.h"

#include <onnx/onnx_pb.h>

#include <fstream>
#include <set>

#include "frontend/onnx_exporter.h"
#include "frontend/onnx_tensor.h"
#include "frontend/onnx_types.h"
#include "ir/infer.h"
#include "ir/verifier.h"
#include "runtime/kernels/ref/evaluate.h"

namespace kiln::frontend {

namespace fs = std::filesystem;

namespace {

bool is_default_domain(const std::string& d) { return d.empty() || d == "ai.onnx"; }

Attribute attribute_from_onnx(const onnx::AttributeProto& a, const fs::path& base_dir,
                              const std::string& where) {
  const std::string what = where + " attribute '" + a.name() + "'";
  if (!a.ref_attr_name().empty()) {
    fail_unsupported(what, ": attribute references (ref_attr_name) are not supported");
  }
  using AP = onnx::AttributeProto;
  switch (a.type()) {
    case AP::INT: return Attribute::of_int(a.i());
    case AP::FLOAT: return Attribute::of_float(a.f());
    case AP::STRING: return Attribute::of_string(a.s());
    case AP::INTS: return Attribute::of_ints({a.ints().begin(), a.ints().end()});
    case AP::FLOATS: return Attribute::of_floats({a.floats().begin(), a.floats().end()});
    case AP::STRINGS: return Attribute::of_strings({a.strings().begin(), a.strings().end()});
    case AP::TENSOR: return Attribute::of_tensor(tensor_from_onnx(a.t(), base_dir, what));
    case AP::TENSORS: {
      Attribute r;
      r.kind = Attribute::Kind::Tensors;
      for (const auto& t : a.tensors()) r.tensors.push_back(tensor_from_onnx(t, base_dir, what));
      return r;
    }
    case AP::GRAPH:
    case AP::GRAPHS:
      fail_unsupported(what, ": subgraph attributes are not supported");
    case AP::SPARSE_TENSOR:
    case AP::SPARSE_TENSORS:
      fail_unsupported(what, ": sparse tensor attributes are not supported");
    case AP::TYPE_PROTO:
    case AP::TYPE_PROTOS:
      fail_unsupported(what, ": type-proto attributes are not supported");
    default:
      // Old producers leave `type` unset; infer it from the one field that is filled.
      if (a.has_i()) return Attribute::of_int(a.i());
      if (a.has_f()) return Attribute::of_float(a.f());
      if (a.has_s()) return Attribute::of_string(a.s());
      if (a.has_t()) return Attribute::of_tensor(tensor_from_onnx(a.t(), base_dir, what));
      if (a.ints_size()) return Attribute::of_ints({a.ints().begin(), a.ints().end()});
      if (a.floats_size()) return Attribute::of_floats({a.floats().begin(), a.floats().end()});
      if (a.strings_size()) return Attribute::of_strings({a.strings().begin(), a.strings().end()});
      fail(what, ": unknown attribute type ", static_cast<int>(a.type()));
  }
}

int64_t default_opset(const onnx::ModelProto& m) {
  int64_t v = -1;
  for (const auto& o : m.opset_import()) {
    if (is_default_domain(o.domain())) v = o.version();
  }
  // Models from before opset_import existed (IR version < 3) are opset 1.
  return v < 0 ? (m.opset_import_size() == 0 ? 1 : -1) : v;
}

// Constant nodes become constant values (their attribute forms are decoded by the Constant
// op's reference kernel), so inference sees shape tensors and weights alike.
void fold_constant_nodes(Graph& g) {
  std::vector<Node*> constants;
  for (const auto& n : g.nodes())
    if (n->op == OpKind::Constant) constants.push_back(n.get());
  for (Node* n : constants) {
    OpCall call;
    call.op = OpKind::Constant;
    call.opset = n->opset;
    call.attrs = &n->attrs;
    call.node_name = n->name;
    Value* out = n->output(0);
    KILN_CHECK(out, n->label(), ": has no output");
    Tensor t = evaluate_op(call).at(0);
    g.remove_node(n);
    out->type = ValueType::of(t.dtype(), t.dims());
    out->constant = std::move(t);
  }
}

std::string node_label(const onnx::NodeProto& n, int index) {
  std::string s = n.op_type();
  s += n.name().empty() ? " #" + std::to_string(index) : " '" + n.name() + "'";
  return s;
}

}  // namespace

void parse_model_file(const fs::path& path, onnx::ModelProto* out) {
  std::error_code ec;
  if (!fs::exists(path, ec)) fail("model file '", path.string(), "' not found");
  if (fs::is_directory(path, ec)) fail("model path '", path.string(), "' is a directory");
  std::ifstream in(path, std::ios::binary);
  if (!in) fail("cannot open model file '", path.string(), "'");
  std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  if (bytes.empty()) fail("model file '", path.string(), "' is empty");
  if (!out->ParseFromString(bytes)) {
    fail("model file '", path.string(),
         "' is not a valid ONNX protobuf (truncated or not a model)");
  }
  if (!out->has_graph()) fail("model file '", path.string(), "' has no graph");
}

ModelInfo scan_model(const onnx::ModelProto& m) {
  ModelInfo info;
  info.ir_version = m.ir_version();
  info.producer_name = m.producer_name();
  info.producer_version = m.producer_version();
  for (const auto& o : m.opset_import()) {
    info.opset_imports[is_default_domain(o.domain()) ? "" : o.domain()] = o.version();
  }
  const int64_t opset = default_opset(m);
  std::set<std::string> unsupported;
  for (const auto& n : m.graph().node()) {
    const bool dflt = is_default_domain(n.domain());
    const std::string key = dflt ? n.op_type() : n.domain() + ":" + n.op_type();
    ++info.op_histogram[key];
    const std::optional<OpKind> op = op_from_name(n.op_type());
    if (n.domain() == kKilnDomain) {
      if (!op || !is_kiln_internal_op(*op)) unsupported.insert(key);
    } else if (!dflt) {
      unsupported.insert(key);
    } else if (!op || is_kiln_internal_op(*op)) {
      unsupported.insert(n.op_type() + " (opset " + std::to_string(opset) + ")");
    }
  }
  info.unsupported_ops.assign(unsupported.begin(), unsupported.end());
  return info;
}

LoadedModel import_model(const onnx::ModelProto& m, const fs::path& base_dir) {
  LoadedModel result;
  result.info = scan_model(m);
  const int64_t opset = default_opset(m);
  if (!result.info.unsupported_ops.empty()) {
    std::string list;
    for (const auto& s : result.info.unsupported_ops) list += (list.empty() ? "" : ", ") + s;
    fail_unsupported("unsupported ops: ", list);
  }
  if (opset < 0) fail("model imports no ai.onnx opset");
  if (opset < kMinOpset || opset > kMaxOpset) {
    fail_unsupported("model uses ai.onnx opset ", opset, "; Kiln supports opsets ", kMinOpset,
                     " to ", kMaxOpset);
  }
  const auto& gp = m.graph();
  auto g = std::make_unique<Graph>();
  g->name = gp.name().empty() ? "main" : gp.name();
  g->opset = static_cast<int>(opset);

  // Initializers first: they are constants, even when also listed as graph inputs (IR < 4).
  for (const auto& init : gp.initializer()) {
    if (init.name().empty()) fail("an initializer has no name");
    g->add_constant(init.name(), tensor_from_onnx(init, base_dir, init.name()));
  }
  if (gp.sparse_initializer_size() > 0) fail_unsupported("sparse initializers are not supported");
  for (const auto& in : gp.input()) {
    if (Value* v = g->find_value(in.name()); v && v->is_constant()) continue;
    ValueType t = value_type_from_onnx(in.type(), "graph input '" + in.name() + "'");
    if (t.dtype == DType::Undefined) fail("graph input '", in.name(), "' has no dtype");
    g->inputs.push_back(g->add_value(in.name(), std::move(t)));
  }
  // Declared types of intermediates and outputs, applied when their values are created.
  std::map<std::string, ValueType> declared;
  for (const auto& vi : gp.value_info()) {
    declared[vi.name()] = value_type_from_onnx(vi.type(), "value '" + vi.name() + "'");
  }
  for (const auto& vi : gp.output()) {
    declared[vi.name()] = value_type_from_onnx(vi.type(), "graph output '" + vi.name() + "'");
  }

  // Create every node output first so nodes may appear out of order; topo_sort fixes it.
  for (int i = 0; i < gp.node_size(); ++i) {
    const auto& n = gp.node(i);
    for (const auto& out : n.output()) {
      if (out.empty()) continue;
      if (g->find_value(out)) {
        fail(node_label(n, i), ": output '", out, "' is already defined elsewhere in the graph");
      }
      auto it = declared.find(out);
      g->add_value(out, it == declared.end() ? ValueType{} : it->second);
    }
  }
  for (int i = 0; i < gp.node_size(); ++i) {
    const auto& n = gp.node(i);
    const std::string label = node_label(n, i);
    const OpKind op = *op_from_name(n.op_type());
    Attributes attrs;
    for (const auto& a : n.attribute()) {
      if (a.name().empty()) fail(label, ": attribute with an empty name");
      attrs.set(a.name(), attribute_from_onnx(a, base_dir, label));
    }
    std::vector<Value*> ins, outs;
    for (const auto& name : n.input()) {
      if (name.empty()) {
        ins.push_back(nullptr);
        continue;
      }
      Value* v = g->find_value(name);
      if (!v) fail(label, ": input '", name, "' is not defined by any node, input or initializer");
      ins.push_back(v);
    }
    for (const auto& name : n.output()) outs.push_back(name.empty() ? nullptr : g->find_value(name));
    g->add_node(op, std::move(ins), std::move(outs), std::move(attrs), n.name(),
                static_cast<int>(opset));
  }
  for (const auto& out : gp.output()) {
    Value* v = g->find_value(out.name());
    if (!v) fail("graph output '", out.name(), "' is not produced by any node, input or initializer");
    g->outputs.push_back(v);
  }
  g->topo_sort();
  verify_graph(*g);
  fold_constant_nodes(*g);
  infer_shapes(*g);
  result.graph = std::move(g);
  return result;
}

LoadedModel load_onnx(const fs::path& path) {
  onnx::ModelProto m;
  parse_model_file(path, &m);
  fs::path dir = path.parent_path();
  if (dir.empty()) dir = ".";
  return import_model(m, dir);
}

LoadedModel load_onnx_from_memory(const void* data, size_t size) {
  onnx::ModelProto m;
  if (size > static_cast<size_t>(INT32_MAX) || !m.ParseFromArray(data, static_cast<int>(size))) {
    fail("buffer is not a valid ONNX model");
  }
  return import_model(m, {});
}

}  // namespace kiln::frontend
