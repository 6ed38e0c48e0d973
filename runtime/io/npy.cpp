#include "runtime/io/npy.h"

#include <cstring>
#include <fstream>

namespace kiln {

namespace fs = std::filesystem;

namespace {

struct Descr {
  const char* text;
  DType dtype;
};
constexpr Descr kDescrs[] = {
    {"<f4", DType::F32}, {"<f8", DType::F64}, {"<f2", DType::F16}, {"|i1", DType::I8},
    {"<i1", DType::I8},  {"|u1", DType::U8},  {"<u1", DType::U8},  {"<i2", DType::I16},
    {"<u2", DType::U16}, {"<i4", DType::I32}, {"<u4", DType::U32}, {"<i8", DType::I64},
    {"<u8", DType::U64}, {"|b1", DType::Bool}};

// Value of 'key' in the header dict, e.g. "'<f4'" or "(1, 3)"; empty when absent.
std::string dict_value(const std::string& header, const std::string& key) {
  const size_t k = header.find("'" + key + "'");
  if (k == std::string::npos) return {};
  size_t p = header.find(':', k);
  if (p == std::string::npos) return {};
  ++p;
  while (p < header.size() && header[p] == ' ') ++p;
  if (p >= header.size()) return {};
  const char open = header[p];
  const char close = open == '(' ? ')' : open == '\'' ? '\'' : ',';
  const size_t e = header.find(close, p + 1);
  if (e == std::string::npos) return {};
  return header.substr(p, e - p + (close == ',' ? 0 : 1));
}

}  // namespace

Tensor parse_npy(const void* data, size_t size, const std::string& what) {
  const auto* b = static_cast<const unsigned char*>(data);
  if (size < 10 || std::memcmp(b, "\x93NUMPY", 6) != 0) fail(what, ": not a .npy file (bad magic)");
  const int major = b[6];
  size_t header_len, header_start;
  if (major == 1) {
    header_len = b[8] | (b[9] << 8);
    header_start = 10;
  } else if (major == 2 || major == 3) {
    if (size < 12) fail(what, ": truncated .npy header");
    header_len = b[8] | (b[9] << 8) | (size_t{b[10]} << 16) | (size_t{b[11]} << 24);
    header_start = 12;
  } else {
    fail(what, ": unsupported .npy version ", major);
  }
  if (header_len > size - header_start) fail(what, ": truncated .npy header");
  const std::string header(reinterpret_cast<const char*>(b + header_start), header_len);
  const std::string descr = dict_value(header, "descr");
  const std::string order = dict_value(header, "fortran_order");
  const std::string shape = dict_value(header, "shape");
  if (descr.size() < 3 || shape.empty()) fail(what, ": malformed .npy header");
  if (order.rfind("True", 0) == 0) fail(what, ": Fortran-ordered .npy arrays are not supported");
  DType dtype = DType::Undefined;
  const std::string d = descr.substr(1, descr.size() - 2);
  for (const auto& x : kDescrs)
    if (d == x.text) dtype = x.dtype;
  if (dtype == DType::Undefined) fail(what, ": unsupported .npy dtype '", d, "'");
  Dims dims;
  for (size_t p = 1; p < shape.size() - 1;) {
    while (p < shape.size() - 1 && (shape[p] == ' ' || shape[p] == ',')) ++p;
    if (p >= shape.size() - 1) break;
    size_t used = 0;
    long long v = 0;
    try {
      v = std::stoll(shape.substr(p), &used);
    } catch (...) {
      fail(what, ": malformed .npy shape ", shape);
    }
    if (v < 0 || used == 0) fail(what, ": malformed .npy shape ", shape);
    dims.push_back(v);
    p += used;
  }
  const size_t payload = size - header_start - header_len;
  const int64_t numel = checked_numel(dims);
  if (static_cast<uint64_t>(numel) > payload / dtype_size(dtype) ||
      static_cast<uint64_t>(numel) * dtype_size(dtype) != payload) {
    fail(what, ": .npy payload has ", payload, " bytes, shape ", dims_to_string(dims), " of ",
         dtype_name(dtype), " needs ", static_cast<uint64_t>(numel) * dtype_size(dtype));
  }
  Tensor t(dtype, dims);
  if (payload) std::memcpy(t.raw(), b + header_start + header_len, payload);
  return t;
}

Tensor read_npy(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) fail("cannot open '", path.string(), "'");
  std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  return parse_npy(bytes.data(), bytes.size(), "'" + path.string() + "'");
}

void write_npy(const fs::path& path, const Tensor& t) {
  const char* descr = nullptr;
  for (const auto& x : kDescrs)
    if (x.dtype == t.dtype() && !descr) descr = x.text;
  if (!descr) fail("cannot write ", t.describe(), " as .npy");
  std::string shape = "(";
  for (size_t i = 0; i < t.dims().size(); ++i) shape += std::to_string(t.dims()[i]) + ", ";
  if (t.dims().size() > 1) shape.resize(shape.size() - 2);
  if (t.dims().size() == 1) shape.resize(shape.size() - 1);
  shape += ")";
  std::string header = std::string("{'descr': '") + descr + "', 'fortran_order': False, 'shape': " +
                       shape + ", }";
  // Pad so the payload starts 64-byte aligned; the header ends with '\n'.
  const size_t total = 10 + header.size() + 1;
  header.append((64 - total % 64) % 64, ' ');
  header += '\n';
  const fs::path tmp = path.string() + ".tmp";
  {
    std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
    if (!out) fail("cannot write '", tmp.string(), "'");
    const unsigned char pre[10] = {0x93, 'N', 'U', 'M', 'P', 'Y', 1, 0,
                                   static_cast<unsigned char>(header.size() & 0xff),
                                   static_cast<unsigned char>(header.size() >> 8)};
    out.write(reinterpret_cast<const char*>(pre), 10);
    out << header;
    out.write(static_cast<const char*>(t.raw()), static_cast<std::streamsize>(t.nbytes()));
    out.close();
    if (!out) fail("error writing '", tmp.string(), "'");
  }
  std::error_code ec;
  fs::rename(tmp, path, ec);
  if (ec) fail("cannot move '", tmp.string(), "' to '", path.string(), "': ", ec.message());
}

}  // namespace kiln
