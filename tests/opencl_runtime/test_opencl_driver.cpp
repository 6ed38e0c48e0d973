// The runtime's OpenCL driver on hand-written kernels (tests/opencl_runtime/opencl_test_model.h),
// through the C API: arena offsets, weights, inputs and outputs, the host-fallback op, program
// binaries, profiling, concurrent sessions, and the one-line errors for bad artifacts and
// missing devices. Runs on PoCL here; skips only where no OpenCL device exists.
#ifdef KILN_HAVE_OPENCL

#include <gtest/gtest.h>

#include <cstdlib>
#include <thread>

#include "kiln/kiln.hpp"
#include "runtime/devices/opencl/cl_util.h"
#include "tests/opencl_runtime/opencl_test_model.h"

namespace kiln::test {
namespace {

using artifact::CodeFormat;

struct Outputs {
  std::vector<float> y, z;
};

Outputs run_once(rt::Session& s, const std::vector<float>& x) {
  const int64_t dims[2] = {kClRows, kClCols};
  s.bind_input(0, x.data(), KILN_DTYPE_F32, 2, dims);
  s.run();
  Outputs o;
  const kiln_tensor_view y = s.output(0), z = s.output(1);
  o.y.assign(static_cast<const float*>(y.data), static_cast<const float*>(y.data) + y.bytes / 4);
  o.z.assign(static_cast<const float*>(z.data), static_cast<const float*>(z.data) + z.bytes / 4);
  return o;
}

void expect_matches(const Outputs& o, const std::vector<float>& x) {
  std::vector<float> y, z;
  cl_reference(x, &y, &z);
  ASSERT_EQ(o.y.size(), y.size());
  for (size_t i = 0; i < y.size(); ++i) EXPECT_FLOAT_EQ(o.y[i], y[i]) << "y[" << i << "]";
  ASSERT_EQ(o.z.size(), z.size());
  for (size_t i = 0; i < z.size(); ++i) EXPECT_NEAR(o.z[i], z[i], 1e-4) << "z[" << i << "]";
}

std::string load_error(const std::vector<uint8_t>& image, const char* device = nullptr,
                       kiln_status_code* code = nullptr) {
  try {
    rt::Context ctx(1, device);
    rt::Model::load_memory(ctx, image.data(), image.size());
  } catch (const rt::StatusError& e) {
    if (code) *code = e.code;
    return e.what();
  }
  return "";
}

std::string writer_error(const std::string& code, CodeFormat format,
                         const std::string& profile = "gpu") {
  try {
    opencl_test_model(code, format, profile);
  } catch (const Error& e) {
    return e.what();
  }
  return "";
}

TEST(OpenClDriver, RunsOnItsOwnDeviceByDefault) {
  KILN_REQUIRE_OPENCL();
  const std::vector<uint8_t> image = opencl_test_model();
  rt::Context ctx(1);  // auto: the artifact picks OpenCL
  rt::Model m = rt::Model::load_memory(ctx, image.data(), image.size());
  EXPECT_STREQ(kiln_model_device(m.get()), "opencl");
  EXPECT_NE(std::string(kiln_model_device_description(m.get())).find("OpenCL: "),
            std::string::npos);
  rt::Session s(m);
  for (int seed = 0; seed < 3; ++seed) {  // reruns reuse the session's buffers
    const std::vector<float> x = cl_test_input(seed);
    expect_matches(run_once(s, x), x);
  }
}

// The FPGA profile runs the same way; a program binary taken from the device (as
// `kilnc compile --opencl-binary` embeds one) loads instead of the source.
TEST(OpenClDriver, FpgaProfileAndProgramBinary) {
  KILN_REQUIRE_OPENCL();
  const opencl::DeviceChoice dev = opencl::choose_device();
  cl_int err = CL_SUCCESS;
  opencl::ContextHandle c(
      opencl::cl().clCreateContext(nullptr, 1, &dev.device, nullptr, nullptr, &err));
  ASSERT_EQ(err, CL_SUCCESS);
  const char* src = kOpenClTestKernels;
  opencl::ProgramHandle p(opencl::cl().clCreateProgramWithSource(c.get(), 1, &src, nullptr, &err));
  ASSERT_EQ(opencl::cl().clBuildProgram(p.get(), 1, &dev.device, "-cl-std=CL1.2", nullptr, nullptr),
            CL_SUCCESS);
  size_t n = 0;
  ASSERT_EQ(opencl::cl().clGetProgramInfo(p.get(), CL_PROGRAM_BINARY_SIZES, sizeof n, &n, nullptr),
            CL_SUCCESS);
  std::string binary(n, '\0');
  unsigned char* ptr = reinterpret_cast<unsigned char*>(binary.data());
  ASSERT_EQ(opencl::cl().clGetProgramInfo(p.get(), CL_PROGRAM_BINARIES, sizeof ptr, &ptr, nullptr),
            CL_SUCCESS);
  ASSERT_GT(n, 0u);

  for (const auto& [code, format] :
       {std::pair{binary, CodeFormat::OpenClBinary},
        std::pair{std::string(kOpenClTestKernels), CodeFormat::OpenClSource}}) {
    const std::vector<uint8_t> image = opencl_test_model(code, format, "fpga");
    rt::Context ctx(1, "opencl");
    rt::Model m = rt::Model::load_memory(ctx, image.data(), image.size());
    rt::Session s(m);
    const std::vector<float> x = cl_test_input(5);
    expect_matches(run_once(s, x), x);
  }
}

TEST(OpenClDriver, ProfileCoversDeviceKernelsAndHostOps) {
  KILN_REQUIRE_OPENCL();
  const std::vector<uint8_t> image = opencl_test_model();
  rt::Context ctx(1);
  rt::Model m = rt::Model::load_memory(ctx, image.data(), image.size());
  rt::Session s(m);
  s.set_profiling(true);
  run_once(s, cl_test_input(1));
  ASSERT_EQ(kiln_model_num_launches(m.get()), 4u);
  const char* symbols[] = {"cl_add_bias", "cl_relu_half", "kiln_host_op", "cl_copy"};
  uint64_t prev = 0;
  for (size_t i = 0; i < 4; ++i) {
    const kiln_launch_profile p = s.launch_profile(i);
    EXPECT_STREQ(p.symbol, symbols[i]);
    EXPECT_GE(p.start_ns, prev) << "launches are timed in order";
    prev = p.start_ns;
    EXPECT_LT(p.duration_ns, uint64_t{10'000'000'000});
  }
  EXPECT_GT(s.launch_profile(2).duration_ns, 0u) << "the host op is timed on the host";
  EXPECT_STREQ(s.launch_profile(2).node_name, "sum0");
}

// One model, a session per thread: each session has its own queue, buffers and kernel objects.
TEST(OpenClDriver, ConcurrentSessionsOnOneModel) {
  KILN_REQUIRE_OPENCL();
  const std::vector<uint8_t> image = opencl_test_model();
  rt::Context ctx(2);
  rt::Model m = rt::Model::load_memory(ctx, image.data(), image.size());
  std::vector<Outputs> last(2);
  std::vector<std::thread> threads;
  for (int t = 0; t < 2; ++t) {
    threads.emplace_back([&, t] {
      rt::Session s(m);
      for (int i = 0; i < 15; ++i) last[t] = run_once(s, cl_test_input(t * 100 + i));
    });
  }
  for (auto& th : threads) th.join();
  for (int t = 0; t < 2; ++t) expect_matches(last[t], cl_test_input(t * 100 + 14));
}

TEST(OpenClDriver, BadProgramsFailWithOneLine) {
  KILN_REQUIRE_OPENCL();
  kiln_status_code code = KILN_STATUS_OK;
  const std::string broken = load_error(
      opencl_test_model("__kernel void cl_add_bias(__global float* x) { y = 1; }"), nullptr, &code);
  EXPECT_NE(broken.find("OpenCL program build failed"), std::string::npos) << broken;
  EXPECT_NE(broken.find("error"), std::string::npos) << "the build log is quoted: " << broken;
  EXPECT_EQ(broken.find('\n'), std::string::npos) << broken;
  EXPECT_EQ(code, KILN_STATUS_INVALID_ARTIFACT);

  std::string missing = std::string(kOpenClTestKernels);
  missing = missing.substr(0, missing.find("__kernel void cl_copy"));
  const std::string no_kernel = load_error(opencl_test_model(missing));
  EXPECT_NE(no_kernel.find("has no kernel 'cl_copy'"), std::string::npos) << no_kernel;

  std::string wrong_params = std::string(kOpenClTestKernels);
  wrong_params.replace(wrong_params.find("__global float* z, ulong zo"), 27, "__global float* z");
  wrong_params.replace(wrong_params.find("AT(float, z, zo)"), 16, "AT(float, z, 0)");
  const std::string params = load_error(opencl_test_model(wrong_params));
  EXPECT_NE(params.find("takes 3 parameters, its launch passes 4"), std::string::npos) << params;

  const std::string garbage =
      load_error(opencl_test_model("not a binary", CodeFormat::OpenClBinary));
  EXPECT_NE(garbage.find("program binary does not load"), std::string::npos) << garbage;

  // Host-fallback launches must match their op record: region sizes, and only arena or output
  // regions written.
  const std::string small = load_error(
      opencl_test_model(kOpenClTestKernels, CodeFormat::OpenClSource, "gpu",
                        [](artifact::ArtifactMeta& m) { m.launches[2].args[3].bytes = 8; }));
  EXPECT_NE(small.find("host op 'sum0' argument 3 is 8 bytes, its op record's f32[4] needs 16"),
            std::string::npos)
      << small;
  const std::string writes_weights = load_error(opencl_test_model(
      kOpenClTestKernels, CodeFormat::OpenClSource, "gpu", [](artifact::ArtifactMeta& m) {
        m.launches[2].args[3] = {artifact::BufferKind::Weights, 0, 0, 16};
      }));
  EXPECT_NE(writes_weights.find("writes a read-only weights buffer"), std::string::npos)
      << writes_weights;
  // Work sizes are checked by the reader (the writer runs it too).
  std::string no_sizes;
  try {
    opencl_test_model(kOpenClTestKernels, CodeFormat::OpenClSource, "gpu",
                      [](artifact::ArtifactMeta& m) {
                        m.launches[0].params = {16, 4};
                      });
  } catch (const Error& e) {
    no_sizes = e.what();
  }
  EXPECT_NE(no_sizes.find("has 2 params, expected 6"), std::string::npos) << no_sizes;
}

// The reader (which the writer runs on what it writes) refuses inconsistent OpenCL artifacts.
TEST(OpenClDriver, ReaderRefusesInconsistentArtifacts) {
  EXPECT_NE(writer_error("", CodeFormat::OpenClSource).find("holds no OpenCL source"),
            std::string::npos);
  EXPECT_NE(writer_error("", CodeFormat::OpenClBinary).find("no OpenCL program binary"),
            std::string::npos);
  EXPECT_NE(writer_error(kOpenClTestKernels, CodeFormat::ElfSharedObject)
                .find("target 'opencl' with code format ELF shared object"),
            std::string::npos);
  EXPECT_NE(writer_error(kOpenClTestKernels, CodeFormat::OpenClSource, "dsp")
                .find("neither 'gpu' nor 'fpga'"),
            std::string::npos);
  EXPECT_NE(writer_error(kOpenClTestKernels, CodeFormat::CudaPtx).find("CUDA PTX"),
            std::string::npos);
  EXPECT_NE(writer_error(std::string("abc\0def", 7), CodeFormat::OpenClSource).find("NUL byte"),
            std::string::npos);
}

TEST(OpenClDriver, DeviceChoiceErrors) {
  KILN_REQUIRE_OPENCL();
  kiln_status_code code = KILN_STATUS_OK;
  // A context that runs on the CPU refuses an OpenCL artifact, and the reverse.
  const std::string on_cpu = load_error(opencl_test_model(), "cpu", &code);
  EXPECT_NE(on_cpu.find("compiled for OpenCL"), std::string::npos) << on_cpu;
  EXPECT_EQ(code, KILN_STATUS_UNSUPPORTED);
  try {
    rt::Context ctx(1, "tpu");
    FAIL() << "an unknown device was accepted";
  } catch (const rt::StatusError& e) {
    EXPECT_NE(std::string(e.what()).find("unknown device 'tpu'"), std::string::npos) << e.what();
  }
  // KILN_OPENCL_DEVICE naming no device: one line listing what exists.
  const char* old = std::getenv("KILN_OPENCL_DEVICE");
  const std::string saved = old ? old : "";
  ::setenv("KILN_OPENCL_DEVICE", "no-such-device-xyz", 1);
  std::string msg;
  try {
    rt::Context ctx(1, "opencl");
  } catch (const rt::StatusError& e) {
    msg = e.what();
    code = e.code;
  }
  if (old)
    ::setenv("KILN_OPENCL_DEVICE", saved.c_str(), 1);
  else
    ::unsetenv("KILN_OPENCL_DEVICE");
  EXPECT_NE(msg.find("no OpenCL device matches"), std::string::npos) << msg;
  EXPECT_NE(msg.find("available: "), std::string::npos) << msg;
  EXPECT_EQ(code, KILN_STATUS_UNSUPPORTED);
}

}  // namespace
}  // namespace kiln::test

#endif  // KILN_HAVE_OPENCL
