#include "tools/kiln-run/run_options.h"

#include <charconv>

#include "ir/error.h"

namespace kiln::tools {

const char* const kRunUsage =
    "usage: kiln-run MODEL.kiln [--input FILE|NAME=FILE ...] [--random-inputs [--seed S]]\n"
    "                [--output-dir DIR] [--expected FILE|NAME=FILE ... [--rtol R] [--atol A]]\n"
    "                [--threads N] [--bench N [--warmup W]] [--profile TRACE.json]\n"
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
    else if (a.rfind("-", 0) == 0)
      fail("unknown flag '", a, "'");
    else if (o.model.empty())
      o.model = a;
    else
      fail("unexpected argument '", a, "' (one model per run)");
  }
  if (o.help) return o;
  if (o.model.empty()) fail("no model given");
  if (o.warmup_runs && !o.bench_runs) fail("--warmup needs --bench N");
  return o;
}

}  // namespace kiln::tools
