// Small helpers over the OpenCL C API: error names, a checked-call macro, owning handles, and
// the platform/device choice.
#pragma once

#include <string>
#include <utility>

#include "ir/error.h"
#include "runtime/devices/opencl/cl_api.h"

namespace kiln::opencl {

const char* cl_error_name(cl_int code);

// Throws kiln::Error "OpenCL: <call> failed: CL_... (<code>)" when `code` is not CL_SUCCESS.
void check_cl(cl_int code, const char* call);
#define KILN_CL_CHECK(call) ::kiln::opencl::check_cl((call), #call)

// An owning OpenCL handle released with `Release`.
template <typename T, cl_int (*Release)(T)>
class Handle {
 public:
  Handle() = default;
  explicit Handle(T h) : h_(h) {}
  ~Handle() { reset(); }
  Handle(Handle&& o) noexcept : h_(std::exchange(o.h_, nullptr)) {}
  Handle& operator=(Handle&& o) noexcept {
    if (this != &o) {
      reset();
      h_ = std::exchange(o.h_, nullptr);
    }
    return *this;
  }
  Handle(const Handle&) = delete;
  Handle& operator=(const Handle&) = delete;
  T get() const { return h_; }
  void reset() {
    if (h_) Release(h_);
    h_ = nullptr;
  }

 private:
  T h_ = nullptr;
};

inline cl_int release_context(cl_context h) { return cl().clReleaseContext(h); }
inline cl_int release_queue(cl_command_queue h) { return cl().clReleaseCommandQueue(h); }
inline cl_int release_mem(cl_mem h) { return cl().clReleaseMemObject(h); }
inline cl_int release_program(cl_program h) { return cl().clReleaseProgram(h); }
inline cl_int release_kernel(cl_kernel h) { return cl().clReleaseKernel(h); }
inline cl_int release_event(cl_event h) { return cl().clReleaseEvent(h); }

using ContextHandle = Handle<cl_context, release_context>;
using QueueHandle = Handle<cl_command_queue, release_queue>;
using MemHandle = Handle<cl_mem, release_mem>;
using ProgramHandle = Handle<cl_program, release_program>;
using KernelHandle = Handle<cl_kernel, release_kernel>;
using EventHandle = Handle<cl_event, release_event>;

struct DeviceChoice {
  cl_platform_id platform = nullptr;
  cl_device_id device = nullptr;
  std::string platform_name, device_name;
};

// Applies KILN_OPENCL_PLATFORM / KILN_OPENCL_DEVICE; throws kiln::Unsupported with one line
// listing what exists when nothing matches or no platform is installed.
DeviceChoice choose_device();

// A device buffer of `bytes` (at least 1 byte: OpenCL refuses empty buffers).
MemHandle create_buffer(cl_context ctx, cl_mem_flags flags, uint64_t bytes,
                        const void* host = nullptr);

}  // namespace kiln::opencl
