#include "ir/op_kind.h"

#include <array>
#include <string>
#include <unordered_map>

namespace kiln {

namespace {
constexpr int V = kVariadic;
using enum FusionClass;
using enum PrecisionPolicy;

constexpr std::array<OpInfo, kNumOps> kOpInfos = {{
#define KILN_OP(Name, Fusion, Fp16, Int8, Grad, MinIn, MaxIn, MinOut, MaxOut) \
  {#Name, Fusion, Fp16, Int8, Grad != 0, MinIn, MaxIn, MinOut, MaxOut},
#include "ir/ops.def"
#undef KILN_OP
}};
static_assert(kOpInfos.size() == static_cast<size_t>(kNumOps));
}  // namespace

const OpInfo& op_info(OpKind op) { return kOpInfos[static_cast<size_t>(op)]; }

std::optional<OpKind> op_from_name(std::string_view name) {
  static const std::unordered_map<std::string, OpKind> table = [] {
    std::unordered_map<std::string, OpKind> t;
    for (int i = 0; i < kNumOps; ++i) t.emplace(std::string(kOpInfos[i].name), OpKind(i));
    return t;
  }();
  auto it = table.find(std::string(name));
  if (it == table.end()) return std::nullopt;
  return it->second;
}

std::string_view fusion_class_name(FusionClass c) {
  switch (c) {
    case Elementwise: return "elementwise";
    case Broadcast: return "broadcast";
    case Injective: return "injective";
    case Reduction: return "reduction";
    case Opaque: return "opaque";
  }
  return "?";
}

}  // namespace kiln
