// TensorProto <-> Tensor, with every encoding ONNX allows: raw_data, the typed repeated
// fields, and external data files (kept inside the model's folder, bounds-checked).
#pragma once

#include <onnx/onnx_pb.h>

#include <filesystem>
#include <string>

#include "ir/tensor.h"

namespace kiln::frontend {

// `base_dir` is the model's folder, required when the tensor uses external data (empty = none
// allowed). `what` names the tensor in errors.
Tensor tensor_from_onnx(const onnx::TensorProto& p, const std::filesystem::path& base_dir,
                        const std::string& what);

// Writes raw_data (little-endian), dims and dtype.
void tensor_to_onnx(const Tensor& t, const std::string& name, onnx::TensorProto* out);

// Reads a serialized TensorProto file (.pb), as in the ONNX test data.
Tensor read_tensor_pb(const std::filesystem::path& path, std::string* name = nullptr);

}  // namespace kiln::frontend
