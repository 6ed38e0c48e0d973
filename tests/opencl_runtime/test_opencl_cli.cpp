// The OpenCL target from the command line: kiln-run on an OpenCL artifact (its own device by
// default, --device, --profile), a missing OpenCL platform, the batch split across devices
// (--devices cpu,opencl), and kilnc's --target opencl / --fpga / --opencl-binary and
// `kilnc run --backend opencl|opencl-fpga`.
#ifdef KILN_HAVE_OPENCL

#include <gtest/gtest.h>

#include <regex>

#include "runtime/io/npy.h"
#include "tests/cli_util.h"
#include "tests/frontend/model_builder.h"
#include "tests/opencl_runtime/opencl_test_model.h"
#include "tests/runtime/json_check.h"
#include "tests/runtime/runtime_test_fixture.h"

namespace kiln {
namespace {

namespace fs = std::filesystem;
using test::CliResult;

CliResult run_tool(const std::string& tool, const std::string& args, const std::string& env = "") {
  return test::run_command(env + " " + tool + " " + args);
}
CliResult kiln_run(const std::string& args, const std::string& env = "") {
  return run_tool(KILN_RUN_PATH, args, env);
}
CliResult kilnc(const std::string& args) { return run_tool(KILN_KILNC_PATH, args); }

int count_lines(const std::string& s) {
  return static_cast<int>(std::count(s.begin(), s.end(), '\n'));
}

// cl.kiln (the OpenCL test model), x.npy and its expected y.npy / z.npy.
fs::path setup(const std::string& name) {
  const fs::path d = test::fresh_test_dir(name);
  test::write_bytes(d / "cl.kiln", test::opencl_test_model());
  const std::vector<float> x = test::cl_test_input(2);
  std::vector<float> y, z;
  test::cl_reference(x, &y, &z);
  write_npy(d / "x.npy", Tensor::from_vector(x, {test::kClRows, test::kClCols}));
  write_npy(d / "y.npy", Tensor::from_vector(y, {test::kClRows, test::kClCols}));
  write_npy(d / "z.npy", Tensor::from_vector(z, {test::kClRows}));
  return d;
}

std::string p(const fs::path& f) { return f.string(); }

TEST(OpenClCli, KilnRunPicksTheArtifactsDeviceAndProfiles) {
  KILN_REQUIRE_OPENCL();
  const fs::path d = setup("cl_cli_run");
  const std::string io = " --input " + p(d / "x.npy") + " --expected " + p(d / "y.npy") + " " +
                         p(d / "z.npy") + " --atol 1e-4";
  for (const std::string device : {"", " --device opencl"}) {
    const CliResult r =
        kiln_run(p(d / "cl.kiln") + io + device + " --profile " + p(d / "trace.json"));
    ASSERT_EQ(r.code, 0) << r.out;
    EXPECT_NE(r.out.find("compare y: PASS"), std::string::npos) << r.out;
    EXPECT_NE(r.out.find("compare z: PASS"), std::string::npos) << r.out;
    EXPECT_NE(r.out.find("profile: 4 kernels"), std::string::npos) << r.out;
  }
  const std::vector<uint8_t> bytes = test::read_bytes(d / "trace.json");
  test::JsonValue trace;
  ASSERT_TRUE(test::parse_json(std::string(bytes.begin(), bytes.end()), &trace));
  const test::JsonValue* events = trace.get("traceEvents");
  ASSERT_TRUE(events);
  std::string names;
  for (const auto& e : events->items)
    if (const test::JsonValue* n = e.get("name")) names += n->text + ",";
  EXPECT_NE(names.find("add0"), std::string::npos) << names;
  EXPECT_NE(names.find("sum0"), std::string::npos) << names;  // the host-fallback op
  const CliResult bench = kiln_run(p(d / "cl.kiln") + " --random-inputs --bench 3");
  ASSERT_EQ(bench.code, 0) << bench.out;
  EXPECT_NE(bench.out.find("on OpenCL: "), std::string::npos) << bench.out;
}

TEST(OpenClCli, DeviceErrorsAreOneLine) {
  KILN_REQUIRE_OPENCL();
  const fs::path d = setup("cl_cli_errors");
  const std::vector<std::pair<std::string, std::string>> cases = {
      {p(d / "cl.kiln") + " --random-inputs --device cpu", "compiled for OpenCL"},
      {p(d / "cl.kiln") + " --random-inputs --device tpu", "not a device"},
      {"--devices cpu,fpga --random-inputs", "'fpga' is not a device"},
      {p(d / "cl.kiln") + " --model-for cpu=x.kiln --random-inputs", "--model-for needs --devices"},
  };
  for (const auto& [args, want] : cases) {
    const CliResult r = kiln_run(args);
    EXPECT_NE(r.code, 0) << args;
    EXPECT_NE(r.out.find(want), std::string::npos) << args << "\n" << r.out;
  }
  // No OpenCL platform at all (the ICD loader finds no driver): one line, exit 1.
  const CliResult none =
      kiln_run(p(d / "cl.kiln") + " --random-inputs", "OCL_ICD_VENDORS=/nonexistent-kiln");
  EXPECT_EQ(none.code, 1) << none.out;
  EXPECT_EQ(count_lines(none.out), 1) << none.out;
  EXPECT_NE(none.out.find("no OpenCL platform found"), std::string::npos) << none.out;
  // No ICD loader at all (the runtime dlopens it, so kiln-run itself still starts): one line.
  const CliResult noloader = kiln_run(p(d / "cl.kiln") + " --random-inputs",
                                      "KILN_OPENCL_LIBRARY=libkiln-no-such-cl.so.1");
  EXPECT_EQ(noloader.code, 1) << noloader.out;
  EXPECT_EQ(count_lines(noloader.out), 1) << noloader.out;
  EXPECT_NE(noloader.out.find("no OpenCL ICD loader (libkiln-no-such-cl.so.1 not found)"),
            std::string::npos)
      << noloader.out;
  // A device name that matches nothing.
  const CliResult nodev =
      kiln_run(p(d / "cl.kiln") + " --random-inputs", "KILN_OPENCL_DEVICE=no-such-device");
  EXPECT_EQ(nodev.code, 1) << nodev.out;
  EXPECT_EQ(count_lines(nodev.out), 1) << nodev.out;
  EXPECT_NE(nodev.out.find("no OpenCL device matches"), std::string::npos) << nodev.out;
}

// CPU and OpenCL artifacts of the same model, batch 4 each, share a batch of 8.
TEST(OpenClCli, DevicesSplitTheBatch) {
  KILN_REQUIRE_OPENCL();
  KILN_REQUIRE_TEST_KERNELS();
  const fs::path d = setup("cl_cli_split");
  test::write_bytes(d / "cpu.kiln", test::test_model_bytes());
  std::vector<float> x8, y8, z8;
  for (int half = 0; half < 2; ++half) {
    const std::vector<float> x = test::cl_test_input(10 + half);
    std::vector<float> y, z;
    test::cl_reference(x, &y, &z);
    x8.insert(x8.end(), x.begin(), x.end());
    y8.insert(y8.end(), y.begin(), y.end());
    z8.insert(z8.end(), z.begin(), z.end());
  }
  write_npy(d / "x8.npy", Tensor::from_vector(x8, {8, test::kClCols}));
  write_npy(d / "y8.npy", Tensor::from_vector(y8, {8, test::kClCols}));
  write_npy(d / "z8.npy", Tensor::from_vector(z8, {8}));
  const std::string models =
      " --devices cpu,opencl --model-for cpu=" + p(d / "cpu.kiln") + " opencl=" + p(d / "cl.kiln");
  const CliResult r =
      kiln_run(models + " --input " + p(d / "x8.npy") + " --expected " + p(d / "y8.npy") + " " +
               p(d / "z8.npy") + " --atol 1e-4 --bench 3 " + "--output-dir " + p(d / "out"));
  ASSERT_EQ(r.code, 0) << r.out;
  EXPECT_NE(r.out.find("compare y: PASS"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("compare z: PASS"), std::string::npos) << r.out;
  EXPECT_TRUE(std::regex_search(r.out, std::regex("cpu alone \\(batch 4, cpu\\): p50 [0-9.]+ ms, "
                                                  "throughput [0-9.]+ items/s")))
      << r.out;
  EXPECT_TRUE(std::regex_search(r.out, std::regex("opencl alone \\(batch 4, OpenCL: "))) << r.out;
  EXPECT_TRUE(std::regex_search(r.out, std::regex("split \\(batch 8\\): p50 [0-9.]+ ms"))) << r.out;
  EXPECT_TRUE(std::regex_search(r.out, std::regex("latency_ms: p50=[0-9.]+ p90=[0-9.]+ "
                                                  "p99=[0-9.]+\\n$")))
      << r.out;
  EXPECT_EQ(read_npy(d / "out" / "y.npy").dims(), (Dims{8, test::kClCols}));

  // The whole batch must match the sum of the devices' batches.
  const CliResult bad = kiln_run(models + " --input " + p(d / "x.npy"));
  EXPECT_EQ(bad.code, 1) << bad.out;
  EXPECT_NE(bad.out.find("needs f32[8x16]"), std::string::npos) << bad.out;
  // One device alone through the same path.
  const CliResult one = kiln_run("--devices opencl " + p(d / "cl.kiln") + " --random-inputs");
  EXPECT_EQ(one.code, 0) << one.out;
  EXPECT_NE(one.out.find("ran on opencl (batch 4)"), std::string::npos) << one.out;
}

TEST(OpenClCli, KilncTargetsOpenCl) {
  KILN_REQUIRE_OPENCL();
  const fs::path d = test::fresh_dir("cl_cli_kilnc");
  test::write_model(test::small_model(), d / "m.onnx");
  write_npy(d / "x.npy", Tensor::from_vector<float>({1, 1, 1, 1, 1, 1}, {2, 3}));
  const std::vector<float> want{0, 0, 0.5f, 1.5f, 2.5f, 3.5f};
  for (const std::string profile : {"", " --fpga"}) {
    const CliResult c = kilnc("compile " + p(d / "m.onnx") + " -o " + p(d / "m.kiln") +
                              " --target opencl" + profile);
    ASSERT_EQ(c.code, 0) << c.out;
    const CliResult r = kiln_run(p(d / "m.kiln") + " --input x=" + p(d / "x.npy") +
                                 " --output-dir " + p(d / "out") + " --bench 2");
    ASSERT_EQ(r.code, 0) << r.out;
    EXPECT_NE(r.out.find("on OpenCL"), std::string::npos) << r.out;
    EXPECT_EQ(read_npy(d / "out" / "y.npy").to_float_vector(), want) << profile;
  }
  for (const std::string backend : {"opencl", "opencl-fpga"}) {
    const CliResult r =
        kilnc("run " + p(d / "m.onnx") + " --backend " + backend + " --input x=" + p(d / "x.npy") +
              " --output-dir " + p(d / ("out_" + backend)));
    ASSERT_EQ(r.code, 0) << r.out;
    EXPECT_EQ(read_npy(d / ("out_" + backend) / "y.npy").to_float_vector(), want) << backend;
  }
  // --opencl-binary embeds the given bytes; a file that is no program for this device fails
  // at load with one line.
  std::ofstream(d / "junk.bin") << "not a program binary";
  const CliResult b = kilnc("compile " + p(d / "m.onnx") + " -o " + p(d / "bin.kiln") +
                            " --target opencl --opencl-binary " + p(d / "junk.bin"));
  ASSERT_EQ(b.code, 0) << b.out;
  const CliResult rb = kiln_run(p(d / "bin.kiln") + " --random-inputs");
  EXPECT_EQ(rb.code, 1) << rb.out;
  EXPECT_NE(rb.out.find("program binary does not load"), std::string::npos) << rb.out;
  EXPECT_EQ(count_lines(rb.out), 1) << rb.out;
  for (const std::string& args :
       {std::string("compile ") + p(d / "m.onnx") + " -o " + p(d / "x.kiln") + " --fpga",
        std::string("compile ") + p(d / "m.onnx") + " -o " + p(d / "x.kiln") +
            " --target opencl --opencl-binary /nonexistent.bin",
        std::string("run ") + p(d / "m.onnx") + " --backend gpu --input x=" + p(d / "x.npy") +
            " --output-dir " + p(d / "o")}) {
    const CliResult r = kilnc(args);
    EXPECT_NE(r.code, 0) << args;
    EXPECT_EQ(count_lines(r.out), 1) << args << "\n" << r.out;
  }
}

}  // namespace
}  // namespace kiln

#endif  // KILN_HAVE_OPENCL
