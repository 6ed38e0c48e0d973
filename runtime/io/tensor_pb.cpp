#include "runtime/io/tensor_pb.h"

#include <cstring>
#include <fstream>
#include <vector>

#include "ir/error.h"

namespace kiln {
namespace {

// Field numbers of onnx.TensorProto (onnx/onnx.proto).
enum Field : uint32_t {
  kDims = 1, kDataType = 2, kSegment = 3, kFloatData = 4, kInt32Data = 5, kStringData = 6,
  kInt64Data = 7, kName = 8, kRawData = 9, kDoubleData = 10, kUint64Data = 11, kDocString = 12,
  kExternalData = 13, kDataLocation = 14,
};

class Wire {
 public:
  Wire(const uint8_t* p, size_t n, const std::string& what) : p_(p), end_(p + n), what_(what) {}
  bool done() const { return p_ == end_; }
  uint64_t varint() {
    uint64_t v = 0;
    for (int shift = 0; shift < 64; shift += 7) {
      if (p_ == end_) fail(what_, ": truncated varint");
      const uint8_t b = *p_++;
      v |= static_cast<uint64_t>(b & 0x7f) << shift;
      if (!(b & 0x80)) return v;
    }
    fail(what_, ": varint too long");
  }
  std::pair<const uint8_t*, size_t> bytes() {
    const uint64_t n = varint();
    if (n > static_cast<uint64_t>(end_ - p_)) fail(what_, ": field of ", n, " bytes is truncated");
    const uint8_t* start = p_;
    p_ += n;
    return {start, static_cast<size_t>(n)};
  }
  void skip(uint32_t wire_type) {
    switch (wire_type) {
      case 0: varint(); return;
      case 1: advance(8); return;
      case 2: bytes(); return;
      case 5: advance(4); return;
      default: fail(what_, ": unsupported wire type ", wire_type);
    }
  }
  void advance(size_t n) {
    if (n > static_cast<size_t>(end_ - p_)) fail(what_, ": truncated field");
    p_ += n;
  }
  const uint8_t* pos() const { return p_; }

 private:
  const uint8_t* p_;
  const uint8_t* end_;
  std::string what_;
};

// Appends a repeated numeric field's values as bytes of `elem` each: packed (wire type 2) or
// one at a time (varint / fixed).
template <typename T>
void read_repeated(Wire& w, uint32_t wire_type, bool is_varint, std::vector<T>& out,
                   const std::string& what) {
  auto one = [&](Wire& src) {
    if (is_varint) {
      out.push_back(static_cast<T>(src.varint()));
    } else {
      T v;
      const uint8_t* p = src.pos();
      src.advance(sizeof(T));
      std::memcpy(&v, p, sizeof v);
      out.push_back(v);
    }
  };
  if (wire_type == 2) {
    auto [p, n] = w.bytes();
    Wire inner(p, n, what);
    while (!inner.done()) one(inner);
  } else {
    one(w);
  }
}

}  // namespace

Tensor read_tensor_proto_file(const std::filesystem::path& path) {
  const std::string what = "tensor file '" + path.string() + "'";
  std::ifstream in(path, std::ios::binary);
  if (!in) fail(what, ": cannot open");
  const std::vector<uint8_t> buf((std::istreambuf_iterator<char>(in)), {});
  Wire w(buf.data(), buf.size(), what);
  Dims dims;
  int32_t data_type = 0;
  std::vector<uint8_t> raw;
  bool has_raw = false;
  std::vector<float> floats;
  std::vector<int32_t> int32s;
  std::vector<int64_t> int64s;
  std::vector<double> doubles;
  std::vector<uint64_t> uint64s;
  while (!w.done()) {
    const uint64_t key = w.varint();
    const auto field = static_cast<uint32_t>(key >> 3);
    const auto wire_type = static_cast<uint32_t>(key & 7);
    switch (field) {
      case kDims: read_repeated(w, wire_type, true, dims, what); break;
      case kDataType: data_type = static_cast<int32_t>(w.varint()); break;
      case kFloatData: read_repeated(w, wire_type, false, floats, what); break;
      case kInt32Data: read_repeated(w, wire_type, true, int32s, what); break;
      case kInt64Data: read_repeated(w, wire_type, true, int64s, what); break;
      case kDoubleData: read_repeated(w, wire_type, false, doubles, what); break;
      case kUint64Data: read_repeated(w, wire_type, true, uint64s, what); break;
      case kRawData: {
        auto [p, n] = w.bytes();
        raw.assign(p, p + n);
        has_raw = true;
        break;
      }
      case kSegment: fail(what, ": segmented tensors are not supported");
      case kStringData: fail(what, ": string tensors are not supported");
      case kExternalData:
      case kDataLocation: fail(what, ": external data is not supported for input files");
      default: w.skip(wire_type);  // name, doc_string, metadata
    }
  }
  if (!dtype_is_valid(data_type)) fail(what, ": unsupported data_type ", data_type);
  for (int64_t d : dims)
    if (d < 0) fail(what, ": negative dim ", d);
  const auto dtype = static_cast<DType>(data_type);
  Tensor t(dtype, dims);  // checks the element count
  const size_t n = static_cast<size_t>(t.numel()), es = dtype_size(dtype);
  auto expect = [&](size_t got) {
    if (got != n) fail(what, ": ", got, " values for dims [", dims_to_string(dims), "]");
  };
  auto* out = static_cast<uint8_t*>(t.raw());
  if (has_raw) {
    expect(raw.size() / es);
    if (raw.size() != n * es) fail(what, ": raw_data has ", raw.size(), " bytes");
    if (n) std::memcpy(out, raw.data(), raw.size());
    return t;
  }
  switch (dtype) {
    case DType::F32: expect(floats.size()); if (n) std::memcpy(out, floats.data(), n * 4); break;
    case DType::F64: expect(doubles.size()); if (n) std::memcpy(out, doubles.data(), n * 8); break;
    case DType::I64: expect(int64s.size()); if (n) std::memcpy(out, int64s.data(), n * 8); break;
    case DType::U64: expect(uint64s.size()); if (n) std::memcpy(out, uint64s.data(), n * 8); break;
    case DType::U32: expect(uint64s.size());
      for (size_t i = 0; i < n; ++i) reinterpret_cast<uint32_t*>(out)[i] = static_cast<uint32_t>(uint64s[i]);
      break;
    default:
      // int32_data carries every type of 32 bits or less (bool, int8..int32, uint8/16, f16, bf16)
      expect(int32s.size());
      for (size_t i = 0; i < n; ++i) {
        const int32_t v = int32s[i];
        std::memcpy(out + i * es, &v, es);  // little-endian: the low bytes
      }
  }
  return t;
}

}  // namespace kiln
