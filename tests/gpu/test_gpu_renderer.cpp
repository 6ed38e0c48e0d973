// The kernel renderer's text: one family rendered in both dialects and both profiles differs
// only by the dialect's spellings (qualifiers, address spaces, ids, math names, types) and the
// profile's loop structure (single work item, unroll pragmas, reqd_work_group_size).
#include <gtest/gtest.h>

#include "codegen/gpu/families.h"
#include "codegen/gpu/lower_device.h"
#include "ir/infer.h"

namespace kiln::gpu {
namespace {

bool has(const std::string& s, const std::string& what) { return s.find(what) != std::string::npos; }

RenderedKernel softmax_kernel(const Dialect& d, Profile p) {
  KernelWriter k(d, p, "kiln_k0");
  k.buffer(Scalar::F32);
  k.buffer(Scalar::F32);
  emit_softmax(k, {4, 10, 3, false, 0, 1});
  return finish(k);
}

TEST(GpuRenderer, OpenClSpellingsAndContractParameters) {
  const RenderedKernel r = softmax_kernel(opencl_dialect(), Profile::Gpu);
  EXPECT_EQ(r.symbol, "kiln_k0");
  EXPECT_TRUE(has(r.source, "__kernel void kiln_k0(__global float* base0, ulong off0,"));
  EXPECT_TRUE(has(r.source,
                  "__global float* restrict p0 = (__global float*)((__global uchar*)base0 + off0);"));
  EXPECT_TRUE(has(r.source, "(long)get_global_id(0)"));
  EXPECT_TRUE(has(r.source, "exp(")) << r.source;
  EXPECT_TRUE(has(r.source, "-INFINITY"));
  EXPECT_FALSE(has(r.source, "#pragma unroll"));
  // 12 rows, one work item each, in groups of 64.
  EXPECT_EQ(r.geometry, (LaunchGeometry{64, 1, 1, 64, 1, 1}));
}

TEST(GpuRenderer, CudaSpellingsOfTheSameKernel) {
  const RenderedKernel r = softmax_kernel(cuda_dialect(), Profile::Gpu);
  EXPECT_TRUE(has(r.source, "extern \"C\" __global__ void kiln_k0(float* base0, unsigned long long off0,"));
  EXPECT_TRUE(has(r.source, "float* __restrict__ p0 = (float*)((unsigned char*)base0 + off0);"));
  EXPECT_TRUE(has(r.source, "blockIdx.x * blockDim.x + threadIdx.x"));
  EXPECT_TRUE(has(r.source, "expf("));
  EXPECT_TRUE(has(r.source, "long long"));
  EXPECT_FALSE(has(r.source, "__global "));
  EXPECT_FALSE(has(r.source, "get_global_id"));
  // Same structure: the two texts match line for line once the spellings are mapped back.
  const RenderedKernel cl = softmax_kernel(opencl_dialect(), Profile::Gpu);
  EXPECT_EQ(std::count(r.source.begin(), r.source.end(), '\n'),
            std::count(cl.source.begin(), cl.source.end(), '\n'));
}

TEST(GpuRenderer, FpgaProfileIsSingleWorkItemWithCompileTimeLoops) {
  const RenderedKernel r = softmax_kernel(opencl_dialect(), Profile::Fpga);
  EXPECT_TRUE(has(r.source, "__kernel __attribute__((reqd_work_group_size(1, 1, 1))) void kiln_k0("));
  EXPECT_TRUE(has(r.source, "for (long row = 0; row < 12L; ++row)"));
  EXPECT_TRUE(has(r.source, "#pragma unroll 4\n"));
  EXPECT_TRUE(has(r.source, "for (long j = 0; j < 10L; ++j)"));
  EXPECT_FALSE(has(r.source, "get_global_id"));
  EXPECT_EQ(r.geometry, (LaunchGeometry{1, 1, 1, 1, 1, 1}));
}

TEST(GpuRenderer, TiledGemmUsesLocalMemoryInBothDialects) {
  GemmDesc d;
  d.M = 33;
  d.N = 20;
  d.K = 7;
  d.a_m = 7;
  d.b_k = 20;
  d.out_dims = {33, 20};
  for (const Dialect* dl : {&opencl_dialect(), &cuda_dialect()}) {
    KernelWriter k(*dl, Profile::Gpu, "g");
    for (int i = 0; i < 3; ++i) k.buffer(Scalar::F32);
    emit_gemm(k, d);
    const RenderedKernel r = finish(k);
    EXPECT_TRUE(has(r.source, dl->local_space + "float As[256L];")) << r.source;
    EXPECT_TRUE(has(r.source, dl->barrier));
    EXPECT_EQ(r.geometry, (LaunchGeometry{32, 48, 1, 16, 16, 1}));
  }
  KernelWriter f(opencl_dialect(), Profile::Fpga, "g");
  for (int i = 0; i < 3; ++i) f.buffer(Scalar::F32);
  emit_gemm(f, d);
  const std::string s = f.render();
  EXPECT_TRUE(has(s, "__local float As[64L];"));
  EXPECT_TRUE(has(s, "#pragma unroll\n"));
  EXPECT_FALSE(has(s, "barrier("));  // one work item: no barriers
}

TEST(GpuRenderer, FloatLiteralsAreExact) {
  const KernelWriter k(opencl_dialect(), Profile::Gpu, "x");
  EXPECT_EQ(k.f32(1.5f), "0x1.8p+0f");
  EXPECT_EQ(k.f32(-0.25f), "(-0x1p-2f)");
  EXPECT_EQ(k.f32(0.0f), "0.0f");
  EXPECT_EQ(k.f32(std::numeric_limits<float>::infinity()), "INFINITY");
  const KernelWriter c(cuda_dialect(), Profile::Gpu, "x");
  EXPECT_EQ(c.f32(-std::numeric_limits<float>::infinity()), "(-__int_as_float(0x7f800000))");
}

TEST(GpuRenderer, UnclosedBlockIsAnError) {
  KernelWriter k(opencl_dialect(), Profile::Gpu, "x");
  k.open("if (1)");
  EXPECT_THROW(k.render(), Error);
}

// The lowering renders a whole graph in the CUDA dialect too (the CUDA target compiles it).
TEST(GpuRenderer, LowersAGraphInTheCudaDialect) {
  Graph g;
  Value* x = g.add_value("x", ValueType::of(DType::F32, {4, 8}));
  Value* w = g.add_constant("w", Tensor(DType::F32, {8, 3}));
  Value* m = g.add_value("m");
  Value* y = g.add_value("y");
  Value* t = g.add_value("t");
  g.add_node(OpKind::MatMul, {x, w}, {m}, {}, "mm", 13);
  g.add_node(OpKind::Relu, {m}, {y}, {}, "relu", 13);
  g.add_node(OpKind::TopK, {y, g.add_constant("k", Tensor::from_vector<int64_t>({2}, {1}))},
             {t, g.add_value("ti")}, {}, "topk", 11);
  g.inputs = {x};
  g.outputs = {y, t};
  infer_shapes(g);
  DeviceLowerOptions o;
  o.dialect = &cuda_dialect();
  const DeviceProgram p = lower_for_device(g, o);
  ASSERT_EQ(p.launches.size(), 3u);
  EXPECT_EQ(p.launches[0].symbol, "kiln_k0");
  EXPECT_FALSE(p.launches[0].host);
  EXPECT_TRUE(p.launches[2].host);  // TopK: host fallback
  EXPECT_EQ(p.launches[2].symbol, "kiln_host_op");
  EXPECT_EQ(p.launches[2].args.size(), 1u + 2u + 2u);  // record, x and k, values and indices
  EXPECT_EQ(p.fallback_ops.at("TopK"), 1);
  EXPECT_TRUE(has(p.source, "extern \"C\" __global__ void kiln_k0("));
  EXPECT_TRUE(has(p.source, "__shared__ float As[256L];"));
}

}  // namespace
}  // namespace kiln::gpu
