#include "codegen/artifact/artifact_writer.h"

#include <unistd.h>

#include <cstring>
#include <fstream>

#include "kiln/kernel_abi.h"
#include "runtime/artifact/artifact_reader.h"
#include "runtime/artifact/byte_codec.h"
#include "runtime/artifact/cpu_features.h"

namespace kiln::artifact {

namespace fs = std::filesystem;

uint64_t WeightsBuilder::add(const void* data, size_t bytes) {
  bytes_.resize((bytes_.size() + kAlignment - 1) / kAlignment * kAlignment, 0);
  const uint64_t offset = bytes_.size();
  const auto* p = static_cast<const uint8_t*>(data);
  if (bytes) bytes_.insert(bytes_.end(), p, p + bytes);
  return offset;
}

namespace {

void put_tensor(ByteWriter& w, const TensorSignature& t) {
  w.str(t.name);
  w.i32(static_cast<int32_t>(t.dtype));
  w.u32(static_cast<uint32_t>(t.dims.size()));
  for (int64_t d : t.dims) w.i64(d);
}

std::vector<uint8_t> encode_section(const ArtifactMeta& m, SectionKind kind) {
  ByteWriter w;
  switch (kind) {
    case SectionKind::Target:
      w.str(m.target_triple);
      w.str(m.cpu_name);
      w.u32(static_cast<uint32_t>(m.code_format));
      break;
    case SectionKind::Signature:
      w.u32(static_cast<uint32_t>(m.inputs.size()));
      for (const auto& t : m.inputs) put_tensor(w, t);
      w.u32(static_cast<uint32_t>(m.outputs.size()));
      for (const auto& t : m.outputs) put_tensor(w, t);
      break;
    case SectionKind::MemoryPlan:
      w.u64(m.arena_bytes);
      w.u32(static_cast<uint32_t>(m.plan.size()));
      for (const auto& e : m.plan) {
        w.str(e.value_name);
        w.u64(e.offset);
        w.u64(e.bytes);
      }
      break;
    case SectionKind::Launches:
      w.u32(static_cast<uint32_t>(m.launches.size()));
      for (const auto& l : m.launches) {
        w.str(l.symbol);
        w.str(l.node_name);
        w.str(l.op);
        w.u32(static_cast<uint32_t>(l.args.size()));
        for (const auto& a : l.args) {
          w.u32(static_cast<uint32_t>(a.kind));
          w.u32(a.index);
          w.u64(a.offset);
          w.u64(a.bytes);
        }
        w.u32(static_cast<uint32_t>(l.params.size()));
        for (int64_t p : l.params) w.i64(p);
        w.u32(l.section);
        w.u32(l.chain);
      }
      break;
    case SectionKind::Weights:
    case SectionKind::Code:
      break;  // raw bytes, appended by the caller
  }
  return std::move(w.buffer());
}

void store_u32(std::vector<uint8_t>& b, size_t at, uint32_t v) {
  std::memcpy(b.data() + at, &v, 4);
}
void store_u64(std::vector<uint8_t>& b, size_t at, uint64_t v) {
  std::memcpy(b.data() + at, &v, 8);
}

}  // namespace

std::vector<uint8_t> serialize_artifact(const ArtifactMeta& meta, std::span<const uint8_t> weights,
                                        std::span<const uint8_t> code) {
  constexpr SectionKind kOrder[] = {SectionKind::Target,     SectionKind::Signature,
                                    SectionKind::MemoryPlan, SectionKind::Launches,
                                    SectionKind::Weights,    SectionKind::Code};
  ByteWriter out;
  out.bytes(kMagic, sizeof(kMagic));
  out.pad_to(kHeaderBytes);  // header fields are stored below, once offsets are known
  const uint64_t table = out.size();
  out.bytes(std::vector<uint8_t>(kNumSectionKinds * kSectionEntryBytes, 0).data(),
            kNumSectionKinds * kSectionEntryBytes);
  std::vector<uint8_t>& b = out.buffer();
  for (uint32_t i = 0; i < kNumSectionKinds; ++i) {
    const SectionKind kind = kOrder[i];
    out.pad_to(kAlignment);
    const uint64_t offset = out.size();
    if (kind == SectionKind::Weights) {
      out.bytes(weights.data(), weights.size());
    } else if (kind == SectionKind::Code) {
      out.bytes(code.data(), code.size());
    } else {
      const std::vector<uint8_t> s = encode_section(meta, kind);
      out.bytes(s.data(), s.size());
    }
    const size_t e = table + i * kSectionEntryBytes;
    store_u32(b, e, static_cast<uint32_t>(kind));
    store_u64(b, e + 8, offset);
    store_u64(b, e + 16, out.size() - offset);
  }
  store_u32(b, header_field::kVersion, kFormatVersion);
  store_u32(b, header_field::kHeaderBytes, kHeaderBytes);
  store_u64(b, header_field::kFileBytes, b.size());
  store_u64(b, header_field::kCpuFeatures, meta.cpu_features);
  store_u32(b, header_field::kKernelAbi, KILN_KERNEL_ABI_VERSION);
  store_u32(b, header_field::kSectionCount, kNumSectionKinds);
  store_u64(b, header_field::kSectionTable, table);
  store_u32(b, header_field::kChecksum, artifact_checksum(b.data(), b.size()));
  // The reader is the format's definition: refuse to emit anything it would refuse.
  parse_artifact(b.data(), b.size(), "artifact being written", meta.cpu_features);
  return std::move(b);
}

void write_artifact(const fs::path& path, const ArtifactMeta& meta,
                    std::span<const uint8_t> weights, std::span<const uint8_t> code) {
  const std::vector<uint8_t> bytes = serialize_artifact(meta, weights, code);
  const fs::path tmp = path.string() + ".tmp." + std::to_string(::getpid());
  {
    std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
    if (!out) fail("cannot write '", tmp.string(), "'");
    out.write(reinterpret_cast<const char*>(bytes.data()),
              static_cast<std::streamsize>(bytes.size()));
    out.close();
    if (!out) {
      std::error_code ignored;
      fs::remove(tmp, ignored);
      fail("error writing '", tmp.string(), "'");
    }
  }
  std::error_code ec;
  fs::rename(tmp, path, ec);
  if (ec) {
    std::error_code ignored;
    fs::remove(tmp, ignored);
    fail("cannot move '", tmp.string(), "' to '", path.string(), "': ", ec.message());
  }
}

}  // namespace kiln::artifact
