#include "frontend/onnx_exporter.h"

#include <onnx/onnx_pb.h>

#include <fstream>
#include <set>

#include "frontend/onnx_tensor.h"
#include "frontend/onnx_types.h"

namespace kiln::frontend {

namespace fs = std::filesystem;

namespace {
void attribute_to_onnx(const std::string& name, const Attribute& a, onnx::AttributeProto* out) {
  using AP = onnx::AttributeProto;
  out->set_name(name);
  switch (a.kind) {
    case Attribute::Kind::Int: out->set_type(AP::INT); out->set_i(a.i); break;
    case Attribute::Kind::Float: out->set_type(AP::FLOAT); out->set_f(a.f); break;
    case Attribute::Kind::String: out->set_type(AP::STRING); out->set_s(a.s); break;
    case Attribute::Kind::Ints:
      out->set_type(AP::INTS);
      for (int64_t v : a.ints) out->add_ints(v);
      break;
    case Attribute::Kind::Floats:
      out->set_type(AP::FLOATS);
      for (float v : a.floats) out->add_floats(v);
      break;
    case Attribute::Kind::Strings:
      out->set_type(AP::STRINGS);
      for (const auto& v : a.strings) out->add_strings(v);
      break;
    case Attribute::Kind::Tensor:
      out->set_type(AP::TENSOR);
      tensor_to_onnx(a.t, "", out->mutable_t());
      break;
    case Attribute::Kind::Tensors:
      out->set_type(AP::TENSORS);
      for (const auto& t : a.tensors) tensor_to_onnx(t, "", out->add_tensors());
      break;
    case Attribute::Kind::Graph:
    case Attribute::Kind::Graphs:
      fail("attribute '", name, "': exporting subgraphs is not supported");
  }
}

void value_info(const Value* v, onnx::ValueInfoProto* out) {
  out->set_name(v->name());
  if (v->type.dtype != DType::Undefined) value_type_to_onnx(v->type, out->mutable_type());
}
}  // namespace

int64_t ir_version_for_opset(int opset) {
  if (opset <= 8) return 3;
  if (opset == 9) return 4;
  if (opset == 10) return 5;
  if (opset == 11) return 6;
  if (opset <= 14) return 7;
  if (opset <= 18) return 8;
  if (opset <= 20) return 9;
  if (opset <= 22) return 10;
  return 11;
}

void export_model(const Graph& g, onnx::ModelProto* m) {
  m->set_ir_version(ir_version_for_opset(g.opset));
  m->set_producer_name("kiln");
  m->set_producer_version("0.1.0");
  auto* os = m->add_opset_import();
  os->set_domain("");
  os->set_version(g.opset);
  auto* gp = m->mutable_graph();
  gp->set_name(g.name);
  for (const Value* v : g.inputs) value_info(v, gp->add_input());
  std::set<const Value*> io(g.inputs.begin(), g.inputs.end());
  for (const Value* v : g.outputs) {
    value_info(v, gp->add_output());
    io.insert(v);
  }
  for (const auto& v : g.values()) {
    if (v->constant) {
      tensor_to_onnx(*v->constant, v->name(), gp->add_initializer());
    } else if (!io.count(v.get()) && v->producer() && v->type.dtype != DType::Undefined) {
      value_info(v.get(), gp->add_value_info());
    }
  }
  bool kiln_ops = false;
  for (const auto& n : g.nodes()) {
    KILN_CHECK(n->opset == 0 || n->opset == g.opset, n->label(), ": node opset ", n->opset,
               " differs from the graph's ", g.opset, "; cannot export");
    auto* np = gp->add_node();
    np->set_op_type(std::string(op_name(n->op)));
    // Kiln-internal ops (fused, training) are not ONNX: they go in Kiln's own domain.
    if (is_kiln_internal_op(n->op)) {
      np->set_domain(kKilnDomain);
      kiln_ops = true;
    }
    if (!n->name.empty()) np->set_name(n->name);
    for (const Value* v : n->inputs()) np->add_input(v ? v->name() : "");
    // Trailing absent outputs are simply omitted.
    size_t n_out = n->outputs().size();
    while (n_out > 0 && !n->output(n_out - 1)) --n_out;
    for (size_t i = 0; i < n_out; ++i) np->add_output(n->output(i) ? n->output(i)->name() : "");
    for (const auto& [k, a] : n->attrs.all()) attribute_to_onnx(k, a, np->add_attribute());
  }
  if (kiln_ops) {
    auto* ko = m->add_opset_import();
    ko->set_domain(kKilnDomain);
    ko->set_version(1);
  }
}

void save_onnx(const Graph& g, const fs::path& path) {
  onnx::ModelProto m;
  export_model(g, &m);
  const fs::path tmp = path.string() + ".tmp";
  {
    std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
    if (!out) fail("cannot write '", tmp.string(), "'");
    if (!m.SerializeToOstream(&out)) fail("cannot serialize the model to '", tmp.string(), "'");
    out.close();
    if (!out) fail("error writing '", tmp.string(), "'");
  }
  std::error_code ec;
  fs::rename(tmp, path, ec);
  if (ec) fail("cannot move '", tmp.string(), "' to '", path.string(), "': ", ec.message());
}

}  // namespace kiln::frontend
