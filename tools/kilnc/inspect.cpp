// kilnc inspect: what a model is made of, and whether Kiln can take all of it.
#include <onnx/onnx_pb.h>

#include <cstdio>
#include <fstream>
#include <iostream>

#include "frontend/onnx_loader.h"
#include "frontend/onnx_types.h"
#include "ir/cost.h"
#include "ir/printer.h"
#include "tools/kilnc/commands.h"

namespace kiln::tools {

namespace {
std::string type_text(const onnx::ValueInfoProto& vi) {
  try {
    return frontend::value_type_from_onnx(vi.type(), vi.name()).to_string();
  } catch (const Error& e) {
    return std::string("unsupported type (") + e.what() + ")";
  }
}

std::string human_bytes(int64_t b) {
  char buf[64];
  if (b >= (int64_t{1} << 20)) std::snprintf(buf, sizeof buf, "%.2f MiB", b / 1048576.0);
  else if (b >= 1024) std::snprintf(buf, sizeof buf, "%.2f KiB", b / 1024.0);
  else std::snprintf(buf, sizeof buf, "%lld B", static_cast<long long>(b));
  return buf;
}
}  // namespace

int kilnc_inspect(const std::vector<std::string>& args) {
  std::string model, dot_path;
  bool print_ir = false;
  for (size_t i = 0; i < args.size(); ++i) {
    if (args[i] == "--dot") {
      if (i + 1 >= args.size()) fail("flag --dot needs a value");
      dot_path = args[++i];
    } else if (args[i] == "--print-ir") {
      print_ir = true;
    } else if (!args[i].empty() && args[i][0] == '-') {
      fail("unknown flag '", args[i], "'");
    } else if (model.empty()) {
      model = args[i];
    } else {
      fail("unexpected argument '", args[i], "'");
    }
  }
  if (model.empty()) fail("usage: kilnc inspect MODEL.onnx [--print-ir] [--dot FILE]");
  const std::filesystem::path path = model;
  onnx::ModelProto m;
  frontend::parse_model_file(path, &m);
  const frontend::ModelInfo info = frontend::scan_model(m);
  std::printf("model: %s\n", path.string().c_str());
  std::printf("ir_version: %lld  producer: %s %s\n", static_cast<long long>(info.ir_version),
              info.producer_name.c_str(), info.producer_version.c_str());
  std::printf("opsets:");
  for (const auto& [d, v] : info.opset_imports) {
    std::printf(" %s=%lld", d.empty() ? "ai.onnx" : d.c_str(), static_cast<long long>(v));
  }
  std::printf("\n");

  // Try the full import for inferred shapes and MACs; fall back to the declared signature.
  std::unique_ptr<Graph> g;
  std::string import_error;
  if (info.unsupported_ops.empty()) {
    try {
      std::filesystem::path dir = path.parent_path();
      g = frontend::import_model(m, dir.empty() ? "." : dir).graph;
    } catch (const Error& e) {
      import_error = e.what();
    }
  }
  std::printf("inputs:\n");
  for (const auto& in : m.graph().input()) {
    bool is_init = false;
    for (const auto& init : m.graph().initializer()) is_init |= init.name() == in.name();
    if (!is_init) std::printf("  %s: %s\n", in.name().c_str(), type_text(in).c_str());
  }
  std::printf("outputs:\n");
  for (const auto& out : m.graph().output()) {
    std::string t = type_text(out);
    if (g) {
      if (const Value* v = g->find_value(out.name())) t = v->type.to_string();
    }
    std::printf("  %s: %s\n", out.name().c_str(), t.c_str());
  }
  int64_t params = 0, bytes = 0;
  for (const auto& init : m.graph().initializer()) {
    int64_t n = 1;
    for (int64_t d : init.dims()) n = (d >= 0 && n <= INT64_MAX / std::max<int64_t>(d, 1)) ? n * d : -1;
    if (n < 0) continue;
    params += n;
    if (frontend::onnx_dtype_name(init.data_type()).rfind("UNDEFINED", 0) != 0 &&
        dtype_is_valid(init.data_type())) {
      bytes += n * static_cast<int64_t>(dtype_size(static_cast<DType>(init.data_type())));
    }
  }
  std::printf("parameters: %lld (%s)\n", static_cast<long long>(params), human_bytes(bytes).c_str());
  int64_t total = 0;
  for (const auto& [op, n] : info.op_histogram) total += n;
  std::printf("nodes: %lld\nops:\n", static_cast<long long>(total));
  for (const auto& [op, n] : info.op_histogram) {
    std::printf("  %-28s %lld\n", op.c_str(), static_cast<long long>(n));
  }
  if (g) {
    bool complete = true;
    const int64_t macs = estimate_graph_macs(*g, &complete);
    std::printf("macs: %lld%s\n", static_cast<long long>(macs),
                complete ? "" : " (symbolic dims counted as 1)");
  } else {
    std::printf("macs: unknown (model not importable)\n");
  }
  if (g && print_ir) print_graph(std::cout, *g);
  if (g && !dot_path.empty()) {
    std::ofstream dot(dot_path);
    write_dot(dot, *g);
    if (!dot) fail("cannot write '", dot_path, "'");
    std::printf("dot: %s\n", dot_path.c_str());
  }
  if (info.unsupported_ops.empty() && import_error.empty()) {
    std::printf("unsupported ops: none\n");
    return 0;
  }
  std::printf("unsupported ops:");
  for (const auto& s : info.unsupported_ops) std::printf(" %s;", s.c_str());
  std::printf("\n");
  if (!import_error.empty()) std::printf("import error: %s\n", import_error.c_str());
  return 0;
}

}  // namespace kiln::tools
