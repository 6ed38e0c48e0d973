// kiln-run --devices cpu,opencl: one artifact per device, each compiled for its share of the
// batch; the batch (dim 0 of every input and output) is split between them, the devices run at
// once, and the outputs are concatenated in --devices order.
#pragma once

#include "tools/kiln-run/run_options.h"

namespace kiln::tools {

// Returns the exit code like the one-device run (0, or kExitMismatch against --expected).
int run_on_devices(const RunOptions& o);

}  // namespace kiln::tools
