// kilnc: Kiln's compiler driver. `kilnc inspect`, `kilnc run`, `kilnc opt`.
#include <cstdio>
#include <string>
#include <vector>

#include "ir/error.h"
#include "tools/kilnc/commands.h"

namespace {
const char* kUsage =
    "usage: kilnc <command> [options]\n"
    "  compile MODEL.onnx -o OUT.kiln [--target cpu|opencl] [--cpu NAME] [-O0..3]\n"
    "          [--fpga] [--opencl-binary FILE]  (OpenCL: FPGA-style kernels; embed a program\n"
    "          binary compiled offline instead of the source)\n"
    "          [--input-shape NAME=1x3x224x224]... [--passes=a,b] [--print-after-all]\n"
    "          [--fp16-block=Op,Op] [--fp16-io]  (convert-fp16: ops kept fp32; fp16 model I/O)\n"
    "          [--quantize fp16|int8|int8-dynamic] [--calib-data DIR] [--calib-method M]\n"
    "          (int8: DIR of .npy inputs; M = minmax (default), percentile or entropy)\n"
    "          [--prune magnitude:R[:global]|channel:R[:l2]|N:M]  (R in (0,1); e.g. 2:4)\n"
    "  inspect MODEL.onnx [--print-ir] [--dot FILE]   inputs, outputs, ops, parameters, MACs\n"
    "  run MODEL.onnx --input FILE|NAME=FILE... --output-dir DIR\n"
    "      [--backend ref|cpu|opencl|opencl-fpga] [compile flags, with a compiled backend]\n"
    "  opt MODEL.onnx (--passes=a,b | -O0..3) [--print-after-all] [--print-after=P] [-o OUT.onnx]\n";
}

int main(int argc, char** argv) {
  if (argc < 2 || std::string(argv[1]) == "--help" || std::string(argv[1]) == "-h") {
    std::fputs(kUsage, argc < 2 ? stderr : stdout);
    return argc < 2 ? 2 : 0;
  }
  const std::string cmd = argv[1];
  std::vector<std::string> args(argv + 2, argv + argc);
  try {
    if (cmd == "inspect") return kiln::tools::kilnc_inspect(args);
    if (cmd == "run") return kiln::tools::kilnc_run(args);
    if (cmd == "compile") return kiln::tools::kilnc_compile(args);
    if (cmd == "opt") return kiln::tools::kilnc_opt(args);
    std::fprintf(stderr, "kilnc: error: unknown command '%s' (see kilnc --help)\n", cmd.c_str());
    return 2;
  } catch (const kiln::Error& e) {
    std::fprintf(stderr, "kilnc %s: error: %s\n", cmd.c_str(), e.what());
  } catch (const std::bad_alloc&) {
    std::fprintf(stderr, "kilnc %s: error: out of memory\n", cmd.c_str());
  } catch (const std::exception& e) {
    std::fprintf(stderr, "kilnc %s: error: %s\n", cmd.c_str(), e.what());
  }
  return 1;
}
