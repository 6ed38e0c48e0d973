// kiln_session: one activation arena, the bound inputs, the outputs and the per-kernel profile
// of one run at a time. Sessions share the model read-only, so runs on different sessions of
// one model proceed concurrently.
#include <chrono>
#include <cstdlib>
#include <cstring>

#include "runtime/api/api_internal.h"
#include "runtime/kernels/launch/builtins.h"
#include "runtime/threadpool/thread_pool.h"

namespace kiln::api {
namespace {

using artifact::BufferKind;

struct FreeDeleter {
  void operator()(void* p) const { std::free(p); }
};
using AlignedBuffer = std::unique_ptr<uint8_t, FreeDeleter>;

AlignedBuffer allocate(uint64_t bytes) {
  void* p = std::aligned_alloc(64, (bytes + 63) / 64 * 64 + 64);
  if (!p) throw std::bad_alloc();
  return AlignedBuffer(static_cast<uint8_t*>(p));
}

struct Binding {
  const void* data = nullptr;
  AlignedBuffer copy;  // set for KILN_COPY
  bool bound = false;
};

std::string describe(DType dtype, const Dims& dims) {
  return cat(dtype_name(dtype), "[", dims_to_string(dims), "]");
}

}  // namespace

struct Session {
  std::shared_ptr<const Model> model;
  AlignedBuffer arena;
  std::vector<AlignedBuffer> outputs;
  std::vector<Binding> inputs;
  std::vector<void*> args;  // every launch's buffer addresses, flat, rebuilt per run
  std::vector<size_t> arg_start;
  bool has_run = false;
  bool profiling = false, has_profile = false;
  std::vector<std::pair<uint64_t, uint64_t>> profile;  // (start, duration) ns per launch
  std::unique_ptr<device::DeviceSession> device_session;  // device models: arena lives there

  explicit Session(std::shared_ptr<const Model> m) : model(std::move(m)) {
    const auto& meta = model->meta();
    if (model->device_model)
      device_session = model->device_model->create_session();
    else
      arena = allocate(meta.arena_bytes);
    for (uint64_t b : model->output_bytes) outputs.push_back(allocate(b));
    inputs.resize(meta.inputs.size());
    size_t total = 0;
    for (const auto& l : meta.launches) {
      arg_start.push_back(total);
      total += l.args.size();
    }
    args.resize(total);
    profile.resize(meta.launches.size());
    section_of.assign(meta.launches.size(), -1);
    if (!device_session) find_sections();
  }

  void bind(size_t index, const void* data, kiln_dtype dtype, int32_t rank, const int64_t* dims,
            kiln_ownership ownership) {
    const auto& decl_list = model->meta().inputs;
    if (index >= decl_list.size()) {
      fail_with(KILN_STATUS_INVALID_ARGUMENT, "input index ", index,
                " is out of range (the model has ", decl_list.size(), " inputs)");
    }
    const auto& decl = decl_list[index];
    if (rank < 0 || rank > 64 || (rank > 0 && !dims)) {
      fail_with(KILN_STATUS_INVALID_ARGUMENT, "input '", decl.name, "': invalid rank ", rank,
                " or dims");
    }
    const Dims given(dims, dims + rank);
    const auto given_dtype = static_cast<DType>(dtype);
    const bool dtype_ok = dtype_is_valid(static_cast<int32_t>(dtype)) && given_dtype == decl.dtype;
    if (!dtype_ok || given != decl.dims) {
      const std::string got = dtype_is_valid(static_cast<int32_t>(dtype))
                                  ? describe(given_dtype, given)
                                  : cat("dtype code ", static_cast<int32_t>(dtype));
      fail_with(KILN_STATUS_INVALID_ARGUMENT, "input '", decl.name, "': expected ",
                describe(decl.dtype, decl.dims), ", got ", got);
    }
    const uint64_t bytes = model->input_bytes[index];
    if (bytes && !data)
      fail_with(KILN_STATUS_INVALID_ARGUMENT, "input '", decl.name, "': data is null");
    Binding& b = inputs[index];
    if (ownership == KILN_COPY) {
      if (!b.copy) b.copy = allocate(bytes);
      if (bytes) std::memcpy(b.copy.get(), data, bytes);
      b.data = b.copy.get();
    } else if (ownership == KILN_BORROW) {
      if (reinterpret_cast<uintptr_t>(data) % dtype_size(decl.dtype) != 0) {
        fail_with(KILN_STATUS_INVALID_ARGUMENT, "input '", decl.name, "': borrowed data at ", data,
                  " is not aligned to its ", dtype_size(decl.dtype),
                  "-byte elements (bind with KILN_COPY)");
      }
      b.copy.reset();
      b.data = data;
    } else {
      fail_with(KILN_STATUS_INVALID_ARGUMENT, "input '", decl.name, "': unknown ownership ",
                static_cast<int>(ownership));
    }
    b.bound = true;
  }

  uint8_t* base(BufferKind kind, uint32_t index) {
    switch (kind) {
      case BufferKind::Arena:
        return arena.get();
      case BufferKind::Weights:
        return const_cast<uint8_t*>(model->parsed.weights);
      case BufferKind::Input:
        return static_cast<uint8_t*>(const_cast<void*>(inputs[index].data));
      case BufferKind::Output:
        return outputs[index].get();
    }
    return nullptr;
  }

  void run() {
    const auto& meta = model->meta();
    for (size_t i = 0; i < inputs.size(); ++i) {
      if (!inputs[i].bound) {
        fail_with(KILN_STATUS_FAILED_PRECONDITION, "input '", meta.inputs[i].name,
                  "' is not bound");
      }
    }
    has_run = false;
    has_profile = false;
    if (device_session) {
      run_on_device();
      return;
    }
    for (size_t l = 0; l < meta.launches.size(); ++l) {
      const auto& launch_args = meta.launches[l].args;
      for (size_t a = 0; a < launch_args.size(); ++a) {
        args[arg_start[l] + a] =
            base(launch_args[a].kind, launch_args[a].index) + launch_args[a].offset;
      }
    }
    launch::RunState state;
    state.pool = model->context->pool.get();
    const kiln_exec_ctx ctx = launch::make_exec_ctx(&state);
    const Clock::time_point t0 = Clock::now();
    for (size_t l = 0; l < meta.launches.size();) {
      if (section_of[l] < 0) {
        run_launch(l, ctx, state, t0);
        ++l;
        continue;
      }
      // A section: its chains spread over the pool, each on one thread with a one-thread
      // context (its launches' own parallel_for calls run inline).
      const Section& sec = sections[static_cast<size_t>(section_of[l])];
      state.pool->parallel_for(static_cast<int64_t>(sec.chains.size()),
                               [&](int64_t begin, int64_t end) {
                                 launch::RunState serial;
                                 serial.pool = &serial_pool();
                                 const kiln_exec_ctx one = launch::make_exec_ctx(&serial);
                                 for (int64_t c = begin; c < end; ++c)
                                   for (size_t i : sec.chains[static_cast<size_t>(c)])
                                     run_launch(i, one, serial, t0);
                               });
      l = sec.end;
    }
    has_run = true;
    has_profile = profiling;
  }

  using Clock = std::chrono::steady_clock;

  // Runs launch l; throws its failure.
  void run_launch(size_t l, const kiln_exec_ctx& ctx, launch::RunState& state,
                  Clock::time_point t0) {
    const auto& launch = model->meta().launches[l];
    const Clock::time_point start = profiling ? Clock::now() : t0;
    const int32_t rc = model->kernels[l](
        args.data() + arg_start[l], launch.params.empty() ? nullptr : launch.params.data(), &ctx);
    if (profiling) {
      const Clock::time_point end = Clock::now();
      auto ns = [](Clock::duration d) {
        return static_cast<uint64_t>(std::chrono::duration_cast<std::chrono::nanoseconds>(d).count());
      };
      profile[l] = {ns(start - t0), ns(end - start)};
    }
    if (rc != 0) {
      if (state.error.empty()) {
        fail_with(KILN_STATUS_INTERNAL, "kernel '", launch.symbol, "' (", launch.op, " '",
                  launch.node_name, "') failed with code ", rc);
      }
      fail_with(KILN_STATUS_INTERNAL, launch.op, " '", launch.node_name, "' failed: ",
                state.error);
    }
  }

  // The launch sections (artifact::Launch): their chains' launch indices, in order.
  struct Section {
    size_t end = 0;  // one past the section's last launch
    std::vector<std::vector<size_t>> chains;
  };
  std::vector<Section> sections;
  std::vector<int> section_of;  // per launch: its section's index at its first launch, else -1

  void find_sections() {
    const auto& launches = model->meta().launches;
    for (size_t l = 0; l < launches.size();) {
      if (launches[l].section == 0) {
        ++l;
        continue;
      }
      Section sec;
      size_t e = l;
      for (; e < launches.size() && launches[e].section == launches[l].section; ++e) {
        if (launches[e].chain >= sec.chains.size()) sec.chains.resize(launches[e].chain + 1);
        sec.chains[launches[e].chain].push_back(e);
      }
      sec.end = e;
      section_of[l] = static_cast<int>(sections.size());
      sections.push_back(std::move(sec));
      l = e;
    }
  }

  // Chains run their launches with this pool: one thread, so parallel_for runs inline.
  static ThreadPool& serial_pool() {
    static ThreadPool pool(1);
    return pool;
  }

  void run_on_device() {
    std::vector<const void*> in(inputs.size());
    for (size_t i = 0; i < inputs.size(); ++i) in[i] = inputs[i].data;
    std::vector<void*> out(outputs.size());
    for (size_t i = 0; i < outputs.size(); ++i) out[i] = outputs[i].get();
    std::vector<device::LaunchTiming> timings;
    device_session->run(in.data(), out.data(), profiling ? &timings : nullptr);
    if (profiling) {
      for (size_t l = 0; l < timings.size(); ++l)
        profile[l] = {timings[l].start_ns, timings[l].duration_ns};
    }
    has_run = true;
    has_profile = profiling;
  }
};

}  // namespace kiln::api

struct kiln_session {
  kiln::api::Session impl;
};

using kiln::api::fail_with;

extern "C" {

kiln_status* kiln_session_create(kiln_model* model, kiln_session** out) {
  return kiln::api::guard(KILN_STATUS_INVALID_ARGUMENT, [&] {
    KILN_API_REQUIRE(out);
    *out = nullptr;
    KILN_API_REQUIRE(model);
    *out = new kiln_session{kiln::api::Session(model->impl)};
  });
}

void kiln_session_destroy(kiln_session* session) { delete session; }

kiln_status* kiln_session_bind_input(kiln_session* session, size_t index, const void* data,
                                     kiln_dtype dtype, int32_t rank, const int64_t* dims,
                                     kiln_ownership ownership) {
  return kiln::api::guard(KILN_STATUS_INVALID_ARGUMENT, [&] {
    KILN_API_REQUIRE(session);
    session->impl.bind(index, data, dtype, rank, dims, ownership);
  });
}

kiln_status* kiln_session_bind_input_by_name(kiln_session* session, const char* name,
                                             const void* data, kiln_dtype dtype, int32_t rank,
                                             const int64_t* dims, kiln_ownership ownership) {
  if (!session)
    return kiln::api::make_status(KILN_STATUS_INVALID_ARGUMENT,
                                  "kiln_session_bind_input_by_name: session is null");
  const kiln_model model{session->impl.model};
  size_t index = 0;
  if (kiln_status* s = kiln_model_find_input(&model, name, &index)) return s;
  return kiln_session_bind_input(session, index, data, dtype, rank, dims, ownership);
}

kiln_status* kiln_session_run(kiln_session* session) {
  return kiln::api::guard(KILN_STATUS_INTERNAL, [&] {
    KILN_API_REQUIRE(session);
    session->impl.run();
  });
}

kiln_status* kiln_session_output(const kiln_session* session, size_t index, kiln_tensor_view* out) {
  return kiln::api::guard(KILN_STATUS_INVALID_ARGUMENT, [&] {
    KILN_API_REQUIRE(session);
    KILN_API_REQUIRE(out);
    const auto& s = session->impl;
    const auto& outputs = s.model->meta().outputs;
    if (index >= outputs.size()) {
      fail_with(KILN_STATUS_INVALID_ARGUMENT, "output index ", index,
                " is out of range (the model has ", outputs.size(), " outputs)");
    }
    if (!s.has_run)
      fail_with(KILN_STATUS_FAILED_PRECONDITION,
                "no successful run yet: outputs are not available");
    const auto& t = outputs[index];
    out->info = {t.name.c_str(), static_cast<kiln_dtype>(t.dtype),
                 static_cast<int32_t>(t.dims.size()), t.dims.data()};
    out->data = s.outputs[index].get();
    out->bytes = s.model->output_bytes[index];
  });
}

void kiln_session_set_profiling(kiln_session* session, int enabled) {
  if (session) session->impl.profiling = enabled != 0;
}

kiln_status* kiln_session_launch_profile(const kiln_session* session, size_t index,
                                         kiln_launch_profile* out) {
  return kiln::api::guard(KILN_STATUS_INVALID_ARGUMENT, [&] {
    KILN_API_REQUIRE(session);
    KILN_API_REQUIRE(out);
    const auto& s = session->impl;
    const auto& launches = s.model->meta().launches;
    if (index >= launches.size()) {
      fail_with(KILN_STATUS_INVALID_ARGUMENT, "launch index ", index,
                " is out of range (the model has ", launches.size(), " launches)");
    }
    if (!s.has_profile)
      fail_with(KILN_STATUS_FAILED_PRECONDITION,
                "no profiled run yet (kiln_session_set_profiling)");
    const auto& l = launches[index];
    *out = {l.node_name.c_str(), l.op.c_str(), l.symbol.c_str(), s.profile[index].first,
            s.profile[index].second};
  });
}

}  // extern "C"
