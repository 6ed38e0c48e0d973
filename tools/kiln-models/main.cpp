// kiln-models: writes a model of the benchmark set (models/zoo) as ONNX, with seeded random
// weights, so benchmarks generate their models on demand instead of storing them.
#include <charconv>
#include <cstdio>
#include <string>

#include "frontend/onnx_exporter.h"
#include "ir/error.h"
#include "models/zoo/zoo.h"

namespace {

const char* const kUsage =
    "usage: kiln-models NAME -o OUT.onnx [--batch B] [--seed S] [--image-size N] [--seq-len N]\n"
    "       kiln-models --list\n";

template <typename T>
T parse_number(const std::string& flag, const std::string& text) {
  T v{};
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
  if (ec != std::errc() || end != text.data() + text.size()) {
    kiln::fail(flag, ": '", text, "' is not a non-negative integer");
  }
  return v;
}

int run(int argc, char** argv) {
  std::string name, out;
  kiln::zoo::ZooOptions opts;
  bool list = false;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    auto value = [&]() -> std::string {
      if (i + 1 >= argc) kiln::fail(a, " needs a value");
      return argv[++i];
    };
    if (a == "--help" || a == "-h") {
      std::printf("%s", kUsage);
      return 0;
    } else if (a == "--list") {
      list = true;
    } else if (a == "-o" || a == "--output") {
      out = value();
    } else if (a == "--batch") {
      opts.batch = parse_number<int64_t>(a, value());
    } else if (a == "--seed") {
      opts.seed = parse_number<uint64_t>(a, value());
    } else if (a == "--image-size") {
      opts.image_size = parse_number<int64_t>(a, value());
    } else if (a == "--seq-len") {
      opts.seq_len = parse_number<int64_t>(a, value());
    } else if (a.rfind("-", 0) == 0) {
      kiln::fail("unknown flag '", a, "'");
    } else if (name.empty()) {
      name = a;
    } else {
      kiln::fail("unexpected argument '", a, "' (one model per run)");
    }
  }
  if (list) {
    for (const auto& m : kiln::zoo::zoo_models()) {
      std::printf("%-12s %s\n", m.name.c_str(), m.description.c_str());
    }
    return 0;
  }
  if (name.empty()) kiln::fail("no model name given (see --list)");
  if (out.empty()) kiln::fail("no output file given (-o OUT.onnx)");
  auto g = kiln::zoo::build_zoo_model(name, opts);
  kiln::frontend::save_onnx(*g, out);
  std::printf("%s: %lld parameters, %zu nodes -> %s\n", name.c_str(),
              static_cast<long long>(g->num_parameters()), g->nodes().size(), out.c_str());
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  try {
    return run(argc, argv);
  } catch (const kiln::Error& e) {
    std::fprintf(stderr, "kiln-models: error: %s\n", e.what());
    return 1;
  }
}
