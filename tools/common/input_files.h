// Binding tensor files given on a command line (`FILE` or `NAME=FILE`, .npy or ONNX .pb) to a
// model's inputs, and writing outputs as DIR/<name>.npy.
#pragma once

#include <filesystem>
#include <map>
#include <string>
#include <vector>

#include "ir/tensor.h"

namespace kiln::tools {

// Reads .npy, or .pb (serialized TensorProto) when `allow_pb` (the compiler-side tools).
Tensor read_tensor_file(const std::filesystem::path& path, bool allow_pb);

// Bare FILEs bind to `input_names` in order; NAME=FILE binds by name. Fails on unknown names,
// inputs bound twice, or more files than inputs.
std::map<std::string, Tensor> bind_inputs(const std::vector<std::string>& args,
                                          const std::vector<std::string>& input_names,
                                          bool allow_pb);

// File name for an output: its name with characters unsafe in a path replaced by '_'.
std::string output_file_name(const std::string& output_name);

}  // namespace kiln::tools
