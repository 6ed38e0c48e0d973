// TRANSITIONAL (removed once every row of ops.def has its functions): weak definitions so the
// tree links while op groups are filled in. Each reports the op as unsupported.
#include "ir/infer.h"
#include "runtime/kernels/ref/kernel.h"

namespace kiln {
#define KILN_OP(Name, ...)                                                          \
  __attribute__((weak)) void infer_##Name(InferContext& ctx) {                      \
    (void)ctx;                                                                      \
    fail_unsupported(#Name ": no shape inference in this build");                    \
  }                                                                                 \
  __attribute__((weak)) void ref_##Name(KernelContext& ctx) {                       \
    (void)ctx;                                                                      \
    fail_unsupported(#Name ": no reference kernel in this build");                   \
  }
#include "ir/ops.def"
#undef KILN_OP
}  // namespace kiln
