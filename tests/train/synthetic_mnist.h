// A small learnable stand-in for MNIST, written as IDX files for tests of the trainer and the
// tools (tests never read the real data set).
#pragma once

#include <filesystem>
#include <string>

#include "models/mnist/idx_reader.h"
#include "models/mnist/rng.h"

namespace kiln::test {

// Digit c is a bright 6x6 square at one of ten places, over random dim noise.
inline void write_synthetic(const std::filesystem::path& dir, const std::string& prefix, int64_t n,
                            uint64_t seed) {
  mnist::IdxArray images, labels;
  images.dims = {n, 28, 28};
  labels.dims = {n};
  mnist::Rng rng(seed);
  for (int64_t i = 0; i < n; ++i) {
    const int64_t c = static_cast<int64_t>(rng.below(10));
    labels.data.push_back(static_cast<uint8_t>(c));
    const int64_t r0 = 3 + (c / 5) * 13 + static_cast<int64_t>(rng.below(3));
    const int64_t c0 = 1 + (c % 5) * 5 + static_cast<int64_t>(rng.below(2));
    for (int64_t r = 0; r < 28; ++r) {
      for (int64_t col = 0; col < 28; ++col) {
        const bool on = r >= r0 && r < r0 + 6 && col >= c0 && col < c0 + 4;
        images.data.push_back(static_cast<uint8_t>(on ? 200 + rng.below(56) : rng.below(60)));
      }
    }
  }
  mnist::write_idx(dir / (prefix + "-images-idx3-ubyte.gz"), images, true);
  mnist::write_idx(dir / (prefix + "-labels-idx1-ubyte"), labels, false);
}

}  // namespace kiln::test
