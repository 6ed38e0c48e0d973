#include "tools/kiln-run/run_options.h"

#include <algorithm>
#include <charconv>

#include "ir/error.h"

namespace kiln::tools {

const char* const kRunUsage =
    "usage: kiln-run MODEL.kiln [--input FILE|NAME=FILE ...] [--random-inputs [--seed S]]\n"
    "                [--output-dir DIR] [--expected FILE|NAME=FILE ... [--rtol R] [--atol A]]\n"
    "                [--threads N] [--bench N [--warmup W]] [--profile TRACE.json]\n"
    "                [--device auto|cpu|opencl|cuda]\n"
    "       kiln-run MODEL.kiln --devices cpu,opencl [--model-for DEV=FILE.kiln ...] [flags]\n"
    "--device: where the model runs; auto (default) runs it on the device its artifact was\n"
    "  compiled for (kilnc compile --target cpu|opencl). KILN_OPENCL_PLATFORM and\n"
    "  KILN_OPENCL_DEVICE (name substrings) pick the OpenCL device; KILN_CUDA_DEVICE (ordinal)\n"
    "  the CUDA GPU (kilnc compile --target cuda).\n"
    "--devices: splits the batch (dim 0 of every input and output) across the devices and runs\n"
    "  them at once, one artifact per device: --model-for DEV=FILE names it (MODEL.kiln serves\n"
    "  any device without one). Each artifact is compiled for its share of the batch, e.g.\n"
    "  cpu=batch 48, opencl=batch 16; inputs (or --random-inputs) cover the sum, and the outputs\n"
    "  are concatenated in --devices order. --bench then reports the throughput (items/s) of the\n"
    "  split and of each device alone on its share.\n"
    "exit codes: 0 ok, 1 error, 2 bad command line, 3 outputs differ from --expected\n";

namespace {

template <typename T>
T parse_number(const std::string& flag, const std::string& text, T min) {
  T v{};
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
  if (ec != std::errc() || end != text.data() + text.size() || v < min) {
    fail(flag, ": '", text, "' is not a number >= ", min);
  }
  return v;
}

bool known_device(const std::string& d) { return d == "cpu" || d == "opencl" || d == "cuda"; }

std::vector<std::string> split_list(const std::string& flag, const std::string& text) {
  std::vector<std::string> out;
  size_t start = 0;
  while (true) {
    const size_t comma = text.find(',', start);
    const std::string item = text.substr(start, comma == std::string::npos ? comma : comma - start);
    if (!known_device(item)) fail(flag, ": '", item, "' is not a device (cpu, opencl, cuda)");
    for (const auto& d : out)
      if (d == item) fail(flag, ": device '", item, "' is listed twice");
    out.push_back(item);
    if (comma == std::string::npos) return out;
    start = comma + 1;
  }
}

}  // namespace

RunOptions parse_run_options(const std::vector<std::string>& args) {
  RunOptions o;
  for (size_t i = 0; i < args.size(); ++i) {
    const std::string& a = args[i];
    auto value = [&]() -> const std::string& {
      if (i + 1 >= args.size() || args[i + 1].rfind("--", 0) == 0) fail(a, " needs a value");
      return args[++i];
    };
    // Values up to the next flag: `--input a.npy b.npy`.
    auto values = [&](std::vector<std::string>& into) {
      into.push_back(value());
      while (i + 1 < args.size() && args[i + 1].rfind("--", 0) != 0) into.push_back(args[++i]);
    };
    if (a == "--help" || a == "-h")
      o.help = true;
    else if (a == "--input")
      values(o.inputs);
    else if (a == "--expected")
      values(o.expected);
    else if (a == "--output-dir")
      o.output_dir = value();
    else if (a == "--profile")
      o.profile_path = value();
    else if (a == "--random-inputs")
      o.random_inputs = true;
    else if (a == "--seed")
      o.seed = parse_number<uint64_t>(a, value(), 0);
    else if (a == "--rtol")
      o.rtol = parse_number<double>(a, value(), 0.0);
    else if (a == "--atol")
      o.atol = parse_number<double>(a, value(), 0.0);
    else if (a == "--threads")
      o.threads = parse_number<int32_t>(a, value(), 0);
    else if (a == "--bench")
      o.bench_runs = parse_number<int64_t>(a, value(), 1);
    else if (a == "--warmup")
      o.warmup_runs = parse_number<int64_t>(a, value(), 0);
    else if (a == "--device")
      o.device = value();
    else if (a == "--devices")
      o.devices = split_list(a, value());
    else if (a == "--model-for")
      values(o.model_for);
    else if (a.rfind("-", 0) == 0)
      fail("unknown flag '", a, "'");
    else if (o.model.empty())
      o.model = a;
    else
      fail("unexpected argument '", a, "' (one model per run)");
  }
  if (o.help) return o;
  if (!o.device.empty() && o.device != "auto" && !known_device(o.device))
    fail("--device: '", o.device, "' is not a device (auto, cpu, opencl, cuda)");
  if (!o.devices.empty() && !o.device.empty()) fail("--device and --devices exclude each other");
  if (!o.model_for.empty() && o.devices.empty()) fail("--model-for needs --devices");
  for (const std::string& mf : o.model_for) {
    const size_t eq = mf.find('=');
    const std::string dev = mf.substr(0, eq);
    if (eq == std::string::npos || eq + 1 == mf.size())
      fail("--model-for: expected DEV=FILE.kiln, got '", mf, "'");
    if (std::find(o.devices.begin(), o.devices.end(), dev) == o.devices.end())
      fail("--model-for ", mf, ": '", dev, "' is not in --devices");
  }
  if (!o.devices.empty() && !o.profile_path.empty())
    fail("--profile profiles one device: use --device instead of --devices");
  if (o.model.empty() && o.devices.empty()) fail("no model given");
  if (o.warmup_runs && !o.bench_runs) fail("--warmup needs --bench N");
  return o;
}

}  // namespace kiln::tools
