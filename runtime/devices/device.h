// A device other than the host CPU that runs a loaded artifact's launch list (today: OpenCL).
// The C API (runtime/api) owns the artifact image, the bindings and the host output buffers; a
// device owns its memory, its compiled program and its queues. A DeviceModel is immutable once
// loaded and shared by every session of the model; each DeviceSession belongs to one session,
// so concurrent runs on different sessions never share mutable device state.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "runtime/artifact/artifact_reader.h"

namespace kiln {
class ThreadPool;
}

namespace kiln::device {

struct LaunchTiming {
  uint64_t start_ns = 0;  // from the start of the run
  uint64_t duration_ns = 0;
};

class DeviceSession {
 public:
  virtual ~DeviceSession() = default;
  // Copies the inputs (host, one per model input, the model's byte sizes) to the device, runs
  // every launch in order and copies the outputs back into `outputs` (host, one per model
  // output). Fills `profile` (one entry per launch) when it is not null. Throws kiln::Error
  // naming the failing launch.
  virtual void run(const void* const* inputs, void* const* outputs,
                   std::vector<LaunchTiming>* profile) = 0;
};

class DeviceModel {
 public:
  virtual ~DeviceModel() = default;
  virtual std::unique_ptr<DeviceSession> create_session() const = 0;
};

class Device {
 public:
  virtual ~Device() = default;
  virtual const char* kind() const = 0;           // "opencl"
  virtual std::string description() const = 0;  // "OpenCL: <device> (<platform>)"
  // Builds the artifact's program and uploads its weights. `parsed` and `pool` (host fallback
  // ops run on it) must outlive the result; `what` names the artifact in errors.
  virtual std::unique_ptr<DeviceModel> load(const artifact::ParsedArtifact& parsed,
                                            const std::string& what, ThreadPool* pool) = 0;
};

// The OpenCL device picked by KILN_OPENCL_PLATFORM / KILN_OPENCL_DEVICE (case-insensitive
// substrings of the names; default: the first device of the first platform). Throws
// kiln::Unsupported with one line when there is none, or when this runtime was built without
// OpenCL.
std::shared_ptr<Device> open_opencl_device();

// The CUDA GPU picked by KILN_CUDA_DEVICE (ordinal, default 0), driver and libraries loaded
// with dlopen. Throws kiln::Unsupported with one line when there is no driver ("no CUDA driver
// (libcuda.so.1 not found)") or no device, or when this runtime was built without CUDA.
std::shared_ptr<Device> open_cuda_device();

}  // namespace kiln::device
