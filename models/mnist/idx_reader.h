// Reader and writer for the IDX format of the MNIST files (big-endian header: two zero bytes,
// a type code, the number of dims, then one u32 per dim, then the data). Files may be gzipped
// or raw; the reader checks the magic, the dims and the data size, and fails with one line
// naming the file for a wrong, truncated or oversized file.
#pragma once

#include <cstdint>
#include <filesystem>
#include <vector>

namespace kiln::mnist {

struct IdxArray {
  std::vector<int64_t> dims;
  std::vector<uint8_t> data;  // unsigned bytes (type code 0x08), row-major
};

IdxArray read_idx(const std::filesystem::path& path);

// Writes an unsigned-byte IDX file, gzipped when `gzip` (tests build small data sets with it).
void write_idx(const std::filesystem::path& path, const IdxArray& a, bool gzip);

}  // namespace kiln::mnist
