#include "runtime/devices/cuda/cuda_device.h"

#include <atomic>
#include <chrono>
#include <cstdlib>
#include <cstring>

#include "kiln/kernel_abi.h"
#include "runtime/artifact/cuda_code.h"
#include "runtime/devices/cuda/cuda_api.h"
#include "runtime/devices/cuda/library_launch.h"
#include "runtime/devices/cuda/library_ops.h"
#include "runtime/kernels/launch/builtins.h"
#include "runtime/kernels/launch/op_record.h"

namespace kiln::cuda_rt {

using artifact::BufferKind;
using artifact::Launch;

namespace {

constexpr char kHostOpSymbol[] = "kiln_host_op";
constexpr uint64_t kStagingAlign = 256;

uint64_t align_up(uint64_t v, uint64_t a) { return (v + a - 1) / a * a; }

// Largest divisor of n that is at most `limit` (>= 1).
int64_t divisor_at_most(int64_t n, int64_t limit) {
  for (int64_t d = std::min(n, limit); d > 1; --d)
    if (n % d == 0) return d;
  return 1;
}

int device_ordinal() {
  const char* env = std::getenv("KILN_CUDA_DEVICE");
  if (!env || !*env) return 0;
  char* end = nullptr;
  const long v = std::strtol(env, &end, 10);
  if (*end != '\0' || v < 0 || v > 1024)
    fail("KILN_CUDA_DEVICE='", env, "' is not a device ordinal");
  return static_cast<int>(v);
}

// The primary context of the chosen device, retained while the device object lives.
struct DeviceInfo {
  CUdevice dev = 0;
  CUcontext ctx = nullptr;
  int ordinal = 0;
  uint32_t arch = 0;  // 90 for compute capability 9.0
  std::string name;
};

DeviceInfo open_device() {
  const DriverApi& cu = driver();
  int count = 0;
  check(cu.cuDeviceGetCount(&count), "device count");
  if (count == 0) fail("no CUDA device (the driver reports none)");
  DeviceInfo d;
  d.ordinal = device_ordinal();
  if (d.ordinal >= count)
    fail("no CUDA device ", d.ordinal, " (KILN_CUDA_DEVICE; the machine has ", count, ")");
  check(cu.cuDeviceGet(&d.dev, d.ordinal), "get device");
  int major = 0, minor = 0;
  check(cu.cuDeviceGetAttribute(&major, CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MAJOR, d.dev),
        "compute capability");
  check(cu.cuDeviceGetAttribute(&minor, CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MINOR, d.dev),
        "compute capability");
  d.arch = static_cast<uint32_t>(major * 10 + minor);
  char name[256] = {};
  check(cu.cuDeviceGetName(name, sizeof name - 1, d.dev), "device name");
  d.name = name;
  check(cu.cuDevicePrimaryCtxRetain(&d.ctx, d.dev), "retain primary context");
  return d;
}

struct Geometry {
  unsigned grid[3] = {1, 1, 1}, block[3] = {1, 1, 1};
};

// OpenCL-style global/local sizes to a CUDA grid. Driver-chosen locals (all 0) become blocks
// that divide the global sizes exactly, so kernels need no bounds guard.
Geometry geometry_of(const Launch& l, const std::string& what) {
  Geometry g;
  const bool driver_local = l.params[3] == 0 && l.params[4] == 0 && l.params[5] == 0;
  int64_t budget = 256;
  for (int d = 0; d < 3; ++d) {
    const int64_t global = l.params[d];
    int64_t local = l.params[3 + d];
    if (driver_local) {
      local = divisor_at_most(global, budget);
      budget = std::max<int64_t>(1, budget / local);
    }
    if (global < 1 || local < 1 || global % local != 0)
      fail(what, ": kernel '", l.symbol, "' has invalid work size in dim ", d);
    const int64_t groups = global / local;
    const int64_t max_groups = d == 0 ? (int64_t{1} << 31) - 1 : 65535;
    if (groups > max_groups || local > 1024)
      fail(what, ": kernel '", l.symbol, "': ", groups, " blocks of ", local, " threads in dim ", d,
           " exceed CUDA's grid limits");
    g.grid[d] = static_cast<unsigned>(groups);
    g.block[d] = static_cast<unsigned>(local);
  }
  if (int64_t{g.block[0]} * g.block[1] * g.block[2] > 1024)
    fail(what, ": kernel '", l.symbol, "' has more than 1024 threads per block");
  return g;
}

class ScopedContext {
 public:
  explicit ScopedContext(CUcontext ctx) { check(driver().cuCtxSetCurrent(ctx), "set context"); }
};

class CudaDevice final : public device::Device, public std::enable_shared_from_this<CudaDevice> {
 public:
  CudaDevice() : info(open_device()) {
    int version = 0;
    check(driver().cuDriverGetVersion(&version), "driver version");
    description_ = cat("CUDA: ", info.name, " (sm_", info.arch, "), driver ", version / 1000, ".",
                       (version % 1000) / 10);
  }
  ~CudaDevice() override { driver().cuDevicePrimaryCtxRelease_v2(info.dev); }
  const char* kind() const override { return "cuda"; }
  std::string description() const override { return description_; }
  std::unique_ptr<device::DeviceModel> load(const artifact::ParsedArtifact& parsed,
                                            const std::string& what, ThreadPool* pool) override;

  DeviceInfo info;

 private:
  std::string description_;
};

class CudaModel {
 public:
  CudaModel(std::shared_ptr<CudaDevice> dev, const artifact::ParsedArtifact& parsed,
            const std::string& what)
      : owner(std::move(dev)), meta(parsed.meta), what(what), host_weights(parsed.weights) {
    const std::vector<artifact::CudaBlob> blobs =
        artifact::decode_cuda_code(parsed.code, parsed.code_bytes, what);
    // Validate the launch list before loading anything onto the GPU.
    for (const Launch& l : meta.launches) {
      if (l.symbol == kHostOpSymbol) {
        const uint64_t off = l.args[0].offset;
        uint64_t size = 0;
        if (l.args[0].bytes < launch::kOpRecordPrefixBytes)
          fail(what, ": host op record too small");
        std::memcpy(&size, host_weights + off, sizeof size);
        if (size > l.args[0].bytes - launch::kOpRecordPrefixBytes)
          fail(what, ": host op record of '", l.node_name, "' overruns its region");
        const launch::OpRecord rec =
            launch::decode_op_record(host_weights + off + launch::kOpRecordPrefixBytes, size, what);
        if (l.args.size() != 1 + rec.present_inputs() + rec.present_outputs())
          fail(what, ": host op '", l.node_name, "' has ", l.args.size(), " args, its record ",
               1 + rec.present_inputs() + rec.present_outputs());
        host_inputs.push_back(rec.present_inputs());
      } else if (cuda_launch::is_library_symbol(l.symbol.data(), l.symbol.size())) {
        check_library_launch(l.symbol, l.params, l.args.size(), what);
        host_inputs.push_back(0);
      } else {
        if (l.params.size() != 6)
          fail(what, ": CUDA kernel '", l.symbol, "' has ", l.params.size(), " params, expected 6");
        host_inputs.push_back(0);
      }
    }
    geometry.resize(meta.launches.size());
    for (size_t i = 0; i < meta.launches.size(); ++i) {
      const Launch& l = meta.launches[i];
      if (l.symbol != kHostOpSymbol &&
          !cuda_launch::is_library_symbol(l.symbol.data(), l.symbol.size()))
        geometry[i] = geometry_of(l, what);
    }

    try {
      load_to_device(parsed, blobs);
    } catch (...) {
      free_device();  // the destructor does not run for a constructor that throws
      throw;
    }
  }

  void load_to_device(const artifact::ParsedArtifact& parsed,
                      const std::vector<artifact::CudaBlob>& blobs) {
    const DeviceInfo& device = owner->info;
    ScopedContext scoped(device.ctx);
    const DriverApi& cu = driver();
    // The newest cubin the device runs (same major version, minor no newer), else PTX no newer
    // than the device, which the driver JIT-compiles.
    const artifact::CudaBlob* chosen = nullptr;
    for (const auto& b : blobs)
      if (b.kind == artifact::CudaBlobKind::Cubin && b.arch / 10 == device.arch / 10 &&
          b.arch <= device.arch && (!chosen || b.arch > chosen->arch))
        chosen = &b;
    for (const auto& b : blobs)
      if (!chosen && b.kind == artifact::CudaBlobKind::Ptx && b.arch <= device.arch) chosen = &b;
    if (!chosen) {
      std::string have;
      for (const auto& b : blobs)
        have += cat(have.empty() ? "" : ", ",
                    b.kind == artifact::CudaBlobKind::Ptx ? "compute_" : "sm_", b.arch);
      fail(what, ": built for ", have, "; the device '", device.name, "' is sm_", device.arch,
           " (recompile with --cuda-arch sm_", device.arch, ")");
    }
    char log[4096] = {};
    CUjit_option opts[] = {CU_JIT_ERROR_LOG_BUFFER, CU_JIT_ERROR_LOG_BUFFER_SIZE_BYTES};
    void* values[] = {log, reinterpret_cast<void*>(sizeof log - 1)};
    const CUresult rc = cu.cuModuleLoadDataEx(&module, chosen->data, 2, opts, values);
    if (rc != CUDA_SUCCESS) {
      const char* msg = nullptr;
      cu.cuGetErrorString(rc, &msg);
      std::string first(log);
      first = first.substr(0, first.find('\n'));
      fail(what, ": cannot load the CUDA module: ", msg ? msg : "error",
           first.empty() ? "" : " (" + first + ")");
    }
    functions.resize(meta.launches.size(), nullptr);
    for (size_t i = 0; i < meta.launches.size(); ++i) {
      const Launch& l = meta.launches[i];
      if (l.symbol == kHostOpSymbol ||
          cuda_launch::is_library_symbol(l.symbol.data(), l.symbol.size()))
        continue;
      if (cu.cuModuleGetFunction(&functions[i], module, l.symbol.c_str()) != CUDA_SUCCESS)
        fail(what, ": the CUDA module has no kernel '", l.symbol, "'");
    }
    weights_bytes = parsed.weights_bytes;
    check(cu.cuMemAlloc_v2(&weights, std::max<uint64_t>(weights_bytes, 1)), "allocate weights");
    if (weights_bytes)
      check(cu.cuMemcpyHtoD_v2(weights, host_weights, weights_bytes), "upload weights");
  }

  ~CudaModel() { free_device(); }

  void free_device() noexcept {
    const DriverApi& cu = driver();
    cu.cuCtxSetCurrent(owner->info.ctx);
    if (weights) cu.cuMemFree_v2(weights);
    if (module) cu.cuModuleUnload(module);
    weights = 0;
    module = nullptr;
  }

  CUcontext ctx() const { return owner->info.ctx; }

  std::shared_ptr<CudaDevice> owner;
  artifact::ArtifactMeta meta;
  std::string what;
  const uint8_t* host_weights;
  std::vector<Geometry> geometry;
  std::vector<size_t> host_inputs;  // per launch: present inputs of a host op
  CUmodule module = nullptr;
  std::vector<CUfunction> functions;
  CUdeviceptr weights = 0;
  uint64_t weights_bytes = 0;
};

std::atomic<bool> g_last_uses_graph{false};

class CudaSession final : public device::DeviceSession {
 public:
  // One host-fallback launch: where its buffers live in pinned staging, and the call itself.
  struct HostOp {
    struct Copy {
      CUdeviceptr device;
      uint8_t* host;
      uint64_t bytes;
    };
    CudaSession* session = nullptr;
    size_t launch = 0;
    std::vector<void*> buffers;  // what the op builtin sees: record, inputs, outputs (host)
    std::vector<Copy> downloads, uploads;
  };

  std::shared_ptr<const CudaModel> model;
  ThreadPool* pool;
  CUstream stream = nullptr;
  CUdeviceptr arena = 0, workspace = 0, zeros = 0;
  size_t workspace_bytes = 0;
  std::vector<CUdeviceptr> inputs, outputs;
  uint8_t* pinned = nullptr;
  std::vector<uint8_t*> pinned_inputs, pinned_outputs;
  std::vector<uint64_t> input_bytes, output_bytes;
  LibraryHandles handles;
  std::vector<std::unique_ptr<LibraryOp>> library;   // per launch, null unless a library launch
  std::vector<std::vector<CUdeviceptr>> arg_ptrs;    // per launch: resolved device addresses
  std::vector<std::vector<uint64_t>> kernel_values;  // per kernel launch: base, offset, ...
  std::vector<std::vector<void*>> kernel_params;
  std::vector<std::unique_ptr<HostOp>> host_ops;
  CUgraphExec graph = nullptr;
  bool tried_capture = false;
  std::string host_error;

  CUdeviceptr base(BufferKind kind, uint32_t index) const {
    switch (kind) {
      case BufferKind::Arena:
        return arena;
      case BufferKind::Weights:
        return model->weights;
      case BufferKind::Input:
        return inputs[index];
      case BufferKind::Output:
        return outputs[index];
    }
    return 0;
  }

  static void CUDA_CB run_host_op(void* user) {
    auto* op = static_cast<HostOp*>(user);
    CudaSession& s = *op->session;
    launch::RunState state;
    state.pool = s.pool;
    const kiln_exec_ctx ctx = launch::make_exec_ctx(&state);
    if (launch::builtin_table()->op(op->buffers.data(), nullptr, &ctx) != 0 &&
        s.host_error.empty()) {
      const Launch& l = s.model->meta.launches[op->launch];
      s.host_error = cat(l.op, " '", l.node_name, "' failed: ", state.error);
    }
  }

  // `events` (profiled runs): one pair recorded around each launch.
  void enqueue(std::vector<CUevent>* events = nullptr) {
    const DriverApi& cu = driver();
    const auto& meta = model->meta;
    for (size_t i = 0; i < inputs.size(); ++i)
      if (input_bytes[i])
        check(cu.cuMemcpyHtoDAsync_v2(inputs[i], pinned_inputs[i], input_bytes[i], stream),
              "upload input");
    size_t host_k = 0, kernel_k = 0;
    for (size_t i = 0; i < meta.launches.size(); ++i) {
      const Launch& l = meta.launches[i];
      if (events) check(cu.cuEventRecord((*events)[2 * i], stream), "record event");
      if (library[i]) {
        library[i]->enqueue(arg_ptrs[i], workspace, workspace_bytes, zeros, stream);
      } else if (l.symbol == kHostOpSymbol) {
        HostOp& op = *host_ops[host_k++];
        for (const auto& c : op.downloads)
          check(cu.cuMemcpyDtoHAsync_v2(c.host, c.device, c.bytes, stream), "download");
        check(cu.cuLaunchHostFunc(stream, &run_host_op, &op), "host function");
        for (const auto& c : op.uploads)
          check(cu.cuMemcpyHtoDAsync_v2(c.device, c.host, c.bytes, stream), "upload");
      } else {
        const Geometry& g = model->geometry[i];
        check(cu.cuLaunchKernel(model->functions[i], g.grid[0], g.grid[1], g.grid[2], g.block[0],
                                g.block[1], g.block[2], 0, stream, kernel_params[kernel_k++].data(),
                                nullptr),
              "launch kernel");
      }
      if (events) check(cu.cuEventRecord((*events)[2 * i + 1], stream), "record event");
    }
    for (size_t i = 0; i < outputs.size(); ++i)
      if (output_bytes[i])
        check(cu.cuMemcpyDtoHAsync_v2(pinned_outputs[i], outputs[i], output_bytes[i], stream),
              "download output");
  }

  // Captures the launch list into a graph once. A library that refuses capture leaves the
  // session enqueueing eagerly, which gives the same results.
  void capture() {
    tried_capture = true;
    const DriverApi& cu = driver();
    if (cu.cuStreamBeginCapture_v2(stream, CU_STREAM_CAPTURE_MODE_THREAD_LOCAL) != CUDA_SUCCESS)
      return;
    bool ok = true;
    try {
      enqueue();
    } catch (const Error&) {
      ok = false;
    }
    CUgraph g = nullptr;
    ok = cu.cuStreamEndCapture(stream, &g) == CUDA_SUCCESS && ok && g;
    if (ok && cu.cuGraphInstantiateWithFlags(&graph, g, 0) != CUDA_SUCCESS) graph = nullptr;
    if (g) cu.cuGraphDestroy(g);
  }

  CudaSession(std::shared_ptr<const CudaModel> m, ThreadPool* p);
  ~CudaSession() override;
  void allocate();          // device buffers, pinned staging, stream, library plans
  void release() noexcept;  // frees whatever allocate() got
  void run(const void* const* inputs, void* const* outputs,
           std::vector<device::LaunchTiming>* profile) override;
};

CudaSession::CudaSession(std::shared_ptr<const CudaModel> loaded, ThreadPool* host_pool) {
  model = std::move(loaded);
  pool = host_pool;
  try {
    allocate();
  } catch (...) {
    release();  // the destructor does not run for a constructor that throws
    throw;
  }
}

void CudaSession::allocate() {
  CudaSession& s = *this;
  const CudaModel& m = *s.model;
  const DriverApi& cu = driver();
  ScopedContext scoped(m.ctx());
  check(cu.cuStreamCreate(&s.stream, CU_STREAM_NON_BLOCKING), "create stream");
  check(cu.cuMemAlloc_v2(&s.arena, std::max<uint64_t>(m.meta.arena_bytes, 1)), "allocate arena");
  // Pinned staging: inputs, outputs, then each host op's buffers, 256-byte aligned.
  uint64_t pinned_bytes = 0;
  auto reserve = [&](uint64_t bytes) {
    const uint64_t at = pinned_bytes;
    pinned_bytes = align_up(pinned_bytes + std::max<uint64_t>(bytes, 1), kStagingAlign);
    return at;
  };
  std::vector<uint64_t> in_at, out_at;
  for (const auto& t : m.meta.inputs) {
    s.input_bytes.push_back(artifact::signature_bytes(t, m.what));
    in_at.push_back(reserve(s.input_bytes.back()));
  }
  for (const auto& t : m.meta.outputs) {
    s.output_bytes.push_back(artifact::signature_bytes(t, m.what));
    out_at.push_back(reserve(s.output_bytes.back()));
  }
  std::vector<std::vector<uint64_t>> host_at(m.meta.launches.size());
  for (size_t i = 0; i < m.meta.launches.size(); ++i) {
    const Launch& l = m.meta.launches[i];
    if (l.symbol != kHostOpSymbol) continue;
    for (size_t a = 1; a < l.args.size(); ++a) host_at[i].push_back(reserve(l.args[a].bytes));
  }
  check(cu.cuMemHostAlloc(reinterpret_cast<void**>(&s.pinned), std::max<uint64_t>(pinned_bytes, 1),
                          0),
        "allocate pinned host memory");
  for (size_t i = 0; i < in_at.size(); ++i) {
    CUdeviceptr p = 0;
    check(cu.cuMemAlloc_v2(&p, std::max<uint64_t>(s.input_bytes[i], 1)), "allocate input");
    s.inputs.push_back(p);
    s.pinned_inputs.push_back(s.pinned + in_at[i]);
  }
  for (size_t i = 0; i < out_at.size(); ++i) {
    CUdeviceptr p = 0;
    check(cu.cuMemAlloc_v2(&p, std::max<uint64_t>(s.output_bytes[i], 1)), "allocate output");
    s.outputs.push_back(p);
    s.pinned_outputs.push_back(s.pinned + out_at[i]);
  }
  // Resolve every launch once: device addresses, kernel parameter blocks, library plans.
  size_t zero_bytes = 0;
  for (size_t i = 0; i < m.meta.launches.size(); ++i) {
    const Launch& l = m.meta.launches[i];
    std::vector<CUdeviceptr> ptrs;
    for (const auto& a : l.args) ptrs.push_back(s.base(a.kind, a.index) + a.offset);
    s.arg_ptrs.push_back(ptrs);
    s.library.emplace_back();
    if (l.symbol == kHostOpSymbol) {
      auto op = std::make_unique<HostOp>();
      op->session = &s;
      op->launch = i;
      op->buffers.push_back(const_cast<uint8_t*>(m.host_weights + l.args[0].offset));
      const size_t n_in = m.host_inputs[i];
      for (size_t a = 1; a < l.args.size(); ++a) {
        const auto& arg = l.args[a];
        const bool is_input = a <= n_in;
        if (is_input && arg.kind == BufferKind::Weights) {
          op->buffers.push_back(const_cast<uint8_t*>(m.host_weights + arg.offset));
          continue;
        }
        uint8_t* host = s.pinned + host_at[i][a - 1];
        op->buffers.push_back(host);
        if (arg.bytes)  // empty tensors: nothing to copy (a 0-byte copy may not be captured)
          (is_input ? op->downloads : op->uploads).push_back({ptrs[a], host, arg.bytes});
      }
      s.host_ops.push_back(std::move(op));
    } else if (cuda_launch::is_library_symbol(l.symbol.data(), l.symbol.size())) {
      s.library.back() = plan_library_op(l.symbol, l.params, s.handles, s.stream);
      s.workspace_bytes = std::max(s.workspace_bytes, s.library.back()->workspace_bytes());
      zero_bytes = std::max(zero_bytes, s.library.back()->zero_bytes());
    } else {
      std::vector<uint64_t> values;
      for (size_t a = 0; a < l.args.size(); ++a) {
        values.push_back(s.base(l.args[a].kind, l.args[a].index));
        values.push_back(l.args[a].offset);
      }
      s.kernel_values.push_back(std::move(values));
    }
  }
  // Parameter pointers only after kernel_values stopped growing (they point into it).
  for (auto& values : s.kernel_values) {
    std::vector<void*> params;
    for (uint64_t& v : values) params.push_back(&v);
    s.kernel_params.push_back(std::move(params));
  }
  if (s.workspace_bytes)
    check(cu.cuMemAlloc_v2(&s.workspace, s.workspace_bytes), "allocate library workspace");
  if (zero_bytes) {
    check(cu.cuMemAlloc_v2(&s.zeros, zero_bytes), "allocate zero bias");
    check(cu.cuMemsetD8_v2(s.zeros, 0, zero_bytes), "clear zero bias");
  }
}

CudaSession::~CudaSession() { release(); }

void CudaSession::release() noexcept {
  CudaSession& s = *this;
  const DriverApi& cu = driver();
  cu.cuCtxSetCurrent(s.model->ctx());
  if (s.stream) cu.cuStreamSynchronize(s.stream);
  if (s.graph) cu.cuGraphExecDestroy(s.graph);
  s.graph = nullptr;
  s.library.clear();
  s.handles.reset();
  for (CUdeviceptr p : s.inputs) cu.cuMemFree_v2(p);
  for (CUdeviceptr p : s.outputs) cu.cuMemFree_v2(p);
  s.inputs.clear();
  s.outputs.clear();
  for (CUdeviceptr* p : {&s.arena, &s.workspace, &s.zeros}) {
    if (*p) cu.cuMemFree_v2(*p);
    *p = 0;
  }
  if (s.pinned) cu.cuMemFreeHost(s.pinned);
  s.pinned = nullptr;
  if (s.stream) cu.cuStreamDestroy_v2(s.stream);
  s.stream = nullptr;
}

void CudaSession::run(const void* const* in, void* const* out,
                      std::vector<device::LaunchTiming>* profile) {
  const DriverApi& cu = driver();
  ScopedContext scoped(model->ctx());
  for (size_t i = 0; i < inputs.size(); ++i)
    if (input_bytes[i]) std::memcpy(pinned_inputs[i], in[i], input_bytes[i]);
  host_error.clear();
  if (profile) {
    const size_t n = model->meta.launches.size();
    std::vector<CUevent> events(2 * n + 1, nullptr);
    for (CUevent& e : events) check(cu.cuEventCreate(&e, CU_EVENT_DEFAULT), "create event");
    try {
      check(cu.cuEventRecord(events[2 * n], stream), "record event");
      enqueue(&events);
      check(cu.cuStreamSynchronize(stream), "run");
      profile->assign(n, {});
      auto ms_between = [&](CUevent a, CUevent b) {
        float ms = 0;
        check(cu.cuEventElapsedTime_v2(&ms, a, b), "event time");
        return static_cast<uint64_t>(static_cast<double>(ms) * 1e6);
      };
      for (size_t l = 0; l < n; ++l)
        (*profile)[l] = {ms_between(events[2 * n], events[2 * l]),
                         ms_between(events[2 * l], events[2 * l + 1])};
    } catch (...) {
      for (CUevent e : events) cu.cuEventDestroy_v2(e);
      throw;
    }
    for (CUevent e : events) cu.cuEventDestroy_v2(e);
  } else {
    if (!tried_capture) {
      capture();
      g_last_uses_graph = graph != nullptr;
    }
    if (graph) {
      check(cu.cuGraphLaunch(graph, stream), "launch graph");
    } else {
      enqueue();
    }
    check(cu.cuStreamSynchronize(stream), "run");
  }
  if (!host_error.empty()) fail(host_error);
  for (size_t i = 0; i < outputs.size(); ++i)
    if (output_bytes[i]) std::memcpy(out[i], pinned_outputs[i], output_bytes[i]);
}

class CudaModelHandle final : public device::DeviceModel {
 public:
  CudaModelHandle(std::shared_ptr<const CudaModel> m, ThreadPool* p)
      : model_(std::move(m)), pool_(p) {}
  std::unique_ptr<device::DeviceSession> create_session() const override {
    return std::make_unique<CudaSession>(model_, pool_);
  }

 private:
  std::shared_ptr<const CudaModel> model_;
  ThreadPool* pool_;
};

std::unique_ptr<device::DeviceModel> CudaDevice::load(const artifact::ParsedArtifact& parsed,
                                                      const std::string& what, ThreadPool* pool) {
  auto m = std::make_shared<const CudaModel>(shared_from_this(), parsed, what);
  return std::make_unique<CudaModelHandle>(std::move(m), pool);
}

}  // namespace

bool last_session_uses_graph() { return g_last_uses_graph.load(); }

}  // namespace kiln::cuda_rt

namespace kiln::device {

std::shared_ptr<Device> open_cuda_device() {
  try {
    return std::make_shared<cuda_rt::CudaDevice>();
  } catch (const Unsupported&) {
    throw;
  } catch (const Error& e) {
    fail_unsupported(e.what());
  }
}

}  // namespace kiln::device
