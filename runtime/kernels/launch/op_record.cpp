#include "runtime/kernels/launch/op_record.h"

#include <bit>
#include <cstring>

#include "runtime/artifact/byte_codec.h"

namespace kiln::launch {
namespace {

using artifact::ByteReader;
using artifact::ByteWriter;

constexpr uint32_t kRecordMagic = 0x524f504b;  // "KPOR"
constexpr uint32_t kMaxRank = 64;
constexpr uint32_t kMaxName = 4096;

void write_dims(ByteWriter& w, const Dims& dims) {
  w.u32(static_cast<uint32_t>(dims.size()));
  for (int64_t d : dims) w.i64(d);
}

Dims read_dims(ByteReader& r) {
  const uint32_t rank = r.count(8, "dims");
  if (rank > kMaxRank) fail(r.what(), ": rank ", rank, " exceeds ", kMaxRank);
  Dims dims(rank);
  for (auto& d : dims) {
    d = r.i64();
    if (d < 0) fail(r.what(), ": negative dim ", d);
  }
  return dims;
}

DType read_dtype(ByteReader& r) {
  const int32_t code = r.i32();
  if (!dtype_is_valid(code)) fail(r.what(), ": bad dtype code ", code);
  return static_cast<DType>(code);
}

void write_tensor(ByteWriter& w, const Tensor& t) {
  w.i32(static_cast<int32_t>(t.dtype()));
  write_dims(w, t.dims());
  w.u64(t.nbytes());
  w.bytes(t.raw(), t.nbytes());
}

Tensor read_tensor(ByteReader& r) {
  const DType dtype = read_dtype(r);
  Dims dims = read_dims(r);
  const uint64_t bytes = r.u64();
  if (bytes > r.remaining()) fail(r.what(), ": tensor of ", bytes, " bytes is truncated");
  Tensor t(dtype, dims);  // checks the element count against overflow
  if (t.nbytes() != bytes) fail(r.what(), ": tensor bytes ", bytes, " do not match its dims");
  if (bytes) std::memcpy(t.raw(), r.take(bytes), bytes);
  return t;
}

void write_attribute(ByteWriter& w, const std::string& name, const Attribute& a) {
  using K = Attribute::Kind;
  w.str(name);
  w.u32(static_cast<uint32_t>(a.kind));
  switch (a.kind) {
    case K::Int: w.i64(a.i); break;
    case K::Float: w.u32(std::bit_cast<uint32_t>(a.f)); break;
    case K::String: w.str(a.s); break;
    case K::Tensor: write_tensor(w, a.t); break;
    case K::Ints:
      w.u32(static_cast<uint32_t>(a.ints.size()));
      for (int64_t v : a.ints) w.i64(v);
      break;
    case K::Floats:
      w.u32(static_cast<uint32_t>(a.floats.size()));
      for (float v : a.floats) w.u32(std::bit_cast<uint32_t>(v));
      break;
    case K::Strings:
      w.u32(static_cast<uint32_t>(a.strings.size()));
      for (const auto& v : a.strings) w.str(v);
      break;
    case K::Tensors:
      w.u32(static_cast<uint32_t>(a.tensors.size()));
      for (const auto& v : a.tensors) write_tensor(w, v);
      break;
    case K::Graph:
    case K::Graphs:
      fail_unsupported("attribute '", name, "': subgraph attributes cannot be compiled");
  }
}

Attribute read_attribute(ByteReader& r, std::string* name) {
  using K = Attribute::Kind;
  *name = r.str(kMaxName);
  const uint32_t kind = r.u32();
  Attribute a;
  switch (static_cast<K>(kind)) {
    case K::Int: return Attribute::of_int(r.i64());
    case K::Float: return Attribute::of_float(std::bit_cast<float>(r.u32()));
    case K::String: return Attribute::of_string(r.str(1u << 30));
    case K::Tensor: return Attribute::of_tensor(read_tensor(r));
    case K::Ints: {
      std::vector<int64_t> v(r.count(8, "ints"));
      for (auto& x : v) x = r.i64();
      return Attribute::of_ints(std::move(v));
    }
    case K::Floats: {
      std::vector<float> v(r.count(4, "floats"));
      for (auto& x : v) x = std::bit_cast<float>(r.u32());
      return Attribute::of_floats(std::move(v));
    }
    case K::Strings: {
      std::vector<std::string> v(r.count(4, "strings"));
      for (auto& x : v) x = r.str(1u << 30);
      return Attribute::of_strings(std::move(v));
    }
    case K::Tensors: {
      const uint32_t n = r.count(16, "tensors");
      a.kind = K::Tensors;
      for (uint32_t i = 0; i < n; ++i) a.tensors.push_back(read_tensor(r));
      return a;
    }
    case K::Graph:
    case K::Graphs:
      break;
  }
  fail(r.what(), ": attribute '", *name, "' has bad kind ", kind);
}

void write_operand(ByteWriter& w, const OpRecordTensor& t) {
  w.u32(t.present ? 1 : 0);
  if (!t.present) return;
  w.i32(static_cast<int32_t>(t.dtype));
  write_dims(w, t.dims);
}

OpRecordTensor read_operand(ByteReader& r) {
  OpRecordTensor t;
  const uint32_t present = r.u32();
  if (present > 1) fail(r.what(), ": bad operand flag ", present);
  t.present = present == 1;
  if (!t.present) return t;
  t.dtype = read_dtype(r);
  t.dims = read_dims(r);
  return t;
}

}  // namespace

size_t OpRecord::present_inputs() const {
  size_t n = 0;
  for (const auto& t : inputs) n += t.present;
  return n;
}

size_t OpRecord::present_outputs() const {
  size_t n = 0;
  for (const auto& t : outputs) n += t.present;
  return n;
}

std::vector<uint8_t> encode_op_record(const OpRecord& record) {
  ByteWriter w;
  w.u32(kRecordMagic);
  w.str(std::string(op_name(record.op)));
  w.i32(record.opset);
  w.str(record.node_name.substr(0, kMaxName));
  w.u32(static_cast<uint32_t>(record.attrs.all().size()));
  for (const auto& [name, a] : record.attrs.all()) write_attribute(w, name, a);
  w.u32(static_cast<uint32_t>(record.inputs.size()));
  for (const auto& t : record.inputs) write_operand(w, t);
  w.u32(static_cast<uint32_t>(record.outputs.size()));
  for (const auto& t : record.outputs) write_operand(w, t);
  return std::move(w.buffer());
}

OpRecord decode_op_record(const uint8_t* data, uint64_t size, const std::string& what) {
  ByteReader r(data, size, what);
  if (r.u32() != kRecordMagic) fail(what, ": not an op record (bad magic)");
  OpRecord rec;
  const std::string op = r.str(kMaxName);
  const auto kind = op_from_name(op);
  if (!kind) fail(what, ": op '", op, "' is unknown to this runtime");
  rec.op = *kind;
  rec.opset = r.i32();
  rec.node_name = r.str(kMaxName);
  const uint32_t n_attrs = r.count(8, "attributes");
  for (uint32_t i = 0; i < n_attrs; ++i) {
    std::string name;
    Attribute a = read_attribute(r, &name);
    rec.attrs.set(name, std::move(a));
  }
  const uint32_t n_in = r.count(4, "inputs");
  for (uint32_t i = 0; i < n_in; ++i) rec.inputs.push_back(read_operand(r));
  const uint32_t n_out = r.count(4, "outputs");
  for (uint32_t i = 0; i < n_out; ++i) rec.outputs.push_back(read_operand(r));
  const OpInfo& info = op_info(rec.op);
  if (static_cast<int>(rec.inputs.size()) > info.max_inputs ||
      static_cast<int>(rec.outputs.size()) > info.max_outputs)
    fail(what, ": op '", op, "' record has too many inputs or outputs");
  return rec;
}

}  // namespace kiln::launch
