// Loads an artifact's code section (an ELF shared object held in memory) into the process and
// resolves kernel symbols in it. The bytes go to an anonymous memory file (memfd_create) opened
// with dlopen through /proc/self/fd; where that is unavailable, to a private temporary file that
// is unlinked right after dlopen. Each CodeModule is a separate copy: two models never share
// globals even when their code is identical.
#pragma once

#include <cstdint>
#include <string>

#include "kiln/kernel_abi.h"

namespace kiln::artifact {

class CodeModule {
 public:
  // Loads `size` bytes of ELF shared object; `what` names the artifact in errors. Checks that
  // the object exports kiln_kernel_abi_version equal to KILN_KERNEL_ABI_VERSION.
  CodeModule(const uint8_t* data, uint64_t size, const std::string& what);
  ~CodeModule();
  CodeModule(const CodeModule&) = delete;
  CodeModule& operator=(const CodeModule&) = delete;

  // The kernel named `symbol`; fails with one line if the object does not export it.
  kiln_kernel_fn kernel(const std::string& symbol) const;

 private:
  void* handle_ = nullptr;
  std::string what_;
};

}  // namespace kiln::artifact
