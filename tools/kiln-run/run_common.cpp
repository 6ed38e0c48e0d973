#include "tools/kiln-run/run_common.h"

#include <algorithm>
#include <cstdio>
#include <filesystem>

#include "runtime/io/npy.h"
#include "tools/common/input_files.h"
#include "tools/kiln-run/tensor_compare.h"

namespace kiln::tools {

namespace fs = std::filesystem;

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

namespace {

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

}  // namespace

double elapsed_ms(std::chrono::steady_clock::time_point since) {
  return std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - since)
      .count();
}

Dims dims_of(const kiln_tensor_info& info) { return Dims(info.dims, info.dims + info.rank); }

std::map<std::string, Tensor> gather_inputs(const RunOptions& o,
                                            const std::vector<kiln_tensor_info>& infos) {
  std::vector<std::string> input_names;
  for (const auto& info : infos) input_names.push_back(info.name);
  std::map<std::string, Tensor> feeds = bind_inputs(o.inputs, input_names, /*allow_pb=*/false);
  std::mt19937_64 rng(o.seed);
  std::string missing;
  for (const auto& info : infos) {
    if (!feeds.count(info.name)) {
      if (o.random_inputs)
        feeds[info.name] = random_tensor(info, rng);
      else
        missing += (missing.empty() ? "" : ", ") + std::string(info.name);
    }
  }
  if (!missing.empty())
    fail("input not given: ", missing, " (pass --input NAME=FILE or --random-inputs)");
  return feeds;
}

int report_outputs(const RunOptions& o, const std::map<std::string, Tensor>& outputs,
                   const std::vector<std::string>& output_names) {
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
  return rc;
}

void print_bench(const LatencyStats& s) {
  std::printf("mean %.3f ms, p50 %.3f ms, p90 %.3f ms, p99 %.3f ms, throughput %.1f runs/s\n",
              s.mean_ms, s.p50_ms, s.p90_ms, s.p99_ms, s.runs_per_s);
}

void print_latency_line(const LatencyStats& s) {
  std::printf("latency_ms: p50=%.3f p90=%.3f p99=%.3f\n", s.p50_ms, s.p90_ms, s.p99_ms);
}

}  // namespace kiln::tools
