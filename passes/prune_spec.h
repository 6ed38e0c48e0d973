// The pruning spec shared by `kilnc compile --prune`, `kiln-train --prune` and the prune-*
// passes:
//   magnitude:R[:layer|:global]  zero the fraction R of the Conv/Gemm/MatMul weights with the
//                                smallest |w|, per weight tensor (default) or with one
//                                threshold across all of them
//   channel:R[:l1|:l2]           remove the fraction R of the output channels of every
//                                prunable channel group, lowest weight norm first (L1 default)
//   N:M                          keep the N largest |w| of every M consecutive weights along
//                                the reduction dim (e.g. 2:4)
// R is in (0, 1). Anything else fails with one line that says what was expected.
#pragma once

#include <string>
#include <string_view>

namespace kiln {

enum class PruneKind { Magnitude, Channel, NM };

struct PruneSpec {
  PruneKind kind = PruneKind::Magnitude;
  double ratio = 0.5;   // magnitude, channel: the fraction removed
  bool global = false;  // magnitude: one threshold across all weight tensors
  bool l2 = false;      // channel: rank channels by L2 instead of L1 norm
  int n = 2, m = 4;     // N:M: at most n nonzeros in every group of m
};

PruneSpec parse_prune_spec(std::string_view text);
std::string prune_spec_text(const PruneSpec& spec);  // the canonical spelling
// The registered pass that applies `kind`: prune-magnitude, prune-channel, prune-nm.
const char* prune_pass_name(PruneKind kind);

}  // namespace kiln

namespace kiln {

// The spec a prune-* pass runs with: `ctx_spec` (PassContext::prune_spec) when set, which must
// be of the pass's kind, else the kind's default (magnitude:0.5, channel:0.5, 2:4).
PruneSpec prune_spec_for_pass(std::string_view ctx_spec, PruneKind kind);

}  // namespace kiln
