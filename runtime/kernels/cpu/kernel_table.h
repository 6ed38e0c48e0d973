// Optimized CPU kernels behind the reference-kernel signature, keyed by op: what the
// interpreter's fast mode and the trainer run. Each checks its own preconditions (f32, 2-D
// windows, shapes it handles) and runs the reference kernel itself for anything else, so a
// caller may always use cpu_kernel(op) when it is not null. Kernels split their work over
// KernelContext::pool when it is set; results never depend on the thread count.
#pragma once

#include "runtime/kernels/ref/kernel.h"

namespace kiln {

// The optimized kernel of `op`, or nullptr when there is none (use ref_kernel(op)).
KernelFn cpu_kernel(OpKind op);

}  // namespace kiln
