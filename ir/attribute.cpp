#include "ir/attribute.h"

namespace kiln {

Attribute Attribute::of_int(int64_t v) { Attribute a; a.kind = Kind::Int; a.i = v; return a; }
Attribute Attribute::of_float(float v) { Attribute a; a.kind = Kind::Float; a.f = v; return a; }
Attribute Attribute::of_string(std::string v) {
  Attribute a; a.kind = Kind::String; a.s = std::move(v); return a;
}
Attribute Attribute::of_ints(std::vector<int64_t> v) {
  Attribute a; a.kind = Kind::Ints; a.ints = std::move(v); return a;
}
Attribute Attribute::of_floats(std::vector<float> v) {
  Attribute a; a.kind = Kind::Floats; a.floats = std::move(v); return a;
}
Attribute Attribute::of_strings(std::vector<std::string> v) {
  Attribute a; a.kind = Kind::Strings; a.strings = std::move(v); return a;
}
Attribute Attribute::of_tensor(kiln::Tensor v) {
  Attribute a; a.kind = Kind::Tensor; a.t = std::move(v); return a;
}
Attribute Attribute::of_graph(std::shared_ptr<kiln::Graph> v) {
  Attribute a; a.kind = Kind::Graph; a.g = std::move(v); return a;
}

const char* attribute_kind_name(Attribute::Kind k) {
  switch (k) {
    case Attribute::Kind::Int: return "int";
    case Attribute::Kind::Float: return "float";
    case Attribute::Kind::String: return "string";
    case Attribute::Kind::Tensor: return "tensor";
    case Attribute::Kind::Graph: return "graph";
    case Attribute::Kind::Ints: return "ints";
    case Attribute::Kind::Floats: return "floats";
    case Attribute::Kind::Strings: return "strings";
    case Attribute::Kind::Tensors: return "tensors";
    case Attribute::Kind::Graphs: return "graphs";
  }
  return "?";
}

const Attribute* Attributes::find(const std::string& name) const {
  auto it = map_.find(name);
  return it == map_.end() ? nullptr : &it->second;
}

const Attribute& Attributes::expect(const std::string& name, Attribute::Kind kind) const {
  const Attribute* a = find(name);
  KILN_CHECK(a, "missing required attribute '", name, "'");
  KILN_CHECK(a->kind == kind, "attribute '", name, "' is ", attribute_kind_name(a->kind),
             ", expected ", attribute_kind_name(kind));
  return *a;
}

int64_t Attributes::get_int(const std::string& name, int64_t def) const {
  return has(name) ? expect(name, Attribute::Kind::Int).i : def;
}
int64_t Attributes::get_int(const std::string& name) const {
  return expect(name, Attribute::Kind::Int).i;
}
float Attributes::get_float(const std::string& name, float def) const {
  if (!has(name)) return def;
  const Attribute* a = find(name);
  if (a->kind == Attribute::Kind::Int) return static_cast<float>(a->i);  // lenient, as ORT
  return expect(name, Attribute::Kind::Float).f;
}
std::string Attributes::get_string(const std::string& name, const std::string& def) const {
  return has(name) ? expect(name, Attribute::Kind::String).s : def;
}
std::vector<int64_t> Attributes::get_ints(const std::string& name,
                                          std::vector<int64_t> def) const {
  return has(name) ? expect(name, Attribute::Kind::Ints).ints : def;
}
std::vector<float> Attributes::get_floats(const std::string& name, std::vector<float> def) const {
  return has(name) ? expect(name, Attribute::Kind::Floats).floats : def;
}
std::vector<std::string> Attributes::get_strings(const std::string& name) const {
  return has(name) ? expect(name, Attribute::Kind::Strings).strings : std::vector<std::string>{};
}
const Tensor& Attributes::get_tensor(const std::string& name) const {
  return expect(name, Attribute::Kind::Tensor).t;
}

}  // namespace kiln
