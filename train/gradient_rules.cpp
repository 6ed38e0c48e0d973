#include "train/gradient_rules.h"

#include <array>

namespace kiln::train {

namespace {
std::array<GradFn, kNumOps> make_table() {
  std::array<GradFn, kNumOps> t{};
#define KILN_REGISTER_GRAD(Name) t[static_cast<size_t>(OpKind::Name)] = &grad_##Name;
  KILN_GRAD_RULES(KILN_REGISTER_GRAD)
#undef KILN_REGISTER_GRAD
  return t;
}
}  // namespace

GradFn gradient_rule(OpKind op) {
  static const std::array<GradFn, kNumOps> table = make_table();
  return table[static_cast<size_t>(op)];
}

}  // namespace kiln::train
