#include "tools/kilnc/compile_flags.h"

#include <algorithm>
#include <charconv>
#include <sstream>

#include "ir/op_kind.h"
#include "passes/calibration.h"
#include "passes/registry.h"
#include "passes/prune_spec.h"
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
    if (flags.target != "cpu" && flags.target != "opencl" && flags.target != "cuda")
      fail("--target: '", flags.target, "' is not available (cpu, opencl, cuda)");
  } else if (a == "--fpga") {
    flags.fpga = true;
  } else if (a == "--opencl-binary") {
    flags.opencl_binary = value();
  } else if (a == "--cuda-arch") {
    flags.cuda_arch = value();
    if (flags.cuda_arch.empty()) fail("--cuda-arch needs a value such as sm_90 or sm_90,sm_80");
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
  } else if (a.rfind("--fp16-block=", 0) == 0) {
    for (const auto& op : split(a.substr(13), ',')) {
      if (!op_from_name(op)) fail("--fp16-block: '", op, "' is not an op name (e.g. Conv,MatMul)");
      flags.options.fp16_block_ops.insert(op);
    }
  } else if (a == "--fp16-io") {
    flags.options.fp16_io = true;
  } else if (a == "--quantize") {
    // Appends the precision pass after the -O pipeline (so it sees the fused graph).
    const std::string& v = value();
    const std::string pass = v == "int8"           ? "quantize-int8"
                             : v == "int8-dynamic" ? "quantize-int8-dynamic"
                             : v == "fp16"         ? "convert-fp16"
                                                   : "";
    if (pass.empty()) fail("--quantize: '", v, "' is not one of fp16, int8, int8-dynamic");
    const auto& known = registered_passes();
    if (std::none_of(known.begin(), known.end(), [&](const PassInfo& p) { return p.name == pass; }))
      fail("--quantize ", v, ": pass '", pass, "' is not available in this build");
    flags.options.extra_passes.push_back(pass);
  } else if (a == "--prune") {
    // Runs the matching prune-* pass before fusion (codegen/compile_common.cpp).
    const PruneSpec spec = parse_prune_spec(value());  // one-line error on a bad spec
    if (!flags.options.prune_spec.empty()) fail("--prune: give it once");
    flags.options.prune_spec = prune_spec_text(spec);
    flags.options.extra_passes.push_back(prune_pass_name(spec.kind));
  } else if (a == "--calib-data") {
    flags.options.calib_data_dir = value();
  } else if (a == "--calib-method") {
    flags.options.calib_method = value();
    parse_calibration_method(flags.options.calib_method);  // fails on an unknown method
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
