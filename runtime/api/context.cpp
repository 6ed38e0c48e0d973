// kiln_context: the device models run on (CPU, OpenCL, or each artifact's own), and the thread
// pool CPU kernels run on.
#include <cstring>

#include "runtime/api/api_internal.h"

namespace kiln::api {

std::shared_ptr<device::Device> Context::opencl_device() const {
  std::lock_guard<std::mutex> lock(mutex_);
  if (!opencl_) opencl_ = device::open_opencl_device();
  return opencl_;
}

std::shared_ptr<device::Device> Context::cuda_device() const {
  std::lock_guard<std::mutex> lock(mutex_);
  if (!cuda_) cuda_ = device::open_cuda_device();
  return cuda_;
}

}  // namespace kiln::api

using kiln::api::fail_with;

extern "C" {

kiln_status* kiln_context_create(const kiln_context_options* options, kiln_context** out) {
  return kiln_context_create_for_device(options, nullptr, out);
}

kiln_status* kiln_context_create_for_device(const kiln_context_options* options,
                                            const char* device, kiln_context** out) {
  return kiln::api::guard(KILN_STATUS_INVALID_ARGUMENT, [&] {
    KILN_API_REQUIRE(out);
    *out = nullptr;
    const int32_t threads = options ? options->num_threads : 0;
    if (threads < 0 || threads > 4096) {
      fail_with(KILN_STATUS_INVALID_ARGUMENT, "kiln_context_create: num_threads ", threads,
                " is out of range (0 = all hardware threads, or 1..4096)");
    }
    using kiln::api::DeviceKind;
    DeviceKind kind = DeviceKind::Auto;
    if (device && *device && std::strcmp(device, "auto") != 0) {
      if (std::strcmp(device, "cpu") == 0) {
        kind = DeviceKind::Cpu;
      } else if (std::strcmp(device, "opencl") == 0) {
        kind = DeviceKind::OpenCl;
      } else if (std::strcmp(device, "cuda") == 0) {
        kind = DeviceKind::Cuda;
      } else {
        fail_with(KILN_STATUS_INVALID_ARGUMENT, "unknown device '", device,
                  "' (available: auto, cpu, opencl, cuda)");
      }
    }
    auto ctx = std::make_shared<kiln::api::Context>();
    ctx->pool = std::make_unique<kiln::ThreadPool>(threads);
    ctx->device = kind;
    // Asked for explicitly: fail now, with the reason, rather than at the first model.
    if (kind == DeviceKind::OpenCl) ctx->opencl_device();
    if (kind == DeviceKind::Cuda) ctx->cuda_device();
    *out = new kiln_context{std::move(ctx)};
  });
}

void kiln_context_destroy(kiln_context* context) { delete context; }

int32_t kiln_context_num_threads(const kiln_context* context) {
  return context ? context->impl->pool->num_threads() : 0;
}

const char* kiln_context_device(const kiln_context* context) {
  if (!context) return "";
  switch (context->impl->device) {
    case kiln::api::DeviceKind::Cpu:
      return "cpu";
    case kiln::api::DeviceKind::OpenCl:
      return "opencl";
    case kiln::api::DeviceKind::Cuda:
      return "cuda";
    case kiln::api::DeviceKind::Auto:
      break;
  }
  return "auto";
}

}  // extern "C"
