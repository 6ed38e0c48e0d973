// kiln-run as a user runs it: outputs, random inputs, compare, bench, profile, bad input.
#include <gtest/gtest.h>

#include <cstring>
#include <regex>

#include "runtime/artifact/cpu_features.h"
#include "runtime/io/npy.h"
#include "tests/cli_util.h"
#include "tests/runtime/json_check.h"
#include "tests/runtime/runtime_test_fixture.h"

namespace kiln {
namespace {

namespace fs = std::filesystem;
using test::kCols;
using test::kRows;

struct CliResult {
  int code;
  std::string out;  // stdout
  std::string err;  // stderr
};

CliResult run_cli(const std::string& args, const fs::path& dir) {
  const test::CliResult c = test::run_command(
      std::string(KILN_RUN_PATH) + " " + args + " 2>" + (dir / "stderr.txt").string(), false);
  CliResult r{c.code, c.out, {}};
  const auto e = test::read_bytes(dir / "stderr.txt");
  r.err.assign(e.begin(), e.end());
  return r;
}

// A directory with m.kiln, x.npy (a valid input), and y.npy / z.npy (its expected outputs).
fs::path setup(const std::string& name) {
  const fs::path dir = test::fresh_test_dir(name);
  test::write_bytes(dir / "m.kiln", test::test_model_bytes());
  const std::vector<float> x = test::test_input(3);
  std::vector<float> y, z;
  test::reference_outputs(x, &y, &z);
  write_npy(dir / "x.npy", Tensor::from_vector(x, {kRows, kCols}));
  write_npy(dir / "y.npy", Tensor::from_vector(y, {kRows, kCols}));
  write_npy(dir / "z.npy", Tensor::from_vector(z, {kRows}));
  return dir;
}

std::string path(const fs::path& p) { return p.string(); }

TEST(KilnRunCli, WritesOutputs) {
  KILN_REQUIRE_TEST_KERNELS();
  const fs::path d = setup("run_outputs");
  const CliResult r = run_cli(path(d / "m.kiln") + " --input x=" + path(d / "x.npy") +
                                  " --output-dir " + path(d / "out") + " --threads 2",
                              d);
  ASSERT_EQ(r.code, 0) << r.out << r.err;
  EXPECT_TRUE(read_npy(d / "out" / "y.npy").bytes_equal(read_npy(d / "y.npy")));
  EXPECT_TRUE(read_npy(d / "out" / "z.npy").bytes_equal(read_npy(d / "z.npy")));
  EXPECT_NE(r.out.find("z: f32[4] -> "), std::string::npos) << r.out;
}

TEST(KilnRunCli, RandomInputsAreSeeded) {
  KILN_REQUIRE_TEST_KERNELS();
  const fs::path d = setup("run_random");
  auto run_seed = [&](int seed, const std::string& out) {
    const CliResult r = run_cli(path(d / "m.kiln") + " --random-inputs --seed " +
                                    std::to_string(seed) + " --output-dir " + path(d / out),
                                d);
    EXPECT_EQ(r.code, 0) << r.err;
    return read_npy(d / out / "y.npy");
  };
  const Tensor a = run_seed(1, "a"), b = run_seed(1, "b"), c = run_seed(2, "c");
  EXPECT_TRUE(a.bytes_equal(b));
  EXPECT_FALSE(a.bytes_equal(c));
}

TEST(KilnRunCli, ExpectedPassAndFail) {
  KILN_REQUIRE_TEST_KERNELS();
  const fs::path d = setup("run_expected");
  const std::string base = path(d / "m.kiln") + " --input " + path(d / "x.npy");
  CliResult r = run_cli(base + " --expected " + path(d / "y.npy") + " " + path(d / "z.npy"), d);
  EXPECT_EQ(r.code, 0) << r.out << r.err;
  EXPECT_NE(r.out.find("compare y: PASS"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("compare z: PASS"), std::string::npos) << r.out;

  std::vector<float> z = read_npy(d / "z.npy").to_float_vector();
  z[2] += 0.01f;
  write_npy(d / "z_off.npy", Tensor::from_vector(z, {kRows}));
  r = run_cli(base + " --expected z=" + path(d / "z_off.npy"), d);
  EXPECT_EQ(r.code, 3) << r.out << r.err;
  EXPECT_NE(r.out.find("compare z: FAIL: max abs diff"), std::string::npos) << r.out;
  r = run_cli(base + " --expected z=" + path(d / "z_off.npy") + " --atol 0.02", d);
  EXPECT_EQ(r.code, 0) << r.out << r.err;
  r = run_cli(base + " --expected z=" + path(d / "y.npy"), d);  // wrong shape
  EXPECT_EQ(r.code, 3) << r.out << r.err;
  EXPECT_NE(r.out.find("got f32[4], expected f32[4x16]"), std::string::npos) << r.out;
}

TEST(KilnRunCli, BenchPrintsLatencyLine) {
  KILN_REQUIRE_TEST_KERNELS();
  const fs::path d = setup("run_bench");
  const CliResult r = run_cli(path(d / "m.kiln") + " --random-inputs --bench 20 --warmup 3", d);
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_NE(r.out.find("bench: 20 runs after 3 warmup"), std::string::npos) << r.out;
  EXPECT_TRUE(std::regex_search(
      r.out,
      std::regex(
          R"(mean [0-9.]+ ms, p50 [0-9.]+ ms, p90 [0-9.]+ ms, p99 [0-9.]+ ms, throughput [0-9.]+ runs/s)")))
      << r.out;
  EXPECT_TRUE(std::regex_search(
      r.out,
      std::regex(
          R"(\nlatency_ms: p50=[0-9]+\.[0-9]{3} p90=[0-9]+\.[0-9]{3} p99=[0-9]+\.[0-9]{3}\n$)")))
      << r.out;
}

TEST(KilnRunCli, ProfileIsChromeTrace) {
  KILN_REQUIRE_TEST_KERNELS();
  const fs::path d = setup("run_profile");
  const CliResult r =
      run_cli(path(d / "m.kiln") + " --random-inputs --profile " + path(d / "trace.json"), d);
  ASSERT_EQ(r.code, 0) << r.err;
  const auto bytes = test::read_bytes(d / "trace.json");
  const std::string json(bytes.begin(), bytes.end());
  test::JsonValue root;
  ASSERT_TRUE(test::parse_json(json, &root)) << json;
  const test::JsonValue* events = root.get("traceEvents");
  ASSERT_NE(events, nullptr);
  ASSERT_EQ(events->items.size(), 3u) << "one event per launch";
  const char* names[] = {"add0", "relu0", "sum0"};
  for (size_t i = 0; i < 3; ++i) {
    const test::JsonValue& e = events->items[i];
    EXPECT_EQ(e.get("ph")->text, "X");
    EXPECT_EQ(e.get("name")->text, names[i]);
    EXPECT_GE(e.get("dur")->number, 0);
    EXPECT_GE(e.get("ts")->number, 0);
    EXPECT_NE(e.get("pid"), nullptr);
    EXPECT_NE(e.get("tid"), nullptr);
  }
  EXPECT_EQ(events->items[2].get("cat")->text, "ReduceSum");
}

TEST(KilnRunCli, BadInputGivesOneLineErrors) {
  KILN_REQUIRE_TEST_KERNELS();
  const fs::path d = setup("run_bad");
  write_npy(d / "x_i32.npy",
            Tensor::from_vector<int32_t>(std::vector<int32_t>(kRows * kCols, 1), {kRows, kCols}));
  write_npy(d / "x_shape.npy",
            Tensor::from_vector(std::vector<float>(kRows * kCols, 1), {kCols, kRows}));
  test::write_bytes(d / "junk.npy", {'n', 'o', 'p', 'e'});
  std::vector<uint8_t> corrupt = test::read_bytes(d / "m.kiln");
  corrupt[corrupt.size() / 2] ^= 0xff;
  test::write_bytes(d / "corrupt.kiln", corrupt);
  std::vector<uint8_t> truncated = test::read_bytes(d / "m.kiln");
  truncated.resize(truncated.size() - 100);
  test::write_bytes(d / "truncated.kiln", truncated);
  std::vector<uint8_t> magic = test::read_bytes(d / "m.kiln");
  magic[0] = 'X';
  test::write_bytes(d / "magic.kiln", magic);
  // Code that needs a CPU feature this machine lacks: a known one if there is one, else a bit
  // no runtime knows yet (the same refusal path).
  const uint64_t host = artifact::host_cpu_features();
  uint64_t lacking = uint64_t{1} << 40;
  for (uint32_t i = 0; i < artifact::kNumCpuFeatures; ++i) {
    if (!(host & (uint64_t{1} << i))) {
      lacking = uint64_t{1} << i;
      break;
    }
  }
  std::vector<uint8_t> features = test::read_bytes(d / "m.kiln");
  std::memcpy(features.data() + artifact::header_field::kCpuFeatures, &lacking, 8);
  const uint32_t crc = artifact::artifact_checksum(features.data(), features.size());
  std::memcpy(features.data() + artifact::kChecksumOffset, &crc, 4);
  test::write_bytes(d / "features.kiln", features);

  const std::string m = path(d / "m.kiln");
  const std::string x = path(d / "x.npy");
  const std::vector<std::pair<std::string, std::string>> cases = {
      {m, "input not given: x"},
      {m + " --input " + x + " " + x, "more input files than model inputs"},
      {m + " --input w=" + x, "the model has no input named 'w'"},
      {m + " --input " + path(d / "x_i32.npy"), "input 'x': expected f32[4x16], got i32[4x16]"},
      {m + " --input " + path(d / "x_shape.npy"), "input 'x': expected f32[4x16], got f32[16x4]"},
      {m + " --input " + path(d / "junk.npy"), "not a .npy file"},
      {m + " --input " + path(d / "missing.npy"), "not found"},
      {path(d / "corrupt.kiln") + " --random-inputs", "checksum mismatch"},
      {path(d / "truncated.kiln") + " --random-inputs", "truncated"},
      {path(d / "magic.kiln") + " --random-inputs", "bad magic"},
      {path(d / "nothere.kiln") + " --random-inputs", "cannot open"},
      {path(d / "features.kiln") + " --random-inputs", artifact::cpu_features_to_string(lacking)},
      {m + " --random-inputs --expected " + x + " " + x + " " + x, "more files than model outputs"},
  };
  for (const auto& [args, text] : cases) {
    const CliResult r = run_cli(args, d);
    EXPECT_EQ(r.code, 1) << args << "\n" << r.err;
    EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << args << "\n" << r.err;
    EXPECT_EQ(r.err.rfind("kiln-run: error: ", 0), 0u) << r.err;
    EXPECT_NE(r.err.find(text), std::string::npos) << args << "\n" << r.err;
  }
  const CliResult usage = run_cli(m + " --bench zero", d);
  EXPECT_EQ(usage.code, 2) << usage.err;
  EXPECT_NE(usage.err.find("--bench: 'zero' is not a number"), std::string::npos) << usage.err;
  EXPECT_EQ(run_cli("--frobnicate", d).code, 2);
}

}  // namespace
}  // namespace kiln
