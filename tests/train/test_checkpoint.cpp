// The checkpoint file: round trip, and clear errors for foreign, truncated or corrupted files.
#include <gtest/gtest.h>

#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "train/checkpoint.h"

namespace kiln::train {
namespace {

namespace fs = std::filesystem;

fs::path temp_file(const std::string& name) {
  return fs::temp_directory_path() / ("kiln_ckpt_" + std::to_string(::getpid()) + "_" + name);
}

Checkpoint sample() {
  Checkpoint c;
  c.meta["model"] = "mlp";
  c.meta["epoch"] = "3";
  c.tensors["w"] = Tensor::from_vector<float>({1.5f, -2.0f, 3.25f}, {3});
  c.tensors["i"] = Tensor::from_vector<int64_t>({7, 8}, {2, 1});
  return c;
}

std::string slurp(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

void expect_load_error(const fs::path& p, const std::string& fragment) {
  try {
    load_checkpoint(p);
    FAIL() << "expected an error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find(fragment), std::string::npos) << e.what();
  }
}

TEST(Checkpoint, RoundTrip) {
  const fs::path p = temp_file("rt");
  save_checkpoint(p, sample());
  EXPECT_FALSE(fs::exists(p.string() + ".tmp"));
  const Checkpoint c = load_checkpoint(p);
  EXPECT_EQ(c.meta, sample().meta);
  EXPECT_TRUE(c.tensor("w").bytes_equal(sample().tensors["w"]));
  EXPECT_EQ(c.tensor("i").dims(), (Dims{2, 1}));
  EXPECT_EQ(c.get("model"), "mlp");
  EXPECT_THROW(c.get("nothing"), Error);
  fs::remove(p);
}

TEST(Checkpoint, RejectsBadFiles) {
  const fs::path p = temp_file("bad");
  save_checkpoint(p, sample());
  const std::string good = slurp(p);
  auto write = [&](const std::string& bytes) { std::ofstream(p, std::ios::binary) << bytes; };

  write(good.substr(0, good.size() - 5));
  expect_load_error(p, "truncated");
  std::string flipped = good;
  flipped[30] ^= 0x40;
  write(flipped);
  expect_load_error(p, "checksum");
  write("PK\x03\x04 something else entirely");
  expect_load_error(p, "not a Kiln checkpoint");
  std::string newer = good;
  newer[8] = 9;
  write(newer);
  expect_load_error(p, "version 9");
  fs::remove(p);
  expect_load_error(p, "cannot open");
}

}  // namespace
}  // namespace kiln::train
