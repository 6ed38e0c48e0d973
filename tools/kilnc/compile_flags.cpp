#include "tools/kilnc/compile_flags.h"

#include <charconv>
#include <sstream>

#include "runtime/io/npy.h"

namespace kiln::tools {
namespace {

std::vector<std::string> split(const std::string& s, char sep) {
  std::vector<std::string> out;
  std::stringstream ss(s);
  std::string item;
  while (std::getline(ss, item, sep)) out.push_back(item);
  return out;
}

}  // namespace

Dims parse_dims(const std::string& text, const std::string& flag) {
  Dims dims;
  if (text.empty() || text == "scalar") return dims;
  for (const std::string& part : split(text, 'x')) {
    int64_t v = -1;
    const auto r = std::from_chars(part.data(), part.data() + part.size(), v);
    if (r.ec != std::errc() || r.ptr != part.data() + part.size() || v < 0 ||
        v > (int64_t{1} << 40)) {
      fail(flag, ": '", text, "' is not a shape like 1x3x224x224");
    }
    dims.push_back(v);
  }
  return dims;
}

bool parse_compile_flag(const std::vector<std::string>& args, size_t& i, CompileFlags& flags) {
  const std::string& a = args[i];
  auto value = [&]() -> const std::string& {
    if (i + 1 >= args.size()) fail("flag ", a, " needs a value");
    return args[++i];
  };
  if (a == "--target") {
    flags.target = value();
    if (flags.target != "cpu") fail("--target: '", flags.target, "' is not available (cpu)");
  } else if (a == "--cpu") {
    flags.options.cpu = value();
  } else if (a.size() == 3 && a.rfind("-O", 0) == 0 && a[2] >= '0' && a[2] <= '3') {
    flags.options.opt_level = a[2] - '0';
  } else if (a == "--input-shape") {
    const std::string& v = value();
    const size_t eq = v.rfind('=');
    if (eq == std::string::npos || eq == 0)
      fail("--input-shape: expected NAME=DIMS (e.g. input=1x3x224x224), got '", v, "'");
    flags.options.input_shapes[v.substr(0, eq)] = parse_dims(v.substr(eq + 1), "--input-shape");
  } else if (a == "--bind-input") {
    // Freezes an input to a constant: for inputs that decide output shapes (Reshape targets,
    // Range limits), which compiled code needs to know.
    const std::string& v = value();
    const size_t eq = v.find('=');
    if (eq == std::string::npos || eq == 0)
      fail("--bind-input: expected NAME=FILE.npy, got '", v, "'");
    flags.options.constant_inputs[v.substr(0, eq)] = read_npy(v.substr(eq + 1));
  } else if (a.rfind("--passes=", 0) == 0) {
    for (const auto& p : split(a.substr(9), ',')) {
      if (p.empty()) fail("--passes: empty pass name in '", a, "'");
      flags.options.passes.push_back(p);
    }
  } else if (a == "--print-after-all") {
    flags.print_after_all = true;
  } else if (a.rfind("--print-after=", 0) == 0) {
    for (const auto& p : split(a.substr(14), ',')) flags.print_after.push_back(p);
  } else {
    return false;
  }
  return true;
}

}  // namespace kiln::tools
