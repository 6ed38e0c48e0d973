// One session's OpenCL state and a run: inputs up, launches in order on an in-order queue
// (device kernels enqueued; host-fallback ops read their regions back, run on the host through
// the runtime's kernel library and write their outputs back), outputs down.
#include <chrono>
#include <cstdlib>
#include <cstring>

#include "runtime/devices/opencl/opencl_model.h"
#include "runtime/kernels/launch/builtins.h"

namespace kiln::opencl {
namespace {

using artifact::BufferKind;

struct FreeDeleter {
  void operator()(void* p) const { std::free(p); }
};
using HostBuffer = std::unique_ptr<uint8_t, FreeDeleter>;

HostBuffer host_alloc(uint64_t bytes) {
  void* p = std::aligned_alloc(64, (bytes + 63) / 64 * 64 + 64);
  if (!p) throw std::bad_alloc();
  return HostBuffer(static_cast<uint8_t*>(p));
}

uint64_t event_time(cl_event e, cl_profiling_info what) {
  cl_ulong t = 0;
  KILN_CL_CHECK(cl().clGetEventProfilingInfo(e, what, sizeof t, &t, nullptr));
  return t;
}

class OpenClSession : public device::DeviceSession {
 public:
  explicit OpenClSession(const OpenClModel& m) : m_(m) {
    const cl_context ctx = m.device->context();
    cl_int err = CL_SUCCESS;
    // Profiling stays on: its cost is a few timestamps per launch, and a session may be asked
    // for a profile at any run.
    queue_ = QueueHandle(
        cl().clCreateCommandQueue(ctx, m.device->id(), CL_QUEUE_PROFILING_ENABLE, &err));
    check_cl(err, "clCreateCommandQueue");
    const auto& meta = m.parsed.meta;
    arena_ = create_buffer(ctx, CL_MEM_READ_WRITE, meta.arena_bytes);
    for (uint64_t b : m.input_bytes) inputs_.push_back(create_buffer(ctx, CL_MEM_READ_ONLY, b));
    for (uint64_t b : m.output_bytes) outputs_.push_back(create_buffer(ctx, CL_MEM_READ_WRITE, b));
    kernels_.resize(meta.launches.size());
    host_scratch_.resize(meta.launches.size());
    for (size_t l = 0; l < meta.launches.size(); ++l) {
      const auto& launch = meta.launches[l];
      if (m.is_host_op[l]) {
        host_scratch_[l].resize(launch.args.size());
        continue;
      }
      kernels_[l] = KernelHandle(cl().clCreateKernel(m.program.get(), launch.symbol.c_str(), &err));
      check_cl(err, "clCreateKernel");
      for (size_t a = 0; a < launch.args.size(); ++a) {
        const cl_mem buf = buffer(launch.args[a].kind, launch.args[a].index);
        const cl_ulong off = launch.args[a].offset;
        const cl_uint i = static_cast<cl_uint>(2 * a);
        KILN_CL_CHECK(cl().clSetKernelArg(kernels_[l].get(), i, sizeof buf, &buf));
        KILN_CL_CHECK(cl().clSetKernelArg(kernels_[l].get(), i + 1, sizeof off, &off));
      }
    }
  }

  void run(const void* const* inputs, void* const* outputs,
           std::vector<device::LaunchTiming>* profile) override {
    try {
      run_launches(inputs, outputs, profile);
    } catch (...) {
      cl().clFinish(queue_.get());  // nothing may still read the caller's memory
      throw;
    }
  }

 private:
  cl_mem buffer(BufferKind kind, uint32_t index) const {
    switch (kind) {
      case BufferKind::Arena:
        return arena_.get();
      case BufferKind::Weights:
        return m_.weights.get();
      case BufferKind::Input:
        return inputs_[index].get();
      case BufferKind::Output:
        return outputs_[index].get();
    }
    return nullptr;
  }

  void run_launches(const void* const* inputs, void* const* outputs,
                    std::vector<device::LaunchTiming>* profile) {
    const auto& meta = m_.parsed.meta;
    const cl_command_queue q = queue_.get();
    for (size_t i = 0; i < inputs_.size(); ++i) {
      if (m_.input_bytes[i]) {
        KILN_CL_CHECK(cl().clEnqueueWriteBuffer(q, inputs_[i].get(), CL_FALSE, 0, m_.input_bytes[i],
                                                inputs[i], 0, nullptr, nullptr));
      }
    }
    using Clock = std::chrono::steady_clock;
    const Clock::time_point t0 = Clock::now();
    auto since_t0 = [&] {
      return static_cast<uint64_t>(
          std::chrono::duration_cast<std::chrono::nanoseconds>(Clock::now() - t0).count());
    };
    if (profile) {
      KILN_CL_CHECK(cl().clFinish(q));  // launch 0 starts with the inputs on the device
      profile->assign(meta.launches.size(), {});
    }
    for (size_t l = 0; l < meta.launches.size(); ++l) {
      const auto& launch = meta.launches[l];
      const uint64_t start = profile ? since_t0() : 0;
      if (m_.is_host_op[l]) {
        run_host_op(l, inputs);
        if (profile) (*profile)[l] = {start, since_t0() - start};
        continue;
      }
      const auto& p = launch.params;
      const size_t global[3] = {static_cast<size_t>(p[0]), static_cast<size_t>(p[1]),
                                static_cast<size_t>(p[2])};
      const size_t local[3] = {static_cast<size_t>(p[3]), static_cast<size_t>(p[4]),
                               static_cast<size_t>(p[5])};
      const bool driver_local = !local[0] && !local[1] && !local[2];
      cl_event ev = nullptr;
      const cl_int err = cl().clEnqueueNDRangeKernel(q, kernels_[l].get(), 3, nullptr, global,
                                                     driver_local ? nullptr : local, 0, nullptr,
                                                     profile ? &ev : nullptr);
      if (err != CL_SUCCESS) {
        fail(launch.op, " '", launch.node_name, "': launching OpenCL kernel '", launch.symbol,
             "' failed: ", cl_error_name(err), " (", err, ")");
      }
      if (profile) {
        EventHandle event(ev);
        KILN_CL_CHECK(cl().clWaitForEvents(1, &ev));
        // Device time of the kernel itself, placed where the host issued it.
        const uint64_t dur =
            event_time(ev, CL_PROFILING_COMMAND_END) - event_time(ev, CL_PROFILING_COMMAND_START);
        (*profile)[l] = {start, dur};
      }
    }
    for (size_t i = 0; i < outputs_.size(); ++i) {
      if (m_.output_bytes[i]) {
        KILN_CL_CHECK(cl().clEnqueueReadBuffer(q, outputs_[i].get(), CL_FALSE, 0,
                                               m_.output_bytes[i], outputs[i], 0, nullptr,
                                               nullptr));
      }
    }
    const cl_int err = cl().clFinish(q);
    if (err != CL_SUCCESS) fail("OpenCL: the run failed on the device: ", cl_error_name(err));
  }

  // Reads the op's input regions to the host (weights and model inputs are used in place), runs
  // the CPU `op` builtin on them and writes the outputs back. Blocking calls on the in-order
  // queue order it after the kernels before it and before the ones after it.
  void run_host_op(size_t l, const void* const* inputs) {
    const auto& launch = m_.parsed.meta.launches[l];
    const size_t first_output = 1 + m_.host_ops[l].num_inputs;
    const cl_command_queue q = queue_.get();
    std::vector<void*> ptrs(launch.args.size());
    auto& scratch = host_scratch_[l];
    for (size_t a = 0; a < launch.args.size(); ++a) {
      const auto& arg = launch.args[a];
      if (arg.kind == BufferKind::Weights) {
        ptrs[a] = const_cast<uint8_t*>(m_.parsed.weights + arg.offset);
      } else if (arg.kind == BufferKind::Input) {
        ptrs[a] = static_cast<uint8_t*>(const_cast<void*>(inputs[arg.index])) + arg.offset;
      } else {
        if (!scratch[a]) scratch[a] = host_alloc(arg.bytes);
        ptrs[a] = scratch[a].get();
        if (a < first_output && arg.bytes) {
          KILN_CL_CHECK(cl().clEnqueueReadBuffer(q, buffer(arg.kind, arg.index), CL_TRUE,
                                                 arg.offset, arg.bytes, ptrs[a], 0, nullptr,
                                                 nullptr));
        }
      }
    }
    launch::RunState state;
    state.pool = m_.pool;
    const kiln_exec_ctx ctx = launch::make_exec_ctx(&state);
    if (launch::builtin_table()->op(ptrs.data(), nullptr, &ctx) != 0) {
      fail(launch.op, " '", launch.node_name,
           "' failed: ", state.error.empty() ? "the host op reported an error" : state.error);
    }
    for (size_t a = first_output; a < launch.args.size(); ++a) {
      const auto& arg = launch.args[a];
      if (!arg.bytes) continue;
      KILN_CL_CHECK(cl().clEnqueueWriteBuffer(q, buffer(arg.kind, arg.index), CL_TRUE, arg.offset,
                                              arg.bytes, ptrs[a], 0, nullptr, nullptr));
    }
  }

  const OpenClModel& m_;
  QueueHandle queue_;
  MemHandle arena_;
  std::vector<MemHandle> inputs_, outputs_;
  std::vector<KernelHandle> kernels_;                  // per launch; empty for host ops
  std::vector<std::vector<HostBuffer>> host_scratch_;  // per host op launch, per arg
};

}  // namespace

std::unique_ptr<device::DeviceSession> OpenClModel::create_session() const {
  return std::make_unique<OpenClSession>(*this);
}

}  // namespace kiln::opencl
