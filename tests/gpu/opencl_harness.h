// A test-only OpenCL executor for compiled OpenCL models: builds the CODE section on the first
// OpenCL device (PoCL here), runs the launch list with the device contract's argument convention
// (each launch arg = a buffer and a byte offset), runs host-fallback launches through the
// reference kernels, and returns the outputs. Independent of the runtime's driver so the
// codegen tests check the generated kernels alone.
#pragma once

#define CL_TARGET_OPENCL_VERSION 120
#include <cstring>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "codegen/cpu/cpu_compiler.h"
#include "ir/error.h"
#include "runtime/devices/opencl/cl_api.h"
#include "runtime/kernels/launch/builtins.h"
#include "runtime/kernels/launch/op_record.h"
#include "runtime/kernels/ref/evaluate.h"

namespace kiln::gpu_test {

inline void cl_check(cl_int err, const char* what) {
  if (err != CL_SUCCESS) fail("OpenCL: ", what, " failed (", err, ")");
}

class ClHarness {
 public:
  // The shared harness, or nullptr when no OpenCL platform/device exists (tests then skip).
  static ClHarness* get() {
    static std::unique_ptr<ClHarness> h = [] {
      cl_uint np = 0;
      try {
        opencl::cl();
      } catch (const Unsupported&) {
        return std::unique_ptr<ClHarness>();  // no ICD loader on this machine
      }
      if (opencl::cl().clGetPlatformIDs(0, nullptr, &np) != CL_SUCCESS || np == 0)
        return std::unique_ptr<ClHarness>();
      std::vector<cl_platform_id> ps(np);
      opencl::cl().clGetPlatformIDs(np, ps.data(), nullptr);
      for (cl_platform_id p : ps) {
        cl_device_id dev;
        cl_uint nd = 0;
        if (opencl::cl().clGetDeviceIDs(p, CL_DEVICE_TYPE_ALL, 1, &dev, &nd) == CL_SUCCESS &&
            nd > 0)
          return std::unique_ptr<ClHarness>(new ClHarness(dev));
      }
      return std::unique_ptr<ClHarness>();
    }();
    return h.get();
  }

  ~ClHarness() {
    opencl::cl().clReleaseCommandQueue(queue_);
    opencl::cl().clReleaseContext(ctx_);
  }

  // Builds `source`; fails with the first lines of the build log.
  cl_program build(const std::string& source) {
    const char* text = source.c_str();
    const size_t len = source.size();
    cl_int err;
    cl_program prog = opencl::cl().clCreateProgramWithSource(ctx_, 1, &text, &len, &err);
    cl_check(err, "clCreateProgramWithSource");
    if (opencl::cl().clBuildProgram(prog, 1, &dev_, "-cl-std=CL1.2 -cl-opt-disable", nullptr,
                                    nullptr) != CL_SUCCESS) {
      size_t n = 0;
      opencl::cl().clGetProgramBuildInfo(prog, dev_, CL_PROGRAM_BUILD_LOG, 0, nullptr, &n);
      std::string log(n, '\0');
      opencl::cl().clGetProgramBuildInfo(prog, dev_, CL_PROGRAM_BUILD_LOG, n, log.data(), nullptr);
      opencl::cl().clReleaseProgram(prog);
      fail("OpenCL build failed: ", log.substr(0, 2000));
    }
    return prog;
  }

  std::map<std::string, Tensor> run(const cpu_codegen::CompiledModel& m,
                                    const std::map<std::string, Tensor>& inputs) {
    const auto& meta = m.meta;
    KILN_CHECK(meta.code_format == artifact::CodeFormat::OpenClSource,
               "harness: not OpenCL source");
    cl_program prog = build(std::string(m.code.begin(), m.code.end()));
    Buffer weights = buffer(m.weights.size(), m.weights.empty() ? nullptr : m.weights.data());
    Buffer arena = buffer(meta.arena_bytes, nullptr);
    std::vector<Buffer> ins, outs;
    for (const auto& sig : meta.inputs) {
      const Tensor& t = inputs.at(sig.name);
      ins.push_back(buffer(t.nbytes(), t.raw()));
    }
    std::vector<Tensor> results;
    for (const auto& sig : meta.outputs) {
      results.emplace_back(sig.dtype, sig.dims);
      outs.push_back(buffer(results.back().nbytes(), nullptr));
    }
    auto mem_of = [&](const artifact::LaunchArg& a) -> cl_mem {
      switch (a.kind) {
        case artifact::BufferKind::Arena:
          return arena.mem;
        case artifact::BufferKind::Weights:
          return weights.mem;
        case artifact::BufferKind::Input:
          return ins.at(a.index).mem;
        case artifact::BufferKind::Output:
          return outs.at(a.index).mem;
      }
      return nullptr;
    };
    for (const auto& l : meta.launches) {
      if (l.symbol == "kiln_host_op") {
        host_op(l, m.weights, mem_of);
        continue;
      }
      cl_int err;
      cl_kernel k = opencl::cl().clCreateKernel(prog, l.symbol.c_str(), &err);
      cl_check(err, "clCreateKernel");
      for (size_t i = 0; i < l.args.size(); ++i) {
        cl_mem mem = mem_of(l.args[i]);
        const cl_ulong off = l.args[i].offset;
        cl_check(opencl::cl().clSetKernelArg(k, 2 * i, sizeof mem, &mem), "clSetKernelArg");
        cl_check(opencl::cl().clSetKernelArg(k, 2 * i + 1, sizeof off, &off), "clSetKernelArg");
      }
      KILN_CHECK(l.params.size() == 6, "harness: launch params");
      const size_t global[3] = {size_t(l.params[0]), size_t(l.params[1]), size_t(l.params[2])};
      const size_t local[3] = {size_t(l.params[3]), size_t(l.params[4]), size_t(l.params[5])};
      const bool driver_local = !local[0] && !local[1] && !local[2];
      cl_check(
          opencl::cl().clEnqueueNDRangeKernel(queue_, k, 3, nullptr, global,
                                              driver_local ? nullptr : local, 0, nullptr, nullptr),
          "clEnqueueNDRangeKernel");
      opencl::cl().clReleaseKernel(k);
    }
    for (size_t i = 0; i < results.size(); ++i)
      read(outs[i].mem, 0, results[i].nbytes(), results[i].raw());
    opencl::cl().clReleaseProgram(prog);
    std::map<std::string, Tensor> out;
    for (size_t i = 0; i < results.size(); ++i) out[meta.outputs[i].name] = std::move(results[i]);
    return out;
  }

 private:
  explicit ClHarness(cl_device_id dev) : dev_(dev) {
    cl_int err;
    ctx_ = opencl::cl().clCreateContext(nullptr, 1, &dev_, nullptr, nullptr, &err);
    cl_check(err, "clCreateContext");
    queue_ = opencl::cl().clCreateCommandQueue(ctx_, dev_, 0, &err);
    cl_check(err, "clCreateCommandQueue");
  }

  struct Buffer {
    cl_mem mem = nullptr;
    Buffer() = default;
    explicit Buffer(cl_mem m) : mem(m) {}
    Buffer(Buffer&& o) noexcept : mem(o.mem) { o.mem = nullptr; }
    Buffer& operator=(Buffer&& o) noexcept {
      std::swap(mem, o.mem);
      return *this;
    }
    ~Buffer() {
      if (mem) opencl::cl().clReleaseMemObject(mem);
    }
  };

  Buffer buffer(size_t bytes, const void* data) {
    cl_int err;
    const size_t n = bytes ? bytes : 1;
    cl_mem mem = opencl::cl().clCreateBuffer(ctx_, CL_MEM_READ_WRITE, n, nullptr, &err);
    cl_check(err, "clCreateBuffer");
    if (data && bytes)
      cl_check(opencl::cl().clEnqueueWriteBuffer(queue_, mem, CL_TRUE, 0, bytes, data, 0, nullptr,
                                                 nullptr),
               "clEnqueueWriteBuffer");
    return Buffer(mem);
  }

  void read(cl_mem mem, size_t off, size_t bytes, void* dst) {
    if (bytes)
      cl_check(opencl::cl().clEnqueueReadBuffer(queue_, mem, CL_TRUE, off, bytes, dst, 0, nullptr,
                                                nullptr),
               "clEnqueueReadBuffer");
  }

  // [op record, present inputs..., present outputs...]: run through the reference kernels.
  template <typename MemOf>
  void host_op(const artifact::Launch& l, const std::vector<uint8_t>& weights, MemOf&& mem_of) {
    const auto& rec_arg = l.args.at(0);
    uint64_t size = 0;
    std::memcpy(&size, weights.data() + rec_arg.offset, sizeof size);
    const launch::OpRecord rec = launch::decode_op_record(
        weights.data() + rec_arg.offset + launch::kOpRecordPrefixBytes, size, l.node_name);
    opencl::cl().clFinish(queue_);
    std::vector<Tensor> ins;
    size_t a = 1;
    for (const auto& t : rec.inputs) {
      if (!t.present) continue;
      ins.emplace_back(t.dtype, t.dims);
      read(mem_of(l.args.at(a)), l.args[a].offset, ins.back().nbytes(), ins.back().raw());
      ++a;
    }
    OpCall call;
    call.op = rec.op;
    call.opset = rec.opset;
    call.attrs = &rec.attrs;
    call.node_name = rec.node_name;
    size_t k = 0;
    for (const auto& t : rec.inputs) call.inputs.push_back(t.present ? &ins[k++] : nullptr);
    call.num_outputs = rec.outputs.size();
    std::vector<Tensor> outs = evaluate_op(call);
    for (size_t i = 0; i < rec.outputs.size(); ++i) {
      if (!rec.outputs[i].present) continue;
      const auto& arg = l.args.at(a++);
      if (outs[i].nbytes())
        cl_check(
            opencl::cl().clEnqueueWriteBuffer(queue_, mem_of(arg), CL_TRUE, arg.offset,
                                              outs[i].nbytes(), outs[i].raw(), 0, nullptr, nullptr),
            "clEnqueueWriteBuffer");
    }
  }

  cl_device_id dev_;
  cl_context ctx_ = nullptr;
  cl_command_queue queue_ = nullptr;
};

}  // namespace kiln::gpu_test
