// The MNIST data set in memory: images as bytes, labels, and batching into normalized float
// tensors. Files are looked up in a folder under their standard names, gzipped or raw.
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include "ir/tensor.h"

namespace kiln::mnist {

// PyTorch's MNIST normalization: (x / 255 - mean) / std.
inline constexpr float kPixelMean = 0.1307f;
inline constexpr float kPixelStd = 0.3081f;
inline constexpr int64_t kNumClasses = 10;

struct Dataset {
  int64_t count = 0, rows = 0, cols = 0;
  std::vector<uint8_t> pixels;  // count * rows * cols
  std::vector<uint8_t> labels;  // count, each < kNumClasses

  // Images `indices` as f32 [n, 1, rows, cols], normalized.
  Tensor images(const std::vector<int64_t>& indices) const;
  // Labels `indices` as i64 [n].
  Tensor label_tensor(const std::vector<int64_t>& indices) const;
};

// Reads an images file and a labels file, checking they agree (count) and labels < 10.
// `limit` > 0 keeps only the first `limit` samples.
Dataset load_idx_pair(const std::filesystem::path& images, const std::filesystem::path& labels,
                      int64_t limit = 0);

struct MnistSplits {
  Dataset train, test;
};

// `dir`/{train,t10k}-{images-idx3,labels-idx1}-ubyte[.gz]. Fails naming a missing file.
MnistSplits load_mnist(const std::filesystem::path& dir, int64_t limit_train = 0,
                       int64_t limit_test = 0);

// The path of `dir`/`stem` or `dir`/`stem`.gz, whichever exists (fails if neither does).
std::filesystem::path find_data_file(const std::filesystem::path& dir, const std::string& stem);

}  // namespace kiln::mnist
