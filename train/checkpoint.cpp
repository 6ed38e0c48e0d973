#include "train/checkpoint.h"

#include <fcntl.h>
#include <unistd.h>

#include <bit>
#include <cstring>
#include <fstream>
#include <iterator>

#include "ir/error.h"

namespace kiln::train {

static_assert(std::endian::native == std::endian::little, "checkpoints assume a little-endian host");

namespace {

constexpr char kMagic[8] = {'K', 'I', 'L', 'N', 'C', 'K', 'P', 'T'};

uint64_t fnv1a64(const std::string& bytes) {
  uint64_t h = 0xcbf29ce484222325ull;
  for (unsigned char c : bytes) {
    h ^= c;
    h *= 0x100000001b3ull;
  }
  return h;
}

template <typename T>
void put(std::string& out, T v) {
  out.append(reinterpret_cast<const char*>(&v), sizeof v);
}
void put_str(std::string& out, const std::string& s) {
  put<uint32_t>(out, static_cast<uint32_t>(s.size()));
  out += s;
}

// Bounds-checked reader over the payload.
struct Reader {
  const std::string& buf;
  size_t pos;
  std::string where;
  void need(size_t n) {
    if (n > buf.size() - pos) fail(where, "truncated checkpoint (needs ", n, " more bytes at offset ", pos, ")");
  }
  template <typename T>
  T get() {
    need(sizeof(T));
    T v;
    std::memcpy(&v, buf.data() + pos, sizeof v);
    pos += sizeof v;
    return v;
  }
  std::string get_str() {
    const uint32_t n = get<uint32_t>();
    need(n);
    std::string s = buf.substr(pos, n);
    pos += n;
    return s;
  }
};

}  // namespace

const std::string& Checkpoint::get(const std::string& key) const {
  auto it = meta.find(key);
  KILN_CHECK(it != meta.end(), "checkpoint has no '", key, "' entry");
  return it->second;
}

const Tensor& Checkpoint::tensor(const std::string& name) const {
  auto it = tensors.find(name);
  KILN_CHECK(it != tensors.end(), "checkpoint has no tensor '", name, "'");
  return it->second;
}

void save_checkpoint(const std::filesystem::path& path, const Checkpoint& c) {
  std::string payload;
  put<uint32_t>(payload, static_cast<uint32_t>(c.meta.size()));
  for (const auto& [k, v] : c.meta) {
    put_str(payload, k);
    put_str(payload, v);
  }
  put<uint32_t>(payload, static_cast<uint32_t>(c.tensors.size()));
  for (const auto& [name, t] : c.tensors) {
    put_str(payload, name);
    put<int32_t>(payload, static_cast<int32_t>(t.dtype()));
    put<uint32_t>(payload, static_cast<uint32_t>(t.rank()));
    for (int64_t d : t.dims()) put<int64_t>(payload, d);
    put<uint64_t>(payload, t.nbytes());
    payload.append(static_cast<const char*>(t.raw()), t.nbytes());
  }
  std::string file(kMagic, sizeof kMagic);
  put<uint32_t>(file, kCheckpointVersion);
  put<uint64_t>(file, payload.size());
  file += payload;
  put<uint64_t>(file, fnv1a64(payload));

  const std::string tmp = path.string() + ".tmp";
  const int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
  if (fd < 0) fail("cannot write checkpoint '", tmp, "': ", std::strerror(errno));
  size_t done = 0;
  while (done < file.size()) {
    const ssize_t n = ::write(fd, file.data() + done, file.size() - done);
    if (n < 0) {
      if (errno == EINTR) continue;
      ::close(fd);
      fail("error writing checkpoint '", tmp, "': ", std::strerror(errno));
    }
    done += static_cast<size_t>(n);
  }
  if (::fsync(fd) != 0 || ::close(fd) != 0) fail("error writing checkpoint '", tmp, "': ", std::strerror(errno));
  std::error_code ec;
  std::filesystem::rename(tmp, path, ec);
  if (ec) fail("cannot move '", tmp, "' to '", path.string(), "': ", ec.message());
}

Checkpoint load_checkpoint(const std::filesystem::path& path) {
  const std::string where = "checkpoint '" + path.string() + "': ";
  std::ifstream in(path, std::ios::binary);
  if (!in) fail(where, "cannot open");
  const std::string file((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  const size_t header = sizeof kMagic + 4 + 8;
  if (file.size() < header || std::memcmp(file.data(), kMagic, sizeof kMagic) != 0) {
    fail(where, "not a Kiln checkpoint (bad magic)");
  }
  Reader h{file, sizeof kMagic, where};
  const uint32_t version = h.get<uint32_t>();
  if (version != kCheckpointVersion) {
    fail(where, "format version ", version, " is not supported (this build reads version ", kCheckpointVersion, ")");
  }
  const uint64_t size = h.get<uint64_t>();
  if (size > file.size() - header || file.size() - header - size < 8) {
    fail(where, "truncated (payload of ", size, " bytes declared, file has ", file.size(), " bytes)");
  }
  const std::string payload = file.substr(header, size);
  uint64_t sum;
  std::memcpy(&sum, file.data() + header + size, 8);
  if (sum != fnv1a64(payload)) fail(where, "checksum mismatch (the file is corrupted)");
  if (file.size() != header + size + 8) fail(where, "has trailing bytes after the checksum");

  Checkpoint c;
  Reader r{payload, 0, where};
  for (uint32_t n = r.get<uint32_t>(); n > 0; --n) {
    std::string k = r.get_str();
    c.meta[k] = r.get_str();
  }
  for (uint32_t n = r.get<uint32_t>(); n > 0; --n) {
    const std::string name = r.get_str();
    const int32_t code = r.get<int32_t>();
    if (!dtype_is_valid(code)) fail(where, "tensor '", name, "' has invalid dtype ", code);
    const uint32_t rank = r.get<uint32_t>();
    if (rank > 16) fail(where, "tensor '", name, "' has rank ", rank);
    Dims dims;
    for (uint32_t i = 0; i < rank; ++i) dims.push_back(r.get<int64_t>());
    const uint64_t bytes = r.get<uint64_t>();
    const uint64_t expected = static_cast<uint64_t>(checked_numel(dims)) * dtype_size(static_cast<DType>(code));
    if (bytes != expected) fail(where, "tensor '", name, "' has ", bytes, " bytes, expected ", expected);
    r.need(bytes);  // before allocating: a corrupt size must not allocate
    Tensor t(static_cast<DType>(code), dims);
    std::memcpy(t.raw(), payload.data() + r.pos, bytes);
    r.pos += bytes;
    c.tensors[name] = t;
  }
  if (r.pos != payload.size()) fail(where, "payload has ", payload.size() - r.pos, " unread bytes");
  return c;
}

}  // namespace kiln::train
