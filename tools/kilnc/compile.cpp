// kilnc compile: ONNX model -> optimized graph -> native code -> one `.kiln` file.
#include <chrono>
#include <cstdio>
#include <iostream>

#include "codegen/artifact/artifact_writer.h"
#include "frontend/onnx_loader.h"
#include "tools/kilnc/commands.h"
#include "tools/kilnc/compile_flags.h"
#include "tools/kilnc/compile_target.h"

namespace kiln::tools {

int kilnc_compile(const std::vector<std::string>& args) {
  std::string model, out_path;
  CompileFlags flags;
  bool quiet = false;
  for (size_t i = 0; i < args.size(); ++i) {
    const std::string& a = args[i];
    if (parse_compile_flag(args, i, flags)) continue;
    if (a == "-o") {
      if (i + 1 >= args.size()) fail("flag -o needs a value");
      out_path = args[++i];
    } else if (a == "-q" || a == "--quiet") {
      quiet = true;
    } else if (!a.empty() && a[0] == '-') {
      fail("unknown flag '", a, "'");
    } else if (model.empty()) {
      model = a;
    } else {
      fail("unexpected argument '", a, "'");
    }
  }
  if (model.empty() || out_path.empty()) {
    fail("usage: kilnc compile MODEL.onnx -o OUT.kiln [--target cpu|opencl] [--fpga] "
         "[--opencl-binary FILE] [--cpu NAME] [-O0..3] "
         "[--input-shape NAME=DIMS]... [--bind-input NAME=FILE.npy]... [--passes=a,b] [--print-after-all] [--print-after=P]");
  }
  const auto t0 = std::chrono::steady_clock::now();
  frontend::LoadedModel lm = frontend::load_onnx(model);
  PassContext pctx;
  pctx.verify_after_each = true;
  pctx.print_after_all = flags.print_after_all;
  for (const auto& p : flags.print_after) pctx.print_after.insert(p);
  pctx.dump = &std::cout;
  flags.options.pass_context = &pctx;
  const cpu_codegen::CompiledModel compiled = compile_for_target(*lm.graph, flags);
  artifact::write_artifact(out_path, compiled.meta, compiled.weights, compiled.code);
  const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  if (!quiet) {
    for (const PassReport& r : pctx.report)
      for (const auto& line : r.changes) std::printf("pass %s: %s\n", r.pass.c_str(), line.c_str());
    for (const auto& line : compiled.report) std::printf("%s\n", line.c_str());
  }
  std::printf("wrote %s in %.2f s\n", out_path.c_str(), secs);
  return 0;
}

}  // namespace kiln::tools
