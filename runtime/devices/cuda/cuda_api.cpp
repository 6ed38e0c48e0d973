#include "runtime/devices/cuda/cuda_api.h"

#include <dlfcn.h>

#include <cstdlib>
#include <mutex>

#include "ir/error.h"

namespace kiln::cuda_rt {
namespace {

// Opens the first library of `names` that loads; fails with `missing` (or returns null when
// `missing` is empty).
void* open_library(std::initializer_list<const char*> names, const std::string& missing) {
  for (const char* n : names) {
    if (void* h = ::dlopen(n, RTLD_NOW | RTLD_LOCAL)) return h;
  }
  fail(missing);
}

void* symbol(void* handle, const char* name, const char* library) {
  void* p = ::dlsym(handle, name);
  if (!p) fail(library, " lacks ", name, " (too old a version?)");
  return p;
}

#define KILN_CUDA_LOAD(name) \
  t.name = reinterpret_cast<decltype(t.name)>(symbol(handle, #name, library));

// Loads once; a failure is remembered and thrown again on every later call.
template <typename Table, typename Load>
const Table& load_once(Load&& load) {
  static Table table;
  static std::string error;
  static std::once_flag once;
  std::call_once(once, [&] {
    try {
      load(table);
    } catch (const Error& e) {
      error = e.what();
    }
  });
  if (!error.empty()) throw Error(error);
  return table;
}

}  // namespace

const DriverApi& driver() {
  return load_once<DriverApi>([](DriverApi& t) {
    const char* override_name = std::getenv("KILN_CUDA_DRIVER");
    const char* name = override_name && *override_name ? override_name : "libcuda.so.1";
    void* handle = ::dlopen(name, RTLD_NOW | RTLD_LOCAL);
    if (!handle) fail("no CUDA driver (", name, " not found)");
    const char* library = name;
    KILN_CUDA_DRIVER_FUNCTIONS(KILN_CUDA_LOAD)
    const CUresult rc = t.cuInit(0);
    if (rc == CUDA_ERROR_NO_DEVICE) fail("no CUDA device (cuInit: no CUDA-capable device)");
    if (rc != CUDA_SUCCESS) {
      const char* msg = nullptr;
      t.cuGetErrorString(rc, &msg);
      fail("no CUDA device (cuInit failed: ", msg ? msg : "unknown error", ")");
    }
  });
}

const CublasLtApi& cublaslt() {
  return load_once<CublasLtApi>([](CublasLtApi& t) {
    void* handle =
        open_library({"libcublasLt.so.13", "libcublasLt.so.12"},
                     "cuBLASLt not found (libcublasLt.so.13); the model's GEMMs need it");
    const char* library = "libcublasLt";
    KILN_CUBLASLT_FUNCTIONS(KILN_CUDA_LOAD)
  });
}

const CudnnApi& cudnn() {
  return load_once<CudnnApi>([](CudnnApi& t) {
    void* handle = open_library(
        {"libcudnn.so.9"}, "cuDNN not found (libcudnn.so.9); the model's convolutions need it");
    const char* library = "libcudnn";
    KILN_CUDNN_FUNCTIONS(KILN_CUDA_LOAD)
  });
}

void check(CUresult rc, const char* what) {
  if (rc == CUDA_SUCCESS) return;
  const char* msg = nullptr;
  driver().cuGetErrorString(rc, &msg);
  fail("CUDA ", what, ": ", msg ? msg : "unknown error", " (", static_cast<int>(rc), ")");
}

void check(cublasStatus_t rc, const char* what) {
  if (rc != CUBLAS_STATUS_SUCCESS) fail("cuBLASLt ", what, ": status ", static_cast<int>(rc));
}

void check(cudnnStatus_t rc, const char* what) {
  if (rc != CUDNN_STATUS_SUCCESS) fail("cuDNN ", what, ": ", cudnn().cudnnGetErrorString(rc));
}

}  // namespace kiln::cuda_rt
