#include "tools/kiln-run/multi_device.h"

#include <cstdio>
#include <cstring>
#include <exception>
#include <functional>
#include <memory>
#include <optional>
#include <thread>

#include "kiln/kiln.hpp"
#include "tools/kiln-run/run_common.h"

namespace kiln::tools {
namespace {

// One device's share: its own context, model and session.
struct Part {
  std::string device, path;
  rt::Context ctx;
  rt::Model model;
  rt::Session session;
  int64_t batch = 0;
  Part(std::string dev, std::string file, int32_t threads)
      : device(std::move(dev)),
        path(std::move(file)),
        ctx(threads, device.c_str()),
        model(rt::Model::load_file(ctx, path)),
        session(model) {}
};

std::string artifact_for(const RunOptions& o, const std::string& device) {
  for (const std::string& mf : o.model_for)
    if (mf.substr(0, mf.find('=')) == device) return mf.substr(mf.find('=') + 1);
  if (o.model.empty())
    fail("--devices: no artifact for '", device, "' (pass --model-for ", device,
         "=FILE.kiln or a MODEL.kiln for every device)");
  return o.model;
}

std::string describe(const kiln_tensor_info& t) {
  return cat(dtype_name(static_cast<DType>(t.dtype)), "[", dims_to_string(dims_of(t)), "]");
}

// Every part must declare the same tensors up to dim 0, which is its batch.
void check_parts(const std::vector<std::unique_ptr<Part>>& parts) {
  const rt::Model& first = parts[0]->model;
  if (first.num_inputs() == 0) fail("--devices: the model has no inputs to split");
  for (auto& p : parts) {
    const rt::Model& m = p->model;
    p->batch = -1;
    if (m.num_inputs() != first.num_inputs() || m.num_outputs() != first.num_outputs()) {
      fail("--devices: '", p->path, "' has other inputs/outputs than '", parts[0]->path, "'");
    }
    for (size_t k = 0; k < m.num_inputs() + m.num_outputs(); ++k) {
      const bool in = k < m.num_inputs();
      const size_t i = in ? k : k - m.num_inputs();
      const kiln_tensor_info t = in ? m.input(i) : m.output(i);
      const kiln_tensor_info f = in ? first.input(i) : first.output(i);
      const Dims d = dims_of(t), fd = dims_of(f);
      if (d.empty()) fail("--devices: '", t.name, "' in '", p->path, "' has no batch dim");
      if (p->batch < 0) p->batch = d[0];
      if (std::string(t.name) != f.name || t.dtype != f.dtype || d.size() != fd.size() ||
          !std::equal(d.begin() + 1, d.end(), fd.begin() + 1) || d[0] != p->batch) {
        fail("--devices: '", p->path, "' (", p->device, ") declares ", in ? "input" : "output",
             " '", t.name, "' as ", describe(t), "; every input and output needs dim 0 = its batch ",
             p->batch, " and the rest as in '", parts[0]->path, "' (", describe(f), ")");
      }
    }
    if (p->batch == 0) fail("--devices: '", p->path, "' has batch 0");
  }
}

// Runs every part's session at once; rethrows the first failure, naming its device.
void run_parts(std::vector<std::unique_ptr<Part>>& parts) {
  std::vector<std::exception_ptr> errors(parts.size());
  std::vector<std::thread> threads;
  for (size_t i = 1; i < parts.size(); ++i) {
    threads.emplace_back([&, i] {
      try {
        parts[i]->session.run();
      } catch (...) {
        errors[i] = std::current_exception();
      }
    });
  }
  try {
    parts[0]->session.run();
  } catch (...) {
    errors[0] = std::current_exception();
  }
  for (auto& t : threads) t.join();
  for (size_t i = 0; i < parts.size(); ++i) {
    if (!errors[i]) continue;
    try {
      std::rethrow_exception(errors[i]);
    } catch (const std::exception& e) {
      fail(parts[i]->device, ": ", e.what());
    }
  }
}

LatencyStats time_runs(int64_t runs, const std::function<void()>& body) {
  std::vector<double> samples;
  for (int64_t i = 0; i < runs; ++i) {
    const auto t0 = std::chrono::steady_clock::now();
    body();
    samples.push_back(elapsed_ms(t0));
  }
  return latency_stats(samples);
}

}  // namespace

int run_on_devices(const RunOptions& o) {
  std::vector<std::unique_ptr<Part>> parts;
  for (const std::string& dev : o.devices)
    parts.push_back(std::make_unique<Part>(dev, artifact_for(o, dev), o.threads));
  check_parts(parts);
  int64_t total = 0;
  std::string split;
  for (const auto& p : parts) {
    total += p->batch;
    split += cat(split.empty() ? "" : " + ", p->device, " (batch ", p->batch, ")");
  }
  const rt::Model& first = parts[0]->model;

  // The whole batch's inputs, then each part's rows bound in place.
  std::vector<kiln_tensor_info> infos;
  std::vector<Dims> full_dims;
  for (size_t i = 0; i < first.num_inputs(); ++i) {
    full_dims.push_back(dims_of(first.input(i)));
    full_dims.back()[0] = total;
  }
  for (size_t i = 0; i < first.num_inputs(); ++i) {
    kiln_tensor_info t = first.input(i);
    t.dims = full_dims[i].data();
    infos.push_back(t);
  }
  const std::map<std::string, Tensor> feeds = gather_inputs(o, infos);
  for (size_t i = 0; i < infos.size(); ++i) {
    const Tensor& t = feeds.at(infos[i].name);
    if (t.dtype() != static_cast<DType>(infos[i].dtype) || t.dims() != full_dims[i]) {
      fail("input '", infos[i].name, "' is ", dtype_name(t.dtype()), "[",
           dims_to_string(t.dims()), "], the split over ", split, " needs ", describe(infos[i]));
    }
    const size_t row_bytes = t.nbytes() / static_cast<size_t>(total);
    size_t row = 0;
    for (auto& p : parts) {
      Dims d = full_dims[i];
      d[0] = p->batch;
      p->session.bind_input(i, static_cast<const uint8_t*>(t.raw()) + row * row_bytes,
                            infos[i].dtype, static_cast<int32_t>(d.size()), d.data());
      row += static_cast<size_t>(p->batch);
    }
  }

  for (int64_t i = 0; i < o.warmup_runs; ++i) run_parts(parts);
  std::optional<LatencyStats> bench;
  if (o.bench_runs > 0) {
    std::printf("bench: split over %s, %lld runs after %lld warmup\n", split.c_str(),
                static_cast<long long>(o.bench_runs), static_cast<long long>(o.warmup_runs));
    for (auto& p : parts) {
      const LatencyStats s = time_runs(o.bench_runs, [&] { p->session.run(); });
      std::printf("%s alone (batch %lld, %s): p50 %.3f ms, throughput %.1f items/s\n",
                  p->device.c_str(), static_cast<long long>(p->batch),
                  kiln_model_device_description(p->model.get()), s.p50_ms,
                  static_cast<double>(p->batch) * 1000.0 / s.mean_ms);
    }
    const LatencyStats s = time_runs(o.bench_runs, [&] { run_parts(parts); });
    std::printf("split (batch %lld): p50 %.3f ms, throughput %.1f items/s\n",
                static_cast<long long>(total), s.p50_ms,
                static_cast<double>(total) * 1000.0 / s.mean_ms);
    print_bench(s);
    bench = s;
  } else {
    run_parts(parts);
  }

  // Outputs: each part's rows, concatenated in --devices order.
  std::map<std::string, Tensor> outputs;
  std::vector<std::string> output_names;
  for (size_t i = 0; i < first.num_outputs(); ++i) {
    const kiln_tensor_info info = first.output(i);
    Dims d = dims_of(info);
    d[0] = total;
    Tensor t(static_cast<DType>(info.dtype), d);
    size_t at = 0;
    for (auto& p : parts) {
      const kiln_tensor_view v = p->session.output(i);
      if (v.bytes) std::memcpy(static_cast<uint8_t*>(t.raw()) + at, v.data, v.bytes);
      at += v.bytes;
    }
    output_names.push_back(info.name);
    outputs[info.name] = std::move(t);
  }
  std::printf("ran on %s\n", split.c_str());
  const int rc = report_outputs(o, outputs, output_names);
  if (bench) print_latency_line(*bench);
  return rc;
}

}  // namespace kiln::tools
