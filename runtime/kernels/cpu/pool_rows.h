// Internal: MaxPool planes in input order, for the stride-2 windows networks use (2x2/2 after a
// conv, 3x3/2 after a stem). window_plane walks one column strip down a plane at a time, which
// re-reads wide planes from L2 once per strip and pays a call per plane on narrow ones; pooling
// is a pass over memory (a few max per input element), so its speed is how well it streams.
// This path reads each output row's input rows left to right, plane after plane, so the reads
// are one sequential stream the hardware prefetcher follows, and takes a whole range of planes
// per call. Same results as window_plane's Max, bit for bit (max is exact).
#pragma once

#include <cstdint>

#include "runtime/kernels/cpu/sliding_window.h"

namespace kiln::cpu {

// Runs planes [0, planes) of x (H x W each) into y (OH x OW each) and returns true when `isa`
// has a body for the window: KW 2 or 3, stride_w 2, dilation 1, any KH / stride_h / padding.
// Otherwise returns false and writes nothing. A window with no in-bounds tap gives -inf.
bool max_pool_rows(Isa isa, const PlaneWindow& g, int64_t planes, const float* x, float* y);

bool max_pool_rows_avx512(const PlaneWindow& g, int64_t planes, const float* x, float* y);

}  // namespace kiln::cpu
