#include "passes/node_traits.h"

#include <algorithm>
#include <array>
#include <cstring>
#include <string_view>

#include "ir/graph.h"

namespace kiln {

bool is_inference_dropout(const Node& n) {
  if (n.op != OpKind::Dropout) return false;
  if (n.opset < 12) return true;
  const Value* ratio = n.input(1);
  if (ratio && ratio->is_constant() && ratio->constant->numel() == 1 &&
      ratio->constant->as_double(0) == 0.0)
    return true;
  const Value* training = n.input(2);
  if (!training) return true;
  return training->is_constant() && training->constant->numel() == 1 &&
         training->constant->as_int64(0) == 0;
}

bool is_nondeterministic(const Node& n) {
  // Not yet in ops.def; matched by name so they are covered the day they are added.
  static constexpr std::array<std::string_view, 6> kRandomOps = {
      "RandomNormal", "RandomUniform", "RandomNormalLike", "RandomUniformLike", "Multinomial",
      "Bernoulli"};
  if (n.op == OpKind::Dropout) return !is_inference_dropout(n);
  return std::find(kRandomOps.begin(), kRandomOps.end(), op_name(n.op)) != kRandomOps.end();
}

static bool floats_equal(const std::vector<float>& a, const std::vector<float>& b) {
  return a.size() == b.size() &&
         (a.empty() || std::memcmp(a.data(), b.data(), a.size() * sizeof(float)) == 0);
}

static bool tensors_equal(const Tensor& a, const Tensor& b) {
  return a.dtype() == b.dtype() && a.dims() == b.dims() && a.bytes_equal(b);
}

static bool attribute_equal(const Attribute& a, const Attribute& b) {
  if (a.kind != b.kind) return false;
  using K = Attribute::Kind;
  switch (a.kind) {
    case K::Int: return a.i == b.i;
    case K::Float: return std::memcmp(&a.f, &b.f, sizeof(float)) == 0;
    case K::String: return a.s == b.s;
    case K::Tensor: return tensors_equal(a.t, b.t);
    case K::Graph: return a.g == b.g;
    case K::Ints: return a.ints == b.ints;
    case K::Floats: return floats_equal(a.floats, b.floats);
    case K::Strings: return a.strings == b.strings;
    case K::Tensors:
      return a.tensors.size() == b.tensors.size() &&
             std::equal(a.tensors.begin(), a.tensors.end(), b.tensors.begin(), tensors_equal);
    case K::Graphs: return a.graphs == b.graphs;
  }
  return false;
}

bool attributes_equal(const Attributes& a, const Attributes& b) {
  const auto &ma = a.all(), &mb = b.all();
  if (ma.size() != mb.size()) return false;
  for (auto ia = ma.begin(), ib = mb.begin(); ia != ma.end(); ++ia, ++ib) {
    if (ia->first != ib->first || !attribute_equal(ia->second, ib->second)) return false;
  }
  return true;
}

}  // namespace kiln
