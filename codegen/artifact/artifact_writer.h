// Writes a compiled model as one `.kiln` file (layout: runtime/artifact/artifact_format.h).
// The code generator fills an ArtifactMeta (target, I/O signature, memory plan, launch list),
// collects constants with WeightsBuilder, and hands over the code section's bytes.
#pragma once

#include <filesystem>
#include <span>
#include <vector>

#include "runtime/artifact/artifact_format.h"

namespace kiln::artifact {

// Packs constant tensors into the WEIGHTS section, each at a 64-byte aligned offset, so the
// runtime can use them in place from a mapped file.
class WeightsBuilder {
 public:
  // Appends `bytes` bytes and returns their offset in the section.
  uint64_t add(const void* data, size_t bytes);
  const std::vector<uint8_t>& bytes() const { return bytes_; }

 private:
  std::vector<uint8_t> bytes_;
};

// The complete file image. Validates it with the runtime's reader before returning (so the
// compiler never emits a file the runtime refuses: every launch argument inside its buffer,
// every output written, ...); throws kiln::Error naming the problem.
std::vector<uint8_t> serialize_artifact(const ArtifactMeta& meta, std::span<const uint8_t> weights,
                                        std::span<const uint8_t> code);

// serialize_artifact, then writes `path` atomically (a temporary file beside it, then rename).
void write_artifact(const std::filesystem::path& path, const ArtifactMeta& meta,
                    std::span<const uint8_t> weights, std::span<const uint8_t> code);

}  // namespace kiln::artifact
