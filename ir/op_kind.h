// OpKind and the per-op traits, all expanded from ir/ops.def.
#pragma once

#include <cstdint>
#include <optional>
#include <string_view>

namespace kiln {

enum class OpKind : uint16_t {
#define KILN_OP(Name, ...) Name,
#include "ir/ops.def"
#undef KILN_OP
};

inline constexpr int kNumOps = 0
#define KILN_OP(Name, ...) +1
#include "ir/ops.def"
#undef KILN_OP
    ;

// How an op may be fused into its neighbours' loops (TVM's pattern kinds).
enum class FusionClass : uint8_t { Elementwise, Broadcast, Injective, Reduction, Opaque };
// Whether reduced-precision conversion computes the op in low precision.
enum class PrecisionPolicy : uint8_t { Always, Follow, Never };

inline constexpr int kVariadic = 1 << 30;

struct OpInfo {
  std::string_view name;
  FusionClass fusion;
  PrecisionPolicy fp16;
  PrecisionPolicy int8;
  bool has_gradient;
  int min_inputs, max_inputs, min_outputs, max_outputs;
};

const OpInfo& op_info(OpKind op);
inline std::string_view op_name(OpKind op) { return op_info(op).name; }
std::optional<OpKind> op_from_name(std::string_view name);
std::string_view fusion_class_name(FusionClass c);

}  // namespace kiln
