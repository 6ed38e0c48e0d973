#include "runtime/devices/opencl/cl_api.h"

#include <dlfcn.h>

#include <cstdlib>
#include <mutex>
#include <string>

#include "ir/error.h"

namespace kiln::opencl {

namespace {

void load(OpenClApi& t) {
  const char* override_name = std::getenv("KILN_OPENCL_LIBRARY");
  const char* name = override_name && *override_name ? override_name : "libOpenCL.so.1";
  void* handle = ::dlopen(name, RTLD_NOW | RTLD_LOCAL);
  if (!handle) {
    fail_unsupported("no OpenCL ICD loader (", name,
                     " not found); install ocl-icd-libopencl1 and a driver such as "
                     "pocl-opencl-icd");
  }
#define KILN_OPENCL_LOAD(fn)                                     \
  t.fn = reinterpret_cast<decltype(t.fn)>(::dlsym(handle, #fn)); \
  if (!t.fn) fail_unsupported("the OpenCL ICD loader ", name, " lacks ", #fn);
  KILN_OPENCL_FUNCTIONS(KILN_OPENCL_LOAD)
#undef KILN_OPENCL_LOAD
}

}  // namespace

const OpenClApi& cl() {
  // Loaded once; a failure is remembered and thrown again on every call.
  static OpenClApi table;
  static std::string error;
  static std::once_flag once;
  std::call_once(once, [] {
    try {
      load(table);
    } catch (const Error& e) {
      error = e.what();
    }
  });
  if (!error.empty()) throw Unsupported(error);
  return table;
}

}  // namespace kiln::opencl
