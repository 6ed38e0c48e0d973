#include "runtime/artifact/artifact_format.h"

#include <zlib.h>

#include <algorithm>

namespace kiln::artifact {

const char* section_name(SectionKind kind) {
  switch (kind) {
    case SectionKind::Target:
      return "TARGET";
    case SectionKind::Signature:
      return "SIGNATURE";
    case SectionKind::MemoryPlan:
      return "MEMORY_PLAN";
    case SectionKind::Weights:
      return "WEIGHTS";
    case SectionKind::Code:
      return "CODE";
    case SectionKind::Launches:
      return "LAUNCHES";
  }
  return "?";
}

const char* buffer_kind_name(BufferKind kind) {
  switch (kind) {
    case BufferKind::Arena:
      return "arena";
    case BufferKind::Weights:
      return "weights";
    case BufferKind::Input:
      return "input";
    case BufferKind::Output:
      return "output";
  }
  return "?";
}

const char* code_format_name(CodeFormat format) {
  switch (format) {
    case CodeFormat::ElfSharedObject:
      return "ELF shared object";
    case CodeFormat::OpenClSource:
      return "OpenCL source";
    case CodeFormat::OpenClBinary:
      return "OpenCL binary";
    case CodeFormat::CudaPtx:
      return "CUDA PTX";
    case CodeFormat::CudaCubin:
      return "CUDA cubin";
  }
  return "?";
}

uint32_t artifact_checksum(const uint8_t* data, uint64_t size) {
  // zlib's crc32 takes a uInt length: feed it in chunks so multi-GiB files hash correctly.
  auto feed = [](uLong crc, const uint8_t* p, uint64_t n) {
    while (n > 0) {
      const uInt chunk = static_cast<uInt>(std::min<uint64_t>(n, uint64_t{1} << 30));
      crc = crc32(crc, p, chunk);
      p += chunk;
      n -= chunk;
    }
    return crc;
  };
  static constexpr uint8_t kZero[4] = {0, 0, 0, 0};
  uLong crc = crc32(0L, Z_NULL, 0);
  const uint64_t head = std::min<uint64_t>(size, kChecksumOffset);
  crc = feed(crc, data, head);
  if (size <= kChecksumOffset) return static_cast<uint32_t>(crc);
  crc = feed(crc, kZero, std::min<uint64_t>(4, size - kChecksumOffset));
  if (size > kChecksumOffset + 4)
    crc = feed(crc, data + kChecksumOffset + 4, size - kChecksumOffset - 4);
  return static_cast<uint32_t>(crc);
}

}  // namespace kiln::artifact
