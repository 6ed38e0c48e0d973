// Training checkpoints: named tensors plus string metadata in one versioned, checksummed file,
// written atomically (temporary file, fsync, rename), so a crash or Ctrl-C never leaves a
// half-written checkpoint in place of a good one.
//
// Layout (little-endian): "KILNCKPT", u32 version, u64 payload size, payload, u64 FNV-1a-64 of
// the payload. Payload: u32 count, (string key, string value)*, u32 count,
// (string name, i32 dtype, u32 rank, i64 dims[rank], u64 bytes, data)*; string = u32 size, bytes.
#pragma once

#include <cstdint>
#include <filesystem>
#include <map>
#include <string>

#include "ir/tensor.h"

namespace kiln::train {

inline constexpr uint32_t kCheckpointVersion = 1;

struct Checkpoint {
  std::map<std::string, std::string> meta;
  std::map<std::string, Tensor> tensors;

  const std::string& get(const std::string& key) const;  // fails naming a missing key
  const Tensor& tensor(const std::string& name) const;   // fails naming a missing tensor
};

void save_checkpoint(const std::filesystem::path& path, const Checkpoint& c);
// Fails with one line for a missing, foreign, truncated, corrupted or newer-version file.
Checkpoint load_checkpoint(const std::filesystem::path& path);

}  // namespace kiln::train
