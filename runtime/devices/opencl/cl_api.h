// The OpenCL C API as the runtime sees it: the ICD loader (libOpenCL.so.1) is opened with dlopen
// on first use, never linked, so the runtime and kiln-run start and run CPU models on machines
// without any OpenCL package (tests/runtime/test_runtime_link_deps.cpp checks `ldd`). Types and
// prototypes come from the Khronos headers at build time only.
#pragma once

#ifndef CL_TARGET_OPENCL_VERSION
#define CL_TARGET_OPENCL_VERSION 120
#endif
#include <CL/cl.h>

namespace kiln::opencl {

// clang-format off
#define KILN_OPENCL_FUNCTIONS(X) \
  X(clGetPlatformIDs) \
  X(clGetPlatformInfo) \
  X(clGetDeviceIDs) \
  X(clGetDeviceInfo) \
  X(clCreateContext) \
  X(clReleaseContext) \
  X(clCreateCommandQueue) \
  X(clReleaseCommandQueue) \
  X(clCreateBuffer) \
  X(clReleaseMemObject) \
  X(clCreateProgramWithSource) \
  X(clCreateProgramWithBinary) \
  X(clBuildProgram) \
  X(clGetProgramInfo) \
  X(clGetProgramBuildInfo) \
  X(clReleaseProgram) \
  X(clCreateKernel) \
  X(clGetKernelInfo) \
  X(clSetKernelArg) \
  X(clReleaseKernel) \
  X(clEnqueueNDRangeKernel) \
  X(clEnqueueReadBuffer) \
  X(clEnqueueWriteBuffer) \
  X(clFinish) \
  X(clWaitForEvents) \
  X(clGetEventProfilingInfo) \
  X(clReleaseEvent)
// clang-format on

#define KILN_OPENCL_DECLARE(name) decltype(&::name) name = nullptr;
struct OpenClApi {
  KILN_OPENCL_FUNCTIONS(KILN_OPENCL_DECLARE)
};
#undef KILN_OPENCL_DECLARE

// The loaded table, opened once per process. Throws kiln::Unsupported with one line when the ICD
// loader is absent ("no OpenCL ICD loader (libOpenCL.so.1 not found); install
// ocl-icd-libopencl1 and a driver such as pocl-opencl-icd") or lacks a function.
// KILN_OPENCL_LIBRARY names another library (tests use it to simulate a machine without one).
const OpenClApi& cl();

}  // namespace kiln::opencl
