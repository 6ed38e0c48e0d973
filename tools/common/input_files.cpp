#include "tools/common/input_files.h"

#include <algorithm>
#include <set>

#include "runtime/io/npy.h"
#ifdef KILN_TOOLS_WITH_ONNX
#include "frontend/onnx_tensor.h"
#endif
#include "runtime/io/tensor_pb.h"

namespace kiln::tools {

namespace fs = std::filesystem;

Tensor read_tensor_file(const fs::path& path, bool allow_pb) {
  std::error_code ec;
  if (!fs::is_regular_file(path, ec)) fail("input file '", path.string(), "' not found");
  const std::string ext = path.extension().string();
  if (ext == ".npy") return read_npy(path);
  if (ext == ".pb") {
#ifdef KILN_TOOLS_WITH_ONNX
    if (allow_pb) return frontend::read_tensor_pb(path);
#endif
    (void)allow_pb;
    return read_tensor_proto_file(path);  // the runtime-only reader (no protobuf)
  }
  fail("input file '", path.string(), "': unknown extension '", ext, "' (expected .npy or .pb)");
}

std::map<std::string, Tensor> bind_inputs(const std::vector<std::string>& args,
                                          const std::vector<std::string>& input_names,
                                          bool allow_pb) {
  std::map<std::string, Tensor> bound;
  size_t next = 0;
  for (const std::string& arg : args) {
    std::string name, file = arg;
    const size_t eq = arg.find('=');
    if (eq != std::string::npos &&
        std::find(input_names.begin(), input_names.end(), arg.substr(0, eq)) != input_names.end()) {
      name = arg.substr(0, eq);
      file = arg.substr(eq + 1);
    } else if (eq != std::string::npos && !fs::exists(arg)) {
      fail("--input ", arg, ": the model has no input named '", arg.substr(0, eq), "'");
    } else {
      while (next < input_names.size() && bound.count(input_names[next])) ++next;
      if (next >= input_names.size()) {
        fail("--input ", arg, ": more input files than model inputs (", input_names.size(), ")");
      }
      name = input_names[next++];
    }
    if (bound.count(name)) fail("--input ", arg, ": input '", name, "' is bound twice");
    bound[name] = read_tensor_file(file, allow_pb);
  }
  return bound;
}

std::string output_file_name(const std::string& output_name) {
  std::string s = output_name;
  for (char& c : s) {
    if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '.' || c == '_' || c == '-')) c = '_';
  }
  if (s.empty() || s == "." || s == "..") s = "_" + s;
  return s + ".npy";
}

}  // namespace kiln::tools
