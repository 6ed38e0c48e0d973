/* The one contract between code that Kiln's code generators emit and the Kiln runtime.
 *
 * A `.kiln` artifact's CPU code section is a shared object. The runtime loads it, checks that it
 * exports `kiln_kernel_abi_version` equal to KILN_KERNEL_ABI_VERSION, and resolves every kernel
 * symbol named in the artifact's launch list once, at load time. A run then calls the kernels in
 * launch-list order. Plain C so that any code generator (LLVM IR, C source, hand-written tests)
 * can implement it. Bump the version on any change to this file's types or their meaning.
 */
#ifndef KILN_KERNEL_ABI_H_
#define KILN_KERNEL_ABI_H_

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define KILN_KERNEL_ABI_VERSION 1u

/* The symbol a code section must export: `const uint32_t kiln_kernel_abi_version = 1;`. */
#define KILN_KERNEL_ABI_VERSION_SYMBOL "kiln_kernel_abi_version"

typedef struct kiln_exec_ctx kiln_exec_ctx;

/* A body for parallel_for: processes indices [begin, end). `closure` is the kernel's own data. */
typedef void (*kiln_range_fn)(void* closure, int64_t begin, int64_t end);

/* What the runtime gives each kernel call. Valid only for the duration of that call. */
struct kiln_exec_ctx {
  uint32_t abi_version; /* KILN_KERNEL_ABI_VERSION */
  int32_t num_threads;  /* how many chunks parallel_for may split work into (>= 1) */
  /* Calls fn(closure, b, e) on disjoint contiguous chunks covering [0, n) and returns when all
   * are done; chunks may run on other threads. The partition depends only on (n, num_threads),
   * so a kernel whose per-index work is chunk-independent is deterministic. n <= 0 does nothing. */
  void (*parallel_for)(const kiln_exec_ctx* ctx, int64_t n, kiln_range_fn fn, void* closure);
  void* runtime; /* opaque to kernels */
};

/* A kernel. `buffers[i]` is the address of the launch entry's i-th argument (arena, weights,
 * input or output region, already offset). Arena, weight and output regions are 64-byte
 * aligned; inputs are aligned to at least their element size. `params` are the launch entry's
 * constant int64 parameters (may be NULL when there are none). Returns 0 on success; any other
 * value aborts the run and is reported with the kernel's node name. */
typedef int32_t (*kiln_kernel_fn)(void* const* buffers, const int64_t* params,
                                  const kiln_exec_ctx* ctx);

#ifdef __cplusplus
}
#endif

#endif /* KILN_KERNEL_ABI_H_ */
