#include "models/mnist/idx_reader.h"

#include <zlib.h>

#include <cstdio>
#include <memory>

#include "ir/error.h"

namespace kiln::mnist {

namespace {

constexpr uint8_t kUnsignedByte = 0x08;
constexpr size_t kMaxDims = 8;
constexpr int64_t kMaxElements = int64_t{1} << 34;

// Whole file contents; gzread passes non-gzip files through unchanged.
std::vector<uint8_t> read_all(const std::filesystem::path& path) {
  std::error_code ec;
  if (!std::filesystem::is_regular_file(path, ec)) fail("'", path.string(), "': no such file");
  gzFile f = gzopen(path.c_str(), "rb");
  if (!f) fail("'", path.string(), "': cannot open");
  std::unique_ptr<gzFile_s, int (*)(gzFile)> guard(f, gzclose);
  std::vector<uint8_t> out;
  std::vector<uint8_t> buf(1 << 20);
  for (;;) {
    const int n = gzread(f, buf.data(), static_cast<unsigned>(buf.size()));
    if (n < 0) {
      int code = 0;
      const char* msg = gzerror(f, &code);
      fail("'", path.string(), "': corrupt or truncated gzip data (", msg ? msg : "?", ")");
    }
    if (n == 0) break;
    out.insert(out.end(), buf.begin(), buf.begin() + n);
  }
  // A gzip stream cut short reads as a short file with Z_BUF_ERROR set.
  int code = 0;
  const char* msg = gzerror(f, &code);
  if (code != Z_OK && code != Z_STREAM_END) {
    fail("'", path.string(), "': truncated gzip data (", msg ? msg : "?", ")");
  }
  return out;
}

uint32_t be32(const uint8_t* p) {
  return (uint32_t{p[0]} << 24) | (uint32_t{p[1]} << 16) | (uint32_t{p[2]} << 8) | uint32_t{p[3]};
}

}  // namespace

IdxArray read_idx(const std::filesystem::path& path) {
  const std::vector<uint8_t> bytes = read_all(path);
  const std::string where = "'" + path.string() + "': ";
  if (bytes.size() < 4) fail(where, "too short for an IDX header (", bytes.size(), " bytes)");
  if (bytes[0] != 0 || bytes[1] != 0) {
    fail(where, "not an IDX file (magic starts 0x", std::hex, int(bytes[0]), " 0x", int(bytes[1]),
         ", expected 0x0 0x0)");
  }
  if (bytes[2] != kUnsignedByte) {
    fail(where, "IDX element type 0x", std::hex, int(bytes[2]), " is not supported (0x8, unsigned byte, only)");
  }
  const size_t nd = bytes[3];
  if (nd == 0 || nd > kMaxDims) fail(where, "IDX header has ", nd, " dims (1..", kMaxDims, " allowed)");
  const size_t header = 4 + 4 * nd;
  if (bytes.size() < header) fail(where, "truncated IDX header: ", nd, " dims need ", header, " bytes, file has ", bytes.size());
  IdxArray a;
  int64_t count = 1;
  for (size_t i = 0; i < nd; ++i) {
    const int64_t d = be32(&bytes[4 + 4 * i]);
    a.dims.push_back(d);
    if (d != 0 && count > kMaxElements / d) fail(where, "IDX dims are implausibly large");
    count *= d;
  }
  const size_t have = bytes.size() - header;
  if (have < static_cast<size_t>(count)) {
    fail(where, "truncated: the header promises ", count, " bytes of data, the file has ", have);
  }
  if (have > static_cast<size_t>(count)) {
    fail(where, "has ", have - static_cast<size_t>(count), " bytes after the ", count,
         " data bytes its header declares");
  }
  a.data.assign(bytes.begin() + static_cast<std::ptrdiff_t>(header), bytes.end());
  return a;
}

void write_idx(const std::filesystem::path& path, const IdxArray& a, bool gzip) {
  std::vector<uint8_t> bytes = {0, 0, kUnsignedByte, static_cast<uint8_t>(a.dims.size())};
  for (int64_t d : a.dims) {
    const uint32_t v = static_cast<uint32_t>(d);
    for (int s = 24; s >= 0; s -= 8) bytes.push_back(static_cast<uint8_t>(v >> s));
  }
  bytes.insert(bytes.end(), a.data.begin(), a.data.end());
  if (gzip) {
    gzFile f = gzopen(path.c_str(), "wb");
    if (!f) fail("'", path.string(), "': cannot write");
    const int n = gzwrite(f, bytes.data(), static_cast<unsigned>(bytes.size()));
    if (gzclose(f) != Z_OK || n != static_cast<int>(bytes.size())) fail("'", path.string(), "': write failed");
    return;
  }
  std::unique_ptr<FILE, int (*)(FILE*)> f(std::fopen(path.c_str(), "wb"), std::fclose);
  if (!f) fail("'", path.string(), "': cannot write");
  if (std::fwrite(bytes.data(), 1, bytes.size(), f.get()) != bytes.size()) {
    fail("'", path.string(), "': write failed");
  }
}

}  // namespace kiln::mnist
