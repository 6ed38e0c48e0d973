// Mapping between ONNX protobuf types and Kiln's: dtypes, value types, attributes.
#pragma once

#include <onnx/onnx_pb.h>

#include <string>

#include "ir/attribute.h"
#include "ir/value_type.h"

namespace kiln::frontend {

// ONNX TensorProto.DataType name for messages ("FLOAT8E4M3FN (17)").
std::string onnx_dtype_name(int32_t code);
// Fails (Unsupported) naming `what` if the ONNX code has no Kiln dtype.
DType dtype_from_onnx(int32_t code, const std::string& what);
int32_t dtype_to_onnx(DType t);

// Tensor value types only; sequences, maps, optionals and sparse tensors are unsupported.
ValueType value_type_from_onnx(const onnx::TypeProto& t, const std::string& what);
void value_type_to_onnx(const ValueType& vt, onnx::TypeProto* out);

}  // namespace kiln::frontend
