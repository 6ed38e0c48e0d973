// kilnc opt: runs passes on a model (LLVM opt style) so each pass can be exercised on its own:
// `kilnc opt MODEL.onnx --passes=constant-fold,dce --print-after-all [-o OUT.onnx]`.
#include <cstdio>
#include <iostream>
#include <sstream>

#include "frontend/onnx_exporter.h"
#include "frontend/onnx_loader.h"
#include "ir/printer.h"
#include "passes/pass_manager.h"
#include "tools/kilnc/commands.h"

namespace kiln::tools {

namespace {
std::vector<std::string> split_commas(const std::string& s) {
  std::vector<std::string> out;
  std::stringstream ss(s);
  std::string item;
  while (std::getline(ss, item, ',')) {
    if (item.empty()) fail("--passes: empty pass name in '", s, "'");
    out.push_back(item);
  }
  return out;
}
}  // namespace

int kilnc_opt(const std::vector<std::string>& args) {
  std::string model, out_path;
  std::vector<std::string> passes;
  int level = -1;
  PassContext ctx;
  ctx.verify_after_each = true;
  ctx.dump = &std::cout;
  for (size_t i = 0; i < args.size(); ++i) {
    const std::string& a = args[i];
    if (a.rfind("--passes=", 0) == 0) {
      passes = split_commas(a.substr(9));
    } else if (a.size() == 3 && a.rfind("-O", 0) == 0 && a[2] >= '0' && a[2] <= '3') {
      level = a[2] - '0';
    } else if (a == "--print-after-all") {
      ctx.print_after_all = true;
    } else if (a.rfind("--print-after=", 0) == 0) {
      for (const auto& p : split_commas(a.substr(14))) ctx.print_after.insert(p);
    } else if (a == "-o") {
      if (i + 1 >= args.size()) fail("flag -o needs a value");
      out_path = args[++i];
    } else if (!a.empty() && a[0] == '-') {
      fail("unknown flag '", a, "'");
    } else if (model.empty()) {
      model = a;
    } else {
      fail("unexpected argument '", a, "'");
    }
  }
  if (model.empty()) {
    fail("usage: kilnc opt MODEL.onnx (--passes=a,b | -O0..3) [--print-after-all] "
         "[--print-after=PASS] [-o OUT.onnx]");
  }
  if (!passes.empty() && level >= 0) fail("give either --passes or -O<level>, not both");
  frontend::LoadedModel lm = frontend::load_onnx(model);
  Graph& g = *lm.graph;
  PassManager pm(ctx);
  if (level >= 0) {
    ctx.opt_level = level;
    pm.add_pipeline(pipeline_for_opt_level(level));
  } else {
    for (const auto& p : passes) pm.add(p);
  }
  const size_t nodes_before = g.nodes().size();
  pm.run(g);
  for (const PassReport& r : ctx.report) {
    for (const auto& line : r.changes) std::printf("; %s: %s\n", r.pass.c_str(), line.c_str());
    if (r.nodes_removed || r.bytes_saved) {
      std::printf("; %s: net %lld nodes removed, %lld parameter bytes saved\n", r.pass.c_str(),
                  static_cast<long long>(r.nodes_removed), static_cast<long long>(r.bytes_saved));
    }
  }
  std::printf("; nodes: %zu -> %zu\n", nodes_before, g.nodes().size());
  if (out_path.empty()) {
    print_graph(std::cout, g);
  } else {
    frontend::save_onnx(g, out_path);
    std::printf("; wrote %s\n", out_path.c_str());
  }
  return 0;
}

}  // namespace kiln::tools
