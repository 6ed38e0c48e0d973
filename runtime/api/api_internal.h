// What the C API's opaque handles hold, and the exception-to-status boundary every entry point
// goes through. Internal to runtime/api.
#pragma once

#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "ir/error.h"
#include "kiln/kernel_abi.h"
#include "kiln/kiln.h"
#include "runtime/artifact/artifact_reader.h"
#include "runtime/artifact/code_loader.h"
#include "runtime/devices/device.h"
#include "runtime/threadpool/thread_pool.h"

namespace kiln::api {

// An error with an explicit status code (others map by type: see guard).
class ApiError : public Error {
 public:
  ApiError(kiln_status_code code, const std::string& msg) : Error(msg), code(code) {}
  kiln_status_code code;
};

template <typename... Args>
[[noreturn]] void fail_with(kiln_status_code code, const Args&... args) {
  throw ApiError(code, cat(args...));
}

kiln_status* make_status(kiln_status_code code, const std::string& message) noexcept;

// Runs `body`, turning any exception into a status: ApiError keeps its code, Unsupported gives
// KILN_STATUS_UNSUPPORTED, other kiln::Errors `error_code`, bad_alloc out-of-memory.
template <typename Body>
kiln_status* guard(kiln_status_code error_code, Body&& body) noexcept {
  try {
    body();
    return nullptr;
  } catch (const ApiError& e) {
    return make_status(e.code, e.what());
  } catch (const Unsupported& e) {
    return make_status(KILN_STATUS_UNSUPPORTED, e.what());
  } catch (const Error& e) {
    return make_status(error_code, e.what());
  } catch (const std::bad_alloc&) {
    return make_status(KILN_STATUS_OUT_OF_MEMORY, "out of memory");
  } catch (const std::exception& e) {
    return make_status(KILN_STATUS_INTERNAL, std::string("internal error: ") + e.what());
  } catch (...) {
    return make_status(KILN_STATUS_INTERNAL, "internal error: unknown exception");
  }
}

#define KILN_API_REQUIRE(ptr) \
  if (!(ptr)) ::kiln::api::fail_with(KILN_STATUS_INVALID_ARGUMENT, __func__, ": ", #ptr, " is null")

// Where a context runs models: Auto runs each artifact on the device it was compiled for.
enum class DeviceKind { Auto, Cpu, OpenCl, Cuda };

struct Context {
  std::unique_ptr<ThreadPool> pool;  // CPU kernels, and host-fallback ops of device models
  DeviceKind device = DeviceKind::Auto;
  // The OpenCL device, opened on first use (at creation for DeviceKind::OpenCl) and shared by
  // every model loaded through this context.
  std::shared_ptr<device::Device> opencl_device() const;
  std::shared_ptr<device::Device> cuda_device() const;  // likewise, the CUDA GPU

 private:
  mutable std::mutex mutex_;
  mutable std::shared_ptr<device::Device> opencl_;
  mutable std::shared_ptr<device::Device> cuda_;
};

// A loaded model: the file image, what the reader made of it, the code, the kernels resolved.
struct Model {
  std::shared_ptr<const Context> context;
  std::string what;                   // "'path'" for messages
  std::shared_ptr<const void> image;  // keeps the mapping or the copy alive
  artifact::ParsedArtifact parsed;
  std::unique_ptr<artifact::CodeModule> code;  // CPU artifacts
  std::vector<kiln_kernel_fn> kernels;          // one per launch (CPU)
  std::shared_ptr<device::Device> device;       // device artifacts: where they run
  std::unique_ptr<device::DeviceModel> device_model;
  std::string device_description;             // "cpu" or the device's description
  std::vector<uint64_t> input_bytes, output_bytes;

  const artifact::ArtifactMeta& meta() const { return parsed.meta; }
};

// Parses, checks CPU features, loads the code and resolves every kernel. `image` owns `data`.
std::shared_ptr<const Model> load_model(std::shared_ptr<const Context> context,
                                        std::shared_ptr<const void> image, const uint8_t* data,
                                        uint64_t size, std::string what);

}  // namespace kiln::api

struct kiln_status {
  kiln_status_code code;
  std::string message;
};
struct kiln_context {
  std::shared_ptr<const kiln::api::Context> impl;
};
struct kiln_model {
  std::shared_ptr<const kiln::api::Model> impl;
};
