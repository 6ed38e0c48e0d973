// kiln-run: runs a compiled .kiln model through the runtime C API. Binds .npy inputs (or random
// ones), writes outputs as DIR/<name>.npy, compares with expected outputs, benchmarks, profiles.
// --device picks where it runs (default: the device the artifact was compiled for); --devices
// splits a batch across several (multi_device.cpp). Links the runtime only: no compiler, no
// LLVM, no protobuf.
#include <cstdio>
#include <cstring>
#include <optional>

#include "kiln/kiln.hpp"
#include "tools/kiln-run/chrome_trace.h"
#include "tools/kiln-run/multi_device.h"
#include "tools/kiln-run/run_common.h"

namespace kiln::tools {
namespace {

int run(const RunOptions& o) {
  rt::Context ctx(o.threads, o.device.empty() ? nullptr : o.device.c_str());
  rt::Model model = rt::Model::load_file(ctx, o.model);
  rt::Session session(model);

  std::vector<kiln_tensor_info> infos;
  std::vector<std::string> input_names, output_names;
  for (size_t i = 0; i < model.num_inputs(); ++i) infos.push_back(model.input(i));
  for (size_t i = 0; i < model.num_inputs(); ++i) input_names.push_back(model.input(i).name);
  for (size_t i = 0; i < model.num_outputs(); ++i) output_names.push_back(model.output(i).name);

  std::map<std::string, Tensor> feeds = gather_inputs(o, infos);
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
    std::printf("bench: %lld runs after %lld warmup, %d threads, on %s\n",
                static_cast<long long>(o.bench_runs), static_cast<long long>(o.warmup_runs),
                kiln_context_num_threads(ctx.get()), kiln_model_device_description(model.get()));
    print_bench(s);
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
  const int rc = report_outputs(o, outputs, output_names);
  if (bench) print_latency_line(*bench);  // always the last line, for scripts
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
    return opts.devices.empty() ? run(opts) : run_on_devices(opts);
  } catch (const std::exception& e) {
    std::fflush(stdout);
    std::fprintf(stderr, "kiln-run: error: %s\n", e.what());
    return kExitError;
  }
}
