// NumPy .npy files <-> Tensor (format versions 1-3, C order, little-endian).
#pragma once

#include <filesystem>

#include "ir/tensor.h"

namespace kiln {

Tensor read_npy(const std::filesystem::path& path);
Tensor parse_npy(const void* data, size_t size, const std::string& what);
// Writes atomically (temporary file, then rename).
void write_npy(const std::filesystem::path& path, const Tensor& t);

}  // namespace kiln
