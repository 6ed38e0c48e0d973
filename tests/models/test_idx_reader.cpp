// The IDX reader: gz and raw files, and a clear error for each kind of bad file.
#include <gtest/gtest.h>

#include <zlib.h>

#include <filesystem>
#include <fstream>

#include "ir/error.h"
#include "models/mnist/dataset.h"
#include "models/mnist/idx_reader.h"

namespace kiln::mnist {
namespace {

namespace fs = std::filesystem;

class IdxReader : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("kiln_idx_test_" + std::to_string(::getpid()));
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }

  static IdxArray sample(int64_t n) {
    IdxArray a;
    a.dims = {n, 28, 28};
    for (int64_t i = 0; i < n * 28 * 28; ++i) a.data.push_back(static_cast<uint8_t>(i * 7));
    return a;
  }
  static IdxArray labels(int64_t n) {
    IdxArray a;
    a.dims = {n};
    for (int64_t i = 0; i < n; ++i) a.data.push_back(static_cast<uint8_t>(i % 10));
    return a;
  }
  void write_bytes(const fs::path& p, const std::string& bytes) {
    std::ofstream(p, std::ios::binary) << bytes;
  }
  std::string read_bytes(const fs::path& p) {
    std::ifstream in(p, std::ios::binary);
    return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
  }
  void expect_error(const fs::path& p, const std::string& fragment) {
    try {
      read_idx(p);
      FAIL() << "expected an error for " << p;
    } catch (const Error& e) {
      EXPECT_NE(std::string(e.what()).find(fragment), std::string::npos) << e.what();
      EXPECT_NE(std::string(e.what()).find(p.filename().string()), std::string::npos) << e.what();
    }
  }
  fs::path dir_;
};

TEST_F(IdxReader, RawAndGzipRoundTrip) {
  for (bool gz : {false, true}) {
    const fs::path p = dir_ / (gz ? "a.idx.gz" : "a.idx");
    write_idx(p, sample(3), gz);
    const IdxArray r = read_idx(p);
    EXPECT_EQ(r.dims, (std::vector<int64_t>{3, 28, 28}));
    EXPECT_EQ(r.data, sample(3).data);
  }
}

TEST_F(IdxReader, WrongMagic) {
  write_bytes(dir_ / "m.idx", std::string("\x12\x34\x08\x01\x00\x00\x00\x01\x05", 9));
  expect_error(dir_ / "m.idx", "not an IDX file");
  write_bytes(dir_ / "t.idx", std::string("\x00\x00\x0d\x01\x00\x00\x00\x01\x05", 9));
  expect_error(dir_ / "t.idx", "element type");
}

TEST_F(IdxReader, TruncatedRawAndGzip) {
  write_idx(dir_ / "full.idx", sample(2), false);
  const std::string full = read_bytes(dir_ / "full.idx");
  write_bytes(dir_ / "short.idx", full.substr(0, full.size() - 10));
  expect_error(dir_ / "short.idx", "truncated");
  write_bytes(dir_ / "header.idx", full.substr(0, 10));
  expect_error(dir_ / "header.idx", "truncated IDX header");
  write_bytes(dir_ / "long.idx", full + "xyz");
  expect_error(dir_ / "long.idx", "bytes after");

  write_idx(dir_ / "full.idx.gz", sample(2), true);
  const std::string gz = read_bytes(dir_ / "full.idx.gz");
  write_bytes(dir_ / "cut.idx.gz", gz.substr(0, gz.size() / 2));
  expect_error(dir_ / "cut.idx.gz", "truncated");
}

TEST_F(IdxReader, MissingFile) { expect_error(dir_ / "nope.idx", "no such file"); }

TEST_F(IdxReader, CountMismatchAndBadLabels) {
  write_idx(dir_ / "img", sample(3), false);
  write_idx(dir_ / "lab", labels(4), true);
  try {
    load_idx_pair(dir_ / "img", dir_ / "lab");
    FAIL() << "expected a count mismatch";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("3 images"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("4 labels"), std::string::npos) << e.what();
  }
  IdxArray bad = labels(3);
  bad.data[1] = 12;
  write_idx(dir_ / "lab", bad, false);
  EXPECT_THROW(load_idx_pair(dir_ / "img", dir_ / "lab"), Error);
  write_idx(dir_ / "lab", labels(3), false);
  const Dataset d = load_idx_pair(dir_ / "img", dir_ / "lab", 2);
  EXPECT_EQ(d.count, 2);
  const Tensor t = d.images({1});
  EXPECT_EQ(t.dims(), (Dims{1, 1, 28, 28}));
  EXPECT_NEAR(t.data<float>()[0], (static_cast<float>(static_cast<uint8_t>(784 * 7)) / 255.0f - kPixelMean) / kPixelStd, 1e-6);
}

TEST_F(IdxReader, FindsGzOrRaw) {
  write_idx(dir_ / "train-labels-idx1-ubyte.gz", labels(2), true);
  EXPECT_EQ(find_data_file(dir_, "train-labels-idx1-ubyte").filename(), "train-labels-idx1-ubyte.gz");
  EXPECT_THROW(find_data_file(dir_, "t10k-labels-idx1-ubyte"), Error);
}

}  // namespace
}  // namespace kiln::mnist
