#include "runtime/devices/opencl/cl_util.h"

#include <algorithm>
#include <cctype>
#include <cstdlib>
#include <vector>

namespace kiln::opencl {

const char* cl_error_name(cl_int code) {
  switch (code) {
#define KILN_CL_ERR(name) \
  case name:              \
    return #name;
    KILN_CL_ERR(CL_DEVICE_NOT_FOUND)
    KILN_CL_ERR(CL_DEVICE_NOT_AVAILABLE)
    KILN_CL_ERR(CL_COMPILER_NOT_AVAILABLE)
    KILN_CL_ERR(CL_MEM_OBJECT_ALLOCATION_FAILURE)
    KILN_CL_ERR(CL_OUT_OF_RESOURCES)
    KILN_CL_ERR(CL_OUT_OF_HOST_MEMORY)
    KILN_CL_ERR(CL_PROFILING_INFO_NOT_AVAILABLE)
    KILN_CL_ERR(CL_BUILD_PROGRAM_FAILURE)
    KILN_CL_ERR(CL_MAP_FAILURE)
    KILN_CL_ERR(CL_EXEC_STATUS_ERROR_FOR_EVENTS_IN_WAIT_LIST)
    KILN_CL_ERR(CL_INVALID_VALUE)
    KILN_CL_ERR(CL_INVALID_DEVICE_TYPE)
    KILN_CL_ERR(CL_INVALID_PLATFORM)
    KILN_CL_ERR(CL_INVALID_DEVICE)
    KILN_CL_ERR(CL_INVALID_CONTEXT)
    KILN_CL_ERR(CL_INVALID_QUEUE_PROPERTIES)
    KILN_CL_ERR(CL_INVALID_COMMAND_QUEUE)
    KILN_CL_ERR(CL_INVALID_HOST_PTR)
    KILN_CL_ERR(CL_INVALID_MEM_OBJECT)
    KILN_CL_ERR(CL_INVALID_BINARY)
    KILN_CL_ERR(CL_INVALID_BUILD_OPTIONS)
    KILN_CL_ERR(CL_INVALID_PROGRAM)
    KILN_CL_ERR(CL_INVALID_PROGRAM_EXECUTABLE)
    KILN_CL_ERR(CL_INVALID_KERNEL_NAME)
    KILN_CL_ERR(CL_INVALID_KERNEL_DEFINITION)
    KILN_CL_ERR(CL_INVALID_KERNEL)
    KILN_CL_ERR(CL_INVALID_ARG_INDEX)
    KILN_CL_ERR(CL_INVALID_ARG_VALUE)
    KILN_CL_ERR(CL_INVALID_ARG_SIZE)
    KILN_CL_ERR(CL_INVALID_KERNEL_ARGS)
    KILN_CL_ERR(CL_INVALID_WORK_DIMENSION)
    KILN_CL_ERR(CL_INVALID_WORK_GROUP_SIZE)
    KILN_CL_ERR(CL_INVALID_WORK_ITEM_SIZE)
    KILN_CL_ERR(CL_INVALID_GLOBAL_OFFSET)
    KILN_CL_ERR(CL_INVALID_EVENT_WAIT_LIST)
    KILN_CL_ERR(CL_INVALID_EVENT)
    KILN_CL_ERR(CL_INVALID_OPERATION)
    KILN_CL_ERR(CL_INVALID_BUFFER_SIZE)
    KILN_CL_ERR(CL_INVALID_GLOBAL_WORK_SIZE)
#undef KILN_CL_ERR
    case -1001:
      return "CL_PLATFORM_NOT_FOUND_KHR";
    default:
      return "unknown OpenCL error";
  }
}

void check_cl(cl_int code, const char* call) {
  if (code == CL_SUCCESS) return;
  std::string name(call);  // "cl().clFoo(args)" -> "clFoo"
  if (name.rfind("cl().", 0) == 0) name.erase(0, 5);
  name = name.substr(0, name.find('('));
  fail("OpenCL: ", name, " failed: ", cl_error_name(code), " (", code, ")");
}

namespace {

std::string lower(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return std::tolower(c); });
  return s;
}

bool matches(const std::string& name, const char* filter) {
  return !filter || !*filter || lower(name).find(lower(filter)) != std::string::npos;
}

std::string info_string(cl_platform_id p, cl_platform_info what) {
  size_t n = 0;
  if (cl().clGetPlatformInfo(p, what, 0, nullptr, &n) != CL_SUCCESS || n == 0) return "?";
  std::string s(n, '\0');
  cl().clGetPlatformInfo(p, what, n, s.data(), nullptr);
  return s.substr(0, s.find('\0'));
}

std::string info_string(cl_device_id d, cl_device_info what) {
  size_t n = 0;
  if (cl().clGetDeviceInfo(d, what, 0, nullptr, &n) != CL_SUCCESS || n == 0) return "?";
  std::string s(n, '\0');
  cl().clGetDeviceInfo(d, what, n, s.data(), nullptr);
  return s.substr(0, s.find('\0'));
}

}  // namespace

DeviceChoice choose_device() {
  cl_uint np = 0;
  const cl_int rc = cl().clGetPlatformIDs(0, nullptr, &np);
  if (rc != CL_SUCCESS || np == 0) {
    fail_unsupported("no OpenCL platform found (clGetPlatformIDs: ", cl_error_name(rc),
                     "); install an OpenCL driver such as pocl-opencl-icd");
  }
  std::vector<cl_platform_id> platforms(np);
  KILN_CL_CHECK(cl().clGetPlatformIDs(np, platforms.data(), nullptr));
  const char* want_platform = std::getenv("KILN_OPENCL_PLATFORM");
  const char* want_device = std::getenv("KILN_OPENCL_DEVICE");
  std::string seen;
  for (cl_platform_id p : platforms) {
    const std::string pname = info_string(p, CL_PLATFORM_NAME);
    cl_uint nd = 0;
    if (cl().clGetDeviceIDs(p, CL_DEVICE_TYPE_ALL, 0, nullptr, &nd) != CL_SUCCESS || nd == 0) {
      seen += (seen.empty() ? "" : ", ") + pname + " (no devices)";
      continue;
    }
    std::vector<cl_device_id> devices(nd);
    KILN_CL_CHECK(cl().clGetDeviceIDs(p, CL_DEVICE_TYPE_ALL, nd, devices.data(), nullptr));
    for (cl_device_id d : devices) {
      const std::string dname = info_string(d, CL_DEVICE_NAME);
      seen += (seen.empty() ? "" : ", ") + dname + " on " + pname;
      if (matches(pname, want_platform) && matches(dname, want_device)) return {p, d, pname, dname};
    }
  }
  fail_unsupported("no OpenCL device matches KILN_OPENCL_PLATFORM='",
                   want_platform ? want_platform : "", "' KILN_OPENCL_DEVICE='",
                   want_device ? want_device : "", "' (available: ", seen.empty() ? "none" : seen,
                   ")");
}

MemHandle create_buffer(cl_context ctx, cl_mem_flags flags, uint64_t bytes, const void* host) {
  cl_int err = CL_SUCCESS;
  if (host && bytes == 0) host = nullptr;
  if (host) flags |= CL_MEM_COPY_HOST_PTR;
  cl_mem m = cl().clCreateBuffer(ctx, flags, static_cast<size_t>(std::max<uint64_t>(bytes, 1)),
                                 const_cast<void*>(host), &err);
  check_cl(err, "clCreateBuffer");
  return MemHandle(m);
}

}  // namespace kiln::opencl
