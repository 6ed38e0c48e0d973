// Reads an ONNX TensorProto file (the `.pb` inputs of the ONNX test suite) without protobuf, for
// the runtime-only tools: the runtime must not link protobuf, and the message's wire format is
// small and stable. Only what a model input needs is accepted: dims, data_type, and the data in
// raw_data or the typed repeated fields. External data, segments and strings are refused.
#pragma once

#include <filesystem>

#include "ir/tensor.h"

namespace kiln {

Tensor read_tensor_proto_file(const std::filesystem::path& path);

}  // namespace kiln
