// "The CUDA kernels compile to PTX in CI": every kernel family of codegen/gpu rendered in the
// CUDA dialect goes through NVRTC for sm_90 and sm_80 (no GPU needed), and each generated
// kernel is an entry of the PTX. Also the --cuda-arch parsing and NVRTC's errors.
#include <gtest/gtest.h>

#include <set>

#include "codegen/cuda/nvrtc_compile.h"
#include "codegen/gpu/lower_device.h"
#include "tests/cuda/cuda_test_graphs.h"

namespace kiln::cuda_codegen {
namespace {

TEST(CudaPtx, EveryKernelFamilyCompilesForSm90AndSm80) {
  Graph g;
  test::build_all_families(g);
  g.topo_sort();
  gpu::DeviceLowerOptions lo;
  lo.dialect = &gpu::cuda_dialect();
  const gpu::DeviceProgram p = gpu::lower_for_device(g, lo);
  EXPECT_TRUE(p.fallback_ops.empty());
  std::set<std::string> families;
  for (const auto& [family, n] : p.device_kinds) families.insert(family);
  for (const char* f : {"convolution", "pooling", "elementwise", "data movement", "reduction",
                        "softmax", "layer norm", "gemm"})
    EXPECT_TRUE(families.count(f)) << "no " << f << " kernel rendered";
  for (uint32_t arch : {90u, 80u}) {
    const std::string ptx = compile_to_ptx(p.source, arch);
    EXPECT_NE(ptx.find(".target sm_" + std::to_string(arch)), std::string::npos);
    for (const gpu::DeviceLaunch& l : p.launches) {
      ASSERT_FALSE(l.host) << l.op;
      EXPECT_NE(ptx.find(".entry " + l.symbol + "("), std::string::npos)
          << l.symbol << " (" << l.op << ") missing from the sm_" << arch << " PTX";
    }
  }
}

TEST(CudaPtx, CubinsPerArchitectureAndOnePtx) {
  const std::string src =
      "extern \"C\" __global__ void k(float* p, unsigned long long off) {\n"
      "  float* x = (float*)((unsigned char*)p + off);\n"
      "  x[threadIdx.x] = expf(x[threadIdx.x]);\n}\n";
  const CudaModuleCode code = compile_cuda_source(src, {90, 80});
  ASSERT_EQ(code.blobs.size(), 3u);
  EXPECT_EQ(code.blobs[0].kind, artifact::CudaBlobKind::Ptx);
  EXPECT_EQ(code.blobs[0].arch, 80u);  // the lowest: JIT-compiled on anything newer
  EXPECT_EQ(code.blobs[1].arch, 90u);
  EXPECT_EQ(code.blobs[2].arch, 80u);
  for (size_t i = 1; i < 3; ++i) {
    EXPECT_EQ(code.blobs[i].kind, artifact::CudaBlobKind::Cubin);
    ASSERT_GE(code.blobs[i].bytes.size(), 4u);
    EXPECT_EQ(std::string(code.blobs[i].bytes.begin(), code.blobs[i].bytes.begin() + 4),
              "\x7f"
              "ELF");
  }
  const CudaModuleCode ptx_only = compile_cuda_source(src, {90}, true);
  ASSERT_EQ(ptx_only.blobs.size(), 1u);
  EXPECT_EQ(ptx_only.blobs[0].bytes.back(), 0);  // NUL-terminated for cuModuleLoadData
}

TEST(CudaPtx, ArchitectureListsAndTheirErrors) {
  EXPECT_EQ(parse_cuda_arch_list("sm_90"), (std::vector<uint32_t>{90}));
  EXPECT_EQ(parse_cuda_arch_list("sm_90,sm_80,sm_90"), (std::vector<uint32_t>{90, 80}));
  auto message = [](const std::string& list) {
    try {
      parse_cuda_arch_list(list);
    } catch (const Error& e) {
      return std::string(e.what());
    }
    return std::string("no error");
  };
  EXPECT_NE(message("sm_99").find("this NVRTC cannot target sm_99"), std::string::npos);
  EXPECT_NE(message("compute_90").find("unknown architecture 'compute_90'"), std::string::npos);
  EXPECT_NE(message("sm_9x").find("unknown architecture"), std::string::npos);
  EXPECT_NE(message("sm_90,").find("empty architecture"), std::string::npos);
}

TEST(CudaPtx, CompileErrorsQuoteNvrtcLog) {
  try {
    compile_to_ptx("extern \"C\" __global__ void k() { undeclared_thing = 1; }\n", 90);
    FAIL() << "expected an NVRTC error";
  } catch (const Error& e) {
    const std::string msg = e.what();
    EXPECT_NE(msg.find("NVRTC (compute_90) failed"), std::string::npos) << msg;
    EXPECT_NE(msg.find("undeclared_thing"), std::string::npos) << msg;
    EXPECT_EQ(msg.find('\n'), std::string::npos) << "one line: " << msg;
  }
}

}  // namespace
}  // namespace kiln::cuda_codegen
