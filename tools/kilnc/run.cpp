// kilnc run: load an ONNX model, run it with a backend, write outputs as .npy.
#include <cstdio>
#include <filesystem>

#include "codegen/cpu/run_compiled.h"
#include "codegen/ref/interpreter.h"
#include "frontend/onnx_loader.h"
#include "runtime/io/npy.h"
#include "tools/common/input_files.h"
#include "tools/kilnc/commands.h"
#include "tools/kilnc/compile_flags.h"
#include "tools/kilnc/compile_target.h"

namespace kiln::tools {

namespace fs = std::filesystem;

int kilnc_run(const std::vector<std::string>& args) {
  std::string model, output_dir, backend = "ref";
  std::vector<std::string> inputs;
  CompileFlags flags;
  for (size_t i = 0; i < args.size(); ++i) {
    const std::string& a = args[i];
    if (parse_compile_flag(args, i, flags)) continue;
    auto value = [&]() -> const std::string& {
      if (i + 1 >= args.size()) fail("flag ", a, " needs a value");
      return args[++i];
    };
    if (a == "--input") inputs.push_back(value());
    else if (a == "--output-dir") output_dir = value();
    else if (a == "--backend") backend = value();
    else if (!a.empty() && a[0] == '-') fail("unknown flag '", a, "'");
    else if (model.empty()) model = a;
    else fail("unexpected argument '", a, "'");
  }
  if (model.empty()) fail("usage: kilnc run MODEL.onnx --input FILE... --output-dir DIR");
  if (output_dir.empty()) fail("--output-dir is required");
  if (backend != "ref" && backend != "cpu" && backend != "opencl" && backend != "opencl-fpga")
    fail("unknown backend '", backend, "' (available: ref, cpu, opencl, opencl-fpga)");
  if (backend != "ref") {  // the backend names the target: compiled, then run where it runs
    if (flags.target != "cpu" && flags.target != backend.substr(0, 6))
      fail("--target ", flags.target, " does not fit --backend ", backend);
    flags.target = backend == "cpu" ? "cpu" : "opencl";
    flags.fpga = flags.fpga || backend == "opencl-fpga";
  }

  frontend::LoadedModel lm = frontend::load_onnx(model);
  Graph& g = *lm.graph;
  std::vector<std::string> names;
  for (const Value* v : g.inputs) names.push_back(v->name());
  std::map<std::string, Tensor> feeds = bind_inputs(inputs, names, /*allow_pb=*/true);
  std::map<std::string, Tensor> outs;
  if (backend == "ref") {
    outs = Interpreter(g).run(feeds);
  } else {
    // Shapes come from the inputs given, so a model with symbolic dims runs as is.
    for (const auto& [name, t] : feeds)
      if (!flags.options.input_shapes.count(name)) flags.options.input_shapes[name] = t.dims();
    const cpu_codegen::CompiledModel compiled = compile_for_target(g, flags);
    outs = cpu_codegen::run_compiled(compiled, feeds);  // an OpenCL artifact runs on OpenCL
  }

  std::error_code ec;
  fs::create_directories(output_dir, ec);
  if (ec) fail("cannot create output folder '", output_dir, "': ", ec.message());
  for (const Value* v : g.outputs) {
    const fs::path p = fs::path(output_dir) / output_file_name(v->name());
    write_npy(p, outs.at(v->name()));
    std::printf("%s: %s -> %s\n", v->name().c_str(), outs.at(v->name()).describe().c_str(),
                p.string().c_str());
  }
  return 0;
}

}  // namespace kiln::tools
