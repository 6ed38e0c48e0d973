// The CUDA driver of the runtime (device::Device "cuda"): runs a CUDA `.kiln` artifact
// (runtime/artifact/cuda_code.h; launch list as in the device contract) on an NVIDIA GPU.
// - the device: the primary context of the GPU chosen by env KILN_CUDA_DEVICE (ordinal,
//   default 0), opened once per kiln_context;
// - a model: the module (the cubin built for the device's architecture, else the PTX,
//   JIT-compiled by the driver), every kernel resolved, launch geometry fixed, weights uploaded
//   once;
// - a session: device arena from the memory plan, a device buffer per input and output, pinned
//   host staging, one stream, the library plans (cuBLASLt, cuDNN), and the whole launch list
//   (uploads, kernels, library calls, host fallbacks through cuLaunchHostFunc, downloads)
//   captured into a CUDA graph on the first run and replayed after. A profiled run enqueues
//   the list eagerly with an event pair around each launch.
// Everything CUDA is loaded with dlopen (cuda_api.h): without a driver or a device, opening
// fails with one line ("no CUDA driver (libcuda.so.1 not found)", "no CUDA device ...").
#pragma once

#include "runtime/devices/device.h"

namespace kiln::cuda_rt {

// Whether the last session created in this process replays a CUDA graph (false when a
// library refused capture and the launch list is enqueued each run). For tests and reports.
bool last_session_uses_graph();

}  // namespace kiln::cuda_rt
