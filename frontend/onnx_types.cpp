#include "frontend/onnx_types.h"

namespace kiln::frontend {

std::string onnx_dtype_name(int32_t code) {
  static const char* names[] = {"UNDEFINED", "FLOAT",     "UINT8",         "INT8",
                                "UINT16",    "INT16",     "INT32",         "INT64",
                                "STRING",    "BOOL",      "FLOAT16",       "DOUBLE",
                                "UINT32",    "UINT64",    "COMPLEX64",     "COMPLEX128",
                                "BFLOAT16",  "FLOAT8E4M3FN", "FLOAT8E4M3FNUZ", "FLOAT8E5M2",
                                "FLOAT8E5M2FNUZ", "UINT4", "INT4",         "FLOAT4E2M1",
                                "FLOAT8E8M0", "UINT2",    "INT2"};
  std::string n = (code >= 0 && code < static_cast<int32_t>(std::size(names))) ? names[code]
                                                                               : "UNKNOWN";
  return n + " (" + std::to_string(code) + ")";
}

DType dtype_from_onnx(int32_t code, const std::string& what) {
  if (!dtype_is_valid(code)) {
    if (code == 0 || code < 0 || code > 64) fail(what, ": invalid dtype code ", code);
    fail_unsupported(what, ": dtype ", onnx_dtype_name(code), " is not supported");
  }
  return static_cast<DType>(code);
}

int32_t dtype_to_onnx(DType t) { return static_cast<int32_t>(t); }

ValueType value_type_from_onnx(const onnx::TypeProto& t, const std::string& what) {
  if (t.value_case() != onnx::TypeProto::kTensorType) {
    if (t.value_case() == onnx::TypeProto::VALUE_NOT_SET) return ValueType{};
    fail_unsupported(what, ": only tensor types are supported (sequence, map, optional and sparse "
                     "values are not)");
  }
  const auto& tt = t.tensor_type();
  ValueType vt;
  if (tt.elem_type() != 0) vt.dtype = dtype_from_onnx(tt.elem_type(), what);
  if (tt.has_shape()) {
    vt.shape.rank_known = true;
    for (const auto& d : tt.shape().dim()) {
      if (d.has_dim_value()) {
        if (d.dim_value() < 0) fail(what, ": negative dimension ", d.dim_value());
        vt.shape.dims.push_back(Dim::of(d.dim_value()));
      } else if (d.has_dim_param()) {
        vt.shape.dims.push_back(Dim::sym(d.dim_param()));
      } else {
        vt.shape.dims.push_back(Dim::unknown());
      }
    }
  }
  return vt;
}

void value_type_to_onnx(const ValueType& vt, onnx::TypeProto* out) {
  auto* tt = out->mutable_tensor_type();
  tt->set_elem_type(dtype_to_onnx(vt.dtype));
  if (!vt.shape.rank_known) return;
  auto* shape = tt->mutable_shape();
  for (const Dim& d : vt.shape.dims) {
    auto* pd = shape->add_dim();
    if (d.is_static()) {
      pd->set_dim_value(d.value);
    } else if (!d.symbol.empty()) {
      pd->set_dim_param(d.symbol);
    }
  }
}

}  // namespace kiln::frontend
