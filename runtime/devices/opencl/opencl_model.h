// The OpenCL driver's loaded model and its sessions (runtime/devices/device.h).
//
// Load: the program is built once from the artifact's source or binary ("-cl-std=CL1.2"), every
// kernel symbol is checked against its launch (2 parameters per argument: buffer, byte offset),
// the WEIGHTS section is uploaded once into a read-only buffer, and each host-fallback launch's
// op record is decoded. A session owns its command queue, arena, input and output buffers and
// its own kernel objects with their arguments set once (clSetKernelArg is not thread-safe on a
// shared kernel), so sessions of one model run concurrently without locks.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "runtime/devices/device.h"
#include "runtime/devices/opencl/cl_util.h"

namespace kiln::opencl {

class OpenClDevice;

struct HostOp {           // a kiln_host_op launch
  size_t num_inputs = 0;  // present inputs after the record; the rest of the args are outputs
};

class OpenClModel : public device::DeviceModel {
 public:
  OpenClModel(std::shared_ptr<const OpenClDevice> device, const artifact::ParsedArtifact& parsed,
              const std::string& what, ThreadPool* pool);
  std::unique_ptr<device::DeviceSession> create_session() const override;

  const std::shared_ptr<const OpenClDevice> device;
  const artifact::ParsedArtifact& parsed;
  const std::string what;
  ThreadPool* const pool;
  ProgramHandle program;
  MemHandle weights;
  std::vector<HostOp> host_ops;  // per launch; meaningful where is_host_op
  std::vector<bool> is_host_op;
  std::vector<uint64_t> input_bytes, output_bytes;
};

class OpenClDevice : public device::Device, public std::enable_shared_from_this<OpenClDevice> {
 public:
  explicit OpenClDevice(DeviceChoice choice);
  const char* kind() const override { return "opencl"; }
  std::string description() const override;
  std::unique_ptr<device::DeviceModel> load(const artifact::ParsedArtifact& parsed,
                                            const std::string& what, ThreadPool* pool) override;

  cl_context context() const { return context_.get(); }
  cl_device_id id() const { return choice_.device; }

 private:
  DeviceChoice choice_;
  ContextHandle context_;
};

// Builds a program from source or binary for `device`; a failed build throws one line with the
// first lines of the build log.
ProgramHandle build_program(const OpenClDevice& device, const artifact::ParsedArtifact& parsed,
                            const std::string& what);

}  // namespace kiln::opencl
