// kilnc subcommands. Each returns the process exit code; errors are thrown as kiln::Error.
#pragma once

#include <string>
#include <vector>

namespace kiln::tools {
int kilnc_inspect(const std::vector<std::string>& args);
int kilnc_run(const std::vector<std::string>& args);
int kilnc_opt(const std::vector<std::string>& args);
int kilnc_compile(const std::vector<std::string>& args);
}  // namespace kiln::tools
