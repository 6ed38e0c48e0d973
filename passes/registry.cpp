#include "passes/registry.h"

#include "ir/error.h"

namespace kiln {

void PassContext::note(std::string_view pass, std::string line) {
  if (report.empty() || report.back().pass != pass) report.push_back({std::string(pass), {}});
  report.back().changes.push_back(std::move(line));
}

void PassContext::account(std::string_view pass, int64_t nodes_removed, int64_t bytes_saved) {
  if (report.empty() || report.back().pass != pass) report.push_back({std::string(pass), {}});
  report.back().nodes_removed += nodes_removed;
  report.back().bytes_saved += bytes_saved;
}

const std::vector<PassInfo>& registered_passes() {
  static const std::vector<PassInfo> passes = {
#define KILN_PASS(Name, Factory, Description) {Name, Description, &Factory},
#include "passes/passes.def"
#undef KILN_PASS
  };
  return passes;
}

std::unique_ptr<Pass> create_pass(std::string_view name) {
  std::string known;
  for (const PassInfo& p : registered_passes()) {
    if (p.name == name) return p.create();
    known += known.empty() ? "" : ", ";
    known += p.name;
  }
  fail("unknown pass '", name, "'; known passes: ", known);
}

}  // namespace kiln
