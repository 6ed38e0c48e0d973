// Helpers of the pruning tests: seeded random weights (placeholder constants have ties) and
// running a prune pass with a spec.
#pragma once

#include <cmath>
#include <random>

#include "tests/passes/numeric_check.h"

namespace kiln::test {

// Replaces every f32 constant of rank >= 1 with seeded values in [-1, 1]; the same text and
// seed give the same weights, so two parses of one model stay identical.
inline std::unique_ptr<Graph> parse_random(const std::string& text, uint32_t seed = 7) {
  auto g = parse_graph(text, /*infer=*/true);
  std::mt19937 rng(seed);
  std::uniform_real_distribution<float> u(-1.0f, 1.0f);
  for (const auto& v : g->values()) {
    if (!v->constant || v->constant->dtype() != DType::F32 || v->constant->rank() == 0) continue;
    Tensor t(DType::F32, v->constant->dims());
    for (int64_t i = 0; i < t.numel(); ++i) t.data<float>()[i] = u(rng);
    v->constant = t;
  }
  // BatchNormalization variances must be positive.
  for (const auto& n : g->nodes()) {
    if (n->op != OpKind::BatchNormalization) continue;
    float* p = n->input(4)->constant->data<float>();
    for (int64_t i = 0; i < n->input(4)->constant->numel(); ++i) p[i] = std::fabs(p[i]) + 0.1f;
  }
  return g;
}

inline PassContext run_prune(Graph& g, const std::string& pass, const std::string& spec) {
  PassContext ctx;
  ctx.verify_after_each = true;
  ctx.prune_spec = spec;
  run_passes(g, {pass}, ctx);
  return ctx;
}

}  // namespace kiln::test
