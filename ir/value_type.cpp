#include "ir/value_type.h"

namespace kiln {

std::string Dim::to_string() const {
  if (is_static()) return std::to_string(value);
  return symbol.empty() ? "?" : symbol;
}

Shape Shape::of(const Dims& d) {
  Shape s;
  s.rank_known = true;
  for (int64_t v : d) s.dims.push_back(Dim::of(v));
  return s;
}

Shape Shape::of_rank(size_t rank) {
  Shape s;
  s.rank_known = true;
  s.dims.resize(rank);
  return s;
}

bool Shape::is_static() const {
  if (!rank_known) return false;
  for (const Dim& d : dims)
    if (!d.is_static()) return false;
  return true;
}

Dims Shape::static_dims() const {
  KILN_CHECK(is_static(), "shape ", to_string(), " is not static");
  Dims d;
  for (const Dim& x : dims) d.push_back(x.value);
  return d;
}

std::string Shape::to_string() const {
  if (!rank_known) return "[*]";
  std::string s = "[";
  for (size_t i = 0; i < dims.size(); ++i) {
    if (i) s += ',';
    s += dims[i].to_string();
  }
  return s + "]";
}

std::string ValueType::to_string() const {
  std::string s = std::string(dtype_name(dtype)) + shape.to_string();
  if (quant) {
    s += "{q:";
    if (quant->axis >= 0) s += "axis=" + std::to_string(quant->axis) + ",";
    s += std::to_string(quant->scale.size()) + " scales}";
  }
  return s;
}

}  // namespace kiln
