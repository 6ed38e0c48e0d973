// kiln-run: runs a compiled .kiln model through the runtime C API. Binds .npy inputs (or random
// ones), writes outputs as DIR/<name>.npy, compares with expected outputs, benchmarks, profiles.
// Links the runtime only: no compiler, no LLVM, no protobuf.
#include <chrono>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <map>
#include <optional>
#include <random>

#include "kiln/kiln.hpp"
#include "runtime/io/npy.h"
#include "tools/common/input_files.h"
#include "tools/kiln-run/chrome_trace.h"
#include "tools/kiln-run/latency_stats.h"
#include "tools/kiln-run/run_options.h"
#include "tools/kiln-run/tensor_compare.h"

namespace kiln::tools {
namespace {

namespace fs = std::filesystem;

constexpr int kExitError = 1, kExitUsage = 2, kExitMismatch = 3;

Dims dims_of(const kiln_tensor_info& info) { return Dims(info.dims, info.dims + info.rank); }

Tensor random_tensor(const kiln_tensor_info& info, std::mt19937_64& rng) {
  Tensor t(static_cast<DType>(info.dtype), dims_of(info));
  dispatch_dtype(t.dtype(), "--random-inputs", [&]<typename T>() {
    T* p = t.data<T>();
    for (int64_t i = 0; i < t.numel(); ++i) {
      if constexpr (std::is_same_v<T, bool>) {
        p[i] = rng() & 1;
      } else if constexpr (std::is_integral_v<T>) {
        p[i] = static_cast<T>(rng() % 10);  // small, valid as indices and sizes
      } else {
        p[i] = T(std::uniform_real_distribution<float>(-1.0f, 1.0f)(rng));
      }
    }
  });
  return t;
}

// FILE or NAME=FILE per model output, like --input.
std::map<std::string, Tensor> read_expected(const std::vector<std::string>& args,
                                            const std::vector<std::string>& names) {
  std::map<std::string, Tensor> out;
  size_t next = 0;
  for (const std::string& arg : args) {
    std::string name, file = arg;
    const size_t eq = arg.find('=');
    if (eq != std::string::npos && !fs::exists(arg)) {
      name = arg.substr(0, eq);
      file = arg.substr(eq + 1);
      if (std::find(names.begin(), names.end(), name) == names.end()) {
        fail("--expected ", arg, ": the model has no output named '", name, "'");
      }
    } else {
      while (next < names.size() && out.count(names[next])) ++next;
      if (next >= names.size())
        fail("--expected ", arg, ": more files than model outputs (", names.size(), ")");
      name = names[next++];
    }
    if (out.count(name)) fail("--expected ", arg, ": output '", name, "' is given twice");
    out[name] = read_tensor_file(file, /*allow_pb=*/false);
  }
  return out;
}

double elapsed_ms(std::chrono::steady_clock::time_point since) {
  return std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - since)
      .count();
}

int run(const RunOptions& o) {
  rt::Context ctx(o.threads);
  rt::Model model = rt::Model::load_file(ctx, o.model);
  rt::Session session(model);

  std::vector<std::string> input_names, output_names;
  for (size_t i = 0; i < model.num_inputs(); ++i) input_names.push_back(model.input(i).name);
  for (size_t i = 0; i < model.num_outputs(); ++i) output_names.push_back(model.output(i).name);

  std::map<std::string, Tensor> feeds = bind_inputs(o.inputs, input_names, /*allow_pb=*/false);
  std::mt19937_64 rng(o.seed);
  std::string missing;
  for (size_t i = 0; i < model.num_inputs(); ++i) {
    const kiln_tensor_info info = model.input(i);
    if (!feeds.count(info.name)) {
      if (o.random_inputs)
        feeds[info.name] = random_tensor(info, rng);
      else
        missing += (missing.empty() ? "" : ", ") + std::string(info.name);
    }
  }
  if (!missing.empty())
    fail("input not given: ", missing, " (pass --input NAME=FILE or --random-inputs)");
  for (size_t i = 0; i < model.num_inputs(); ++i) {
    const Tensor& t = feeds.at(input_names[i]);
    session.bind_input(i, t.raw(), static_cast<kiln_dtype>(t.dtype()),
                       static_cast<int32_t>(t.rank()), t.dims().data());
  }

  for (int64_t i = 0; i < o.warmup_runs; ++i) session.run();
  std::optional<LatencyStats> bench;
  if (o.bench_runs > 0) {
    std::vector<double> samples;
    for (int64_t i = 0; i < o.bench_runs; ++i) {
      const auto t0 = std::chrono::steady_clock::now();
      session.run();
      samples.push_back(elapsed_ms(t0));
    }
    const LatencyStats s = latency_stats(samples);
    std::printf("bench: %lld runs after %lld warmup, %d threads\n",
                static_cast<long long>(o.bench_runs), static_cast<long long>(o.warmup_runs),
                kiln_context_num_threads(ctx.get()));
    std::printf("mean %.3f ms, p50 %.3f ms, p90 %.3f ms, p99 %.3f ms, throughput %.1f runs/s\n",
                s.mean_ms, s.p50_ms, s.p90_ms, s.p99_ms, s.runs_per_s);
    bench = s;
  } else {
    session.run();
  }
  if (!o.profile_path.empty()) {
    session.set_profiling(true);
    session.run();
    std::vector<TraceEvent> events;
    for (size_t i = 0; i < kiln_model_num_launches(model.get()); ++i) {
      const kiln_launch_profile p = session.launch_profile(i);
      events.push_back({p.node_name, p.op, p.symbol, p.start_ns, p.duration_ns});
    }
    write_chrome_trace(o.profile_path, events);
    std::printf("profile: %zu kernels -> %s\n", events.size(), o.profile_path.c_str());
  }

  std::map<std::string, Tensor> outputs;
  for (size_t i = 0; i < model.num_outputs(); ++i) {
    const kiln_tensor_view v = session.output(i);
    Tensor t(static_cast<DType>(v.info.dtype), dims_of(v.info));
    if (v.bytes) std::memcpy(t.raw(), v.data, v.bytes);
    outputs[v.info.name] = t;
  }
  if (!o.output_dir.empty()) {
    std::error_code ec;
    fs::create_directories(o.output_dir, ec);
    if (ec) fail("cannot create output folder '", o.output_dir, "': ", ec.message());
  }
  for (const std::string& name : output_names) {
    const Tensor& t = outputs.at(name);
    if (o.output_dir.empty()) {
      std::printf("%s: %s\n", name.c_str(), t.describe().c_str());
    } else {
      const fs::path p = fs::path(o.output_dir) / output_file_name(name);
      write_npy(p, t);
      std::printf("%s: %s -> %s\n", name.c_str(), t.describe().c_str(), p.string().c_str());
    }
  }

  int rc = 0;
  for (const auto& [name, want] : read_expected(o.expected, output_names)) {
    const CompareResult c = compare_tensors(outputs.at(name), want, o.rtol, o.atol);
    std::printf("compare %s: %s: %s\n", name.c_str(), c.pass ? "PASS" : "FAIL", c.detail.c_str());
    if (!c.pass) rc = kExitMismatch;
  }
  if (bench) {  // always the last line, for scripts
    std::printf("latency_ms: p50=%.3f p90=%.3f p99=%.3f\n", bench->p50_ms, bench->p90_ms,
                bench->p99_ms);
  }
  return rc;
}

}  // namespace
}  // namespace kiln::tools

int main(int argc, char** argv) {
  using namespace kiln::tools;
  RunOptions opts;
  try {
    opts = parse_run_options(std::vector<std::string>(argv + 1, argv + argc));
  } catch (const std::exception& e) {
    std::fprintf(stderr, "kiln-run: error: %s\n%s", e.what(), kRunUsage);
    return kExitUsage;
  }
  if (opts.help) {
    std::printf("%s", kRunUsage);
    return 0;
  }
  try {
    return run(opts);
  } catch (const std::exception& e) {
    std::fflush(stdout);
    std::fprintf(stderr, "kiln-run: error: %s\n", e.what());
    return kExitError;
  }
}
