// The runtime's kernel library as seen by generated code: the table of builtins declared in
// kiln/kernel_abi.h, and the per-run state a kiln_exec_ctx points at.
#pragma once

#include <string>

#include "kiln/kernel_abi.h"

namespace kiln {
class ThreadPool;
}

namespace kiln::launch {

// What kiln_exec_ctx::runtime points at during one run.
struct RunState {
  ThreadPool* pool = nullptr;  // never null
  std::string error;           // set by report_error when a kernel fails
};

const kiln_builtin_table* builtin_table();

// A context for one run; `state` must outlive every kernel call made with it.
kiln_exec_ctx make_exec_ctx(RunState* state);

// The byte layout the `op` builtin expects at buffers[0]: a u64 length, then the record. Codegen
// writes it with this prefix so the builtin can bound its reads.
inline constexpr size_t kOpRecordPrefixBytes = 8;

}  // namespace kiln::launch
