#include "runtime/artifact/cuda_code.h"

#include <cstring>

#include "runtime/artifact/byte_codec.h"

namespace kiln::artifact {
namespace {

constexpr char kCudaMagic[8] = {'K', 'I', 'L', 'N', 'C', 'U', 'D', 'A'};
constexpr uint32_t kCudaCodeVersion = 1;
constexpr uint64_t kEntryBytes = 24;
constexpr uint32_t kMaxBlobs = 256;

}  // namespace

std::vector<uint8_t> encode_cuda_code(const std::vector<CudaBlobData>& blobs) {
  ByteWriter w;
  w.bytes(kCudaMagic, sizeof kCudaMagic);
  w.u32(kCudaCodeVersion);
  w.u32(static_cast<uint32_t>(blobs.size()));
  uint64_t offset = 16 + kEntryBytes * blobs.size();
  for (const CudaBlobData& b : blobs) {
    offset = (offset + 15) / 16 * 16;
    w.u32(static_cast<uint32_t>(b.kind));
    w.u32(b.arch);
    w.u64(offset);
    w.u64(b.bytes.size());
    offset += b.bytes.size();
  }
  for (const CudaBlobData& b : blobs) {
    w.pad_to(16);
    w.bytes(b.bytes.data(), b.bytes.size());
  }
  return std::move(w.buffer());
}

std::vector<CudaBlob> decode_cuda_code(const uint8_t* data, uint64_t size,
                                       const std::string& what) {
  const std::string where = what + ": CUDA code section";
  ByteReader r(data, size, where);
  const uint8_t* magic = r.take(sizeof kCudaMagic);
  if (std::memcmp(magic, kCudaMagic, sizeof kCudaMagic) != 0)
    fail(where, ": wrong magic (not a Kiln CUDA code container)");
  const uint32_t version = r.u32();
  if (version != kCudaCodeVersion)
    fail(where, ": container version ", version, " (this runtime reads ", kCudaCodeVersion, ")");
  const uint32_t n = r.count(kEntryBytes, "code blobs");
  if (n == 0 || n > kMaxBlobs) fail(where, ": ", n, " code blobs (expected 1..", kMaxBlobs, ")");
  const uint64_t table_end = 16 + kEntryBytes * n;
  std::vector<CudaBlob> out;
  for (uint32_t i = 0; i < n; ++i) {
    CudaBlob b;
    const uint32_t kind = r.u32();
    if (kind != static_cast<uint32_t>(CudaBlobKind::Ptx) &&
        kind != static_cast<uint32_t>(CudaBlobKind::Cubin))
      fail(where, ": blob ", i, " has unknown kind ", kind);
    b.kind = static_cast<CudaBlobKind>(kind);
    b.arch = r.u32();
    const uint64_t offset = r.u64(), bytes = r.u64();
    if (offset < table_end || offset > size || bytes == 0 || bytes > size - offset)
      fail(where, ": blob ", i, " (", bytes, " bytes at ", offset, ") lies outside the section");
    b.data = data + offset;
    b.bytes = bytes;
    if (b.kind == CudaBlobKind::Ptx && b.data[bytes - 1] != 0)
      fail(where, ": PTX blob ", i, " is not NUL-terminated");
    if (b.arch < 50 || b.arch > 199) fail(where, ": blob ", i, " has architecture ", b.arch);
    out.push_back(b);
  }
  return out;
}

uint32_t parse_cuda_arch(const std::string& name) {
  auto bad = [&] {
    fail("--cuda-arch: unknown architecture '", name,
         "' (expected sm_XY with XY in 50..121, e.g. sm_90, sm_80)");
  };
  if (name.size() < 5 || name.size() > 6 || name.compare(0, 3, "sm_") != 0) bad();
  uint32_t v = 0;
  for (size_t i = 3; i < name.size(); ++i) {
    if (name[i] < '0' || name[i] > '9') bad();
    v = v * 10 + static_cast<uint32_t>(name[i] - '0');
  }
  if (v < 50 || v > 121) bad();
  return v;
}

}  // namespace kiln::artifact
