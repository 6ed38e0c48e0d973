// Running the project's command-line tools from tests: exit code and captured output.
#pragma once

#include <sys/wait.h>

#include <array>
#include <cstdio>
#include <string>

namespace kiln::test {

struct CliResult {
  int code;         // exit status, -1 if the process did not exit normally
  std::string out;  // stdout, and stderr too unless the command redirects it itself
};

// Runs `cmd` through the shell. With `merge_stderr`, stderr is appended to stdout.
inline CliResult run_command(const std::string& cmd, bool merge_stderr = true) {
  CliResult r{-1, {}};
  FILE* p = popen((merge_stderr ? cmd + " 2>&1" : cmd).c_str(), "r");
  if (!p) return r;
  std::array<char, 4096> buf;
  size_t n;
  while ((n = fread(buf.data(), 1, buf.size(), p)) > 0) r.out.append(buf.data(), n);
  const int status = pclose(p);
  r.code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return r;
}

}  // namespace kiln::test
