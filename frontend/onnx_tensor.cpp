#include "frontend/onnx_tensor.h"

#include <sys/stat.h>

#include <cstring>
#include <fstream>
#include <limits>

#include "frontend/onnx_types.h"

namespace kiln::frontend {

namespace fs = std::filesystem;

namespace {

// Copies a typed repeated field into the tensor, converting element by element.
template <typename Src, typename Field>
void copy_field(Tensor& t, const Field& field, const std::string& what, const char* field_name) {
  if (static_cast<int64_t>(field.size()) != t.numel()) {
    fail(what, ": ", field_name, " has ", field.size(), " values but dims ",
         dims_to_string(t.dims()), " need ", t.numel());
  }
  dispatch_dtype(t.dtype(), what.c_str(), [&]<typename T>() {
    T* out = t.data<T>();
    for (int i = 0; i < field.size(); ++i) {
      if constexpr (std::is_same_v<T, half> || std::is_same_v<T, bfloat16>) {
        out[i].bits = static_cast<uint16_t>(field.Get(i));  // int32_data holds the raw bits
      } else {
        out[i] = static_cast<T>(static_cast<Src>(field.Get(i)));
      }
    }
  });
}

fs::path resolve_external_path(const std::string& location, const fs::path& base_dir,
                               const std::string& what) {
  if (base_dir.empty()) fail(what, ": external data is not allowed for a model loaded from memory");
  if (location.empty()) fail(what, ": external data has no location");
  const fs::path rel(location);
  if (rel.is_absolute() || location[0] == '/' || location[0] == '\\') {
    fail(what, ": external data location '", location, "' is an absolute path");
  }
  for (const auto& part : rel) {
    if (part == "..") fail(what, ": external data location '", location, "' escapes the model folder");
  }
  std::error_code ec;
  const fs::path base = fs::canonical(base_dir, ec);
  if (ec) fail(what, ": cannot resolve model folder '", base_dir.string(), "'");
  // Refuse symlinks anywhere below the model folder: they could point outside it.
  fs::path walk = base;
  for (const auto& part : rel) {
    walk /= part;
    if (fs::is_symlink(fs::symlink_status(walk, ec))) {
      fail(what, ": external data location '", location, "' goes through a symlink");
    }
  }
  const fs::path full = fs::weakly_canonical(base / rel, ec);
  const auto [end_b, _] = std::mismatch(base.begin(), base.end(), full.begin(), full.end());
  if (ec || end_b != base.end()) {
    fail(what, ": external data location '", location, "' is outside the model folder");
  }
  return full;
}

void read_external(Tensor& t, const onnx::TensorProto& p, const fs::path& base_dir,
                   const std::string& what) {
  std::string location;
  int64_t offset = 0, length = -1;
  for (const auto& kv : p.external_data()) {
    auto parse = [&](const std::string& s) -> int64_t {
      size_t pos = 0;
      long long v = 0;
      try {
        v = std::stoll(s, &pos);
      } catch (...) {
        pos = 0;
      }
      if (pos != s.size() || v < 0) fail(what, ": external data ", kv.key(), " '", s, "' is not a valid number");
      return v;
    };
    if (kv.key() == "location") location = kv.value();
    else if (kv.key() == "offset") offset = parse(kv.value());
    else if (kv.key() == "length") length = parse(kv.value());
  }
  const fs::path path = resolve_external_path(location, base_dir, what);
  std::error_code ec;
  if (!fs::is_regular_file(path, ec)) fail(what, ": external data file '", location, "' not found");
  const auto size = static_cast<int64_t>(fs::file_size(path, ec));
  if (ec) fail(what, ": cannot stat external data file '", location, "'");
  const auto need = static_cast<int64_t>(t.nbytes());
  if (length >= 0 && length != need) {
    fail(what, ": external data length ", length, " does not match ", need, " bytes for ",
         t.describe());
  }
  if (offset > size || need > size - offset) {
    fail(what, ": external data [", offset, ", ", offset + need, ") is past the end of '", location,
         "' (", size, " bytes)");
  }
  std::ifstream in(path, std::ios::binary);
  in.seekg(offset);
  in.read(static_cast<char*>(t.raw()), need);
  if (!in) fail(what, ": cannot read external data from '", location, "'");
}

}  // namespace

Tensor tensor_from_onnx(const onnx::TensorProto& p, const fs::path& base_dir,
                        const std::string& what_in) {
  const std::string what = "tensor '" + (p.name().empty() ? what_in : p.name()) + "'";
  if (p.has_segment()) fail_unsupported(what, ": segmented tensors are not supported");
  const DType dtype = dtype_from_onnx(p.data_type(), what);
  Dims dims(p.dims().begin(), p.dims().end());
  for (int64_t d : dims) {
    if (d < 0) fail(what, ": negative dimension ", d, " in dims ", dims_to_string(dims));
  }
  int64_t numel = 0;
  try {
    numel = checked_numel(dims);
  } catch (const Error& e) {
    fail(what, ": ", e.what());
  }
  const size_t es = dtype_size(dtype);
  // Raw and external payloads must match exactly; check before allocating so absurd dims in a
  // small file fail on the mismatch rather than on the allocation.
  if (p.data_location() != onnx::TensorProto::EXTERNAL && p.has_raw_data()) {
    if (static_cast<uint64_t>(numel) > std::numeric_limits<uint64_t>::max() / es ||
        p.raw_data().size() != static_cast<uint64_t>(numel) * es) {
      fail(what, ": raw_data has ", p.raw_data().size(), " bytes but ", dtype_name(dtype), "[",
           dims_to_string(dims), "] needs ", static_cast<uint64_t>(numel) * es);
    }
  }
  Tensor t;
  try {
    t = Tensor(dtype, dims);
  } catch (const Error& e) {
    fail(what, ": ", e.what());
  }
  if (p.data_location() == onnx::TensorProto::EXTERNAL) {
    read_external(t, p, base_dir, what);
    return t;
  }
  if (p.has_raw_data()) {
    if (t.nbytes()) std::memcpy(t.raw(), p.raw_data().data(), t.nbytes());
    return t;
  }
  switch (dtype) {
    case DType::F32: copy_field<float>(t, p.float_data(), what, "float_data"); break;
    case DType::F64: copy_field<double>(t, p.double_data(), what, "double_data"); break;
    case DType::I64: copy_field<int64_t>(t, p.int64_data(), what, "int64_data"); break;
    case DType::U32: case DType::U64: copy_field<uint64_t>(t, p.uint64_data(), what, "uint64_data"); break;
    default: copy_field<int32_t>(t, p.int32_data(), what, "int32_data"); break;
  }
  return t;
}

void tensor_to_onnx(const Tensor& t, const std::string& name, onnx::TensorProto* out) {
  out->set_name(name);
  out->set_data_type(dtype_to_onnx(t.dtype()));
  for (int64_t d : t.dims()) out->add_dims(d);
  out->set_raw_data(std::string(static_cast<const char*>(t.raw()), t.nbytes()));
}

Tensor read_tensor_pb(const fs::path& path, std::string* name) {
  std::ifstream in(path, std::ios::binary);
  if (!in) fail("cannot open tensor file '", path.string(), "'");
  std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  onnx::TensorProto p;
  if (!p.ParseFromString(bytes)) fail("'", path.string(), "' is not a serialized ONNX TensorProto");
  if (name) *name = p.name();
  return tensor_from_onnx(p, {}, path.filename().string());
}

}  // namespace kiln::frontend
