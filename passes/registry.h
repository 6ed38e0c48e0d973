// Pass registry: stable text names to pass factories, expanded from passes/passes.def.
#pragma once

#include <memory>
#include <string_view>
#include <vector>

#include "passes/pass.h"

namespace kiln {

struct PassInfo {
  std::string_view name;
  std::string_view description;
  std::unique_ptr<Pass> (*create)();
};

// All passes, in passes.def order.
const std::vector<PassInfo>& registered_passes();
// Fails with the list of known pass names when `name` is not registered.
std::unique_ptr<Pass> create_pass(std::string_view name);

#define KILN_PASS(Name, Factory, Description) std::unique_ptr<Pass> Factory();
#include "passes/passes.def"
#undef KILN_PASS

}  // namespace kiln
