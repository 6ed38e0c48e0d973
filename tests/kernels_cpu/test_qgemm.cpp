// The int8 CPU kernels (runtime/kernels/cpu/qgemm.h) against the reference kernels of
// KilnQMatMul / KilnQConv on random shapes, for every kernel this CPU has (scalar, AVX2,
// AVX-512 VNNI, AMX). The integer sums are exact on every path, so all paths must agree bit for bit;
// against the reference the f32 epilogue may differ by rounding only (rtol 1e-6).
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <limits>

#include "runtime/kernels/cpu/qgemm.h"
#include "runtime/kernels/cpu/qgemm_kernel.h"
#include "runtime/kernels/ref/evaluate.h"
#include "runtime/threadpool/thread_pool.h"
#include "tests/kernels_cpu/cpu_kernel_test_util.h"
#include "tests/kernels_cpu/qkernel_test_util.h"

namespace kiln::test {
namespace {

struct GemmCase {
  int64_t M, N, K;
  bool dynamic, relu, bias;
};

TEST(QGemm, MatchesReferenceOnEveryIsa) {
  std::mt19937 rng(5);
  ThreadPool pool(2);
  for (const GemmCase& c : std::vector<GemmCase>{{1, 1, 1, false, false, false},
                                                 {7, 33, 13, false, true, true},
                                                 {50, 70, 301, true, false, true},
                                                 {13, 5, 1000, true, true, false},
                                                 {40, 64, 288, false, true, true},
                                                 {64, 96, 64, false, false, true}}) {
    const std::string what = cat("M", c.M, " N", c.N, " K", c.K, c.dynamic ? " dynamic" : "");
    const Tensor a = random_tensor({c.M, c.K}, rng, -1.5f, 2.5f);
    const Tensor b = random_s8({c.K, c.N}, rng);
    const Tensor ws = random_tensor({c.N}, rng, 0.001f, 0.02f);
    const Tensor bias = random_tensor({c.N}, rng);
    Attributes attrs;
    const float xs = 4.0f / 255.0f;
    const int64_t zp = 96;
    if (!c.dynamic) {
      attrs.set("x_scale", Attribute::of_float(xs));
      attrs.set("x_zero_point", Attribute::of_int(zp));
    }
    if (c.relu) attrs.set("activation", Attribute::of_string("Relu"));
    const Tensor want = reference(OpKind::KilnQMatMul, attrs,
                                  {&a, &b, &ws, c.bias ? &bias : nullptr});
    std::vector<uint8_t> packed(kiln_qgemm_packed_b_size(c.N, c.K));
    kiln_qgemm_pack_b(0, c.N, c.K, b.data<int8_t>(), ws.data<float>(), packed.data());
    KilnGemmEpilogue ep{};
    ep.column_bias = c.bias ? bias.data<float>() : nullptr;
    ep.relu = c.relu;
    Tensor first;
    for (QKernel k : qkernels()) {
      ForceQKernel force(k);
      for (ThreadPool* p : {static_cast<ThreadPool*>(nullptr), &pool}) {
        Tensor got(DType::F32, {c.M, c.N});
        kiln_qgemm_packed_b(c.M, c.N, c.K, a.data<float>(), c.K, c.dynamic ? 0.0f : xs,
                            static_cast<int32_t>(zp), packed.data(), got.data<float>(), c.N, &ep,
                            p);
        expect_near(got, want, cat(what, " ", cpu::qgemm_kernel_name()));
        if (!first.defined()) first = got;
        EXPECT_TRUE(got.bytes_equal(first)) << what << " " << cpu::qgemm_kernel_name();
      }
    }
  }
}

// B packed transposed ([N, K]) gives the same result as B [K, N].
TEST(QGemm, PacksTransposedB) {
  std::mt19937 rng(6);
  const int64_t M = 9, N = 40, K = 23;
  const Tensor a = random_tensor({M, K}, rng);
  const Tensor b = random_s8({K, N}, rng);
  Tensor bt(DType::I8, {N, K});
  for (int64_t k = 0; k < K; ++k)
    for (int64_t n = 0; n < N; ++n) bt.data<int8_t>()[n * K + k] = b.data<int8_t>()[k * N + n];
  const Tensor ws = random_tensor({N}, rng, 0.01f, 0.02f);
  std::vector<uint8_t> p1(kiln_qgemm_packed_b_size(N, K)), p2(p1.size());
  kiln_qgemm_pack_b(0, N, K, b.data<int8_t>(), ws.data<float>(), p1.data());
  kiln_qgemm_pack_b(1, N, K, bt.data<int8_t>(), ws.data<float>(), p2.data());
  EXPECT_EQ(p1, p2);
}

// The worst case for 16-bit pair sums (u8 255 x s8 -128 everywhere): every path stays exact,
// where vpmaddubsw would saturate at -32768 per pair.
TEST(QGemm, ExtremeProductsDoNotSaturate) {
  const int64_t M = 3, N = 32, K = 64;
  Tensor a(DType::F32, {M, K});
  for (int64_t i = 0; i < a.numel(); ++i) a.data<float>()[i] = 1000.0f;  // quantizes to 255
  std::vector<int8_t> b(static_cast<size_t>(K * N), -128);
  std::vector<float> ws(static_cast<size_t>(N), 1.0f);
  std::vector<uint8_t> packed(kiln_qgemm_packed_b_size(N, K));
  kiln_qgemm_pack_b(0, N, K, b.data(), ws.data(), packed.data());
  for (QKernel k : qkernels()) {
    ForceQKernel force(k);
    std::vector<float> c(static_cast<size_t>(M * N));
    kiln_qgemm_packed_b(M, N, K, a.data<float>(), K, 1.0f, 0, packed.data(), c.data(), N, nullptr,
                        nullptr);
    for (float v : c) ASSERT_EQ(v, 255.0f * -128.0f * K) << cpu::qgemm_kernel_name();
  }
}

struct ConvCase {
  int64_t N, C, H, W, M, KH, KW, stride, pad, dilation, group;
};

TEST(QConv2d, MatchesReferenceOnEveryIsa) {
  std::mt19937 rng(8);
  ThreadPool pool(2);
  for (const ConvCase& c : std::vector<ConvCase>{{1, 3, 9, 9, 8, 3, 3, 1, 1, 1, 1},
                                                 {2, 4, 11, 7, 6, 3, 3, 2, 1, 1, 2},
                                                 {1, 8, 10, 10, 8, 3, 3, 1, 2, 2, 8},
                                                 {2, 16, 6, 6, 40, 1, 1, 1, 0, 1, 1},
                                                 {1, 5, 13, 13, 7, 5, 5, 2, 2, 1, 1},
                                                 {1, 32, 8, 8, 40, 3, 3, 1, 1, 1, 1},
                                                 {1, 72, 7, 9, 20, 3, 3, 1, 1, 1, 1},
                                                 {2, 8, 9, 9, 16, 3, 3, 1, 2, 2, 1},
                                                 // depthwise 3x3 (qconv_dw3_applies), ReLU
                                                 {2, 24, 14, 14, 24, 3, 3, 1, 1, 1, 24},
                                                 {1, 20, 15, 15, 20, 3, 3, 2, 1, 1, 20}}) {
    const std::string what = cat("C", c.C, " M", c.M, " k", c.KH, " s", c.stride, " p", c.pad,
                                 " d", c.dilation, " g", c.group);
    const Tensor x = random_tensor({c.N, c.C, c.H, c.W}, rng, -1.0f, 3.0f);
    const Tensor w = random_s8({c.M, c.C / c.group, c.KH, c.KW}, rng);
    const Tensor ws = random_tensor({c.M}, rng, 0.001f, 0.01f);
    const Tensor bias = random_tensor({c.M}, rng);
    const float xs = 4.0f / 255.0f;
    const int64_t zp = 64;
    Attributes attrs;
    attrs.set("strides", Attribute::of_ints({c.stride, c.stride}));
    attrs.set("pads", Attribute::of_ints({c.pad, c.pad, c.pad, c.pad}));
    attrs.set("dilations", Attribute::of_ints({c.dilation, c.dilation}));
    attrs.set("group", Attribute::of_int(c.group));
    attrs.set("x_scale", Attribute::of_float(xs));
    attrs.set("x_zero_point", Attribute::of_int(zp));
    attrs.set("activation", Attribute::of_string("Relu"));
    const Tensor want = reference(OpKind::KilnQConv, attrs, {&x, &w, &ws, &bias});
    const KilnConv2dShape s{c.N,      c.C,   c.H,   c.W,   c.M,        c.KH,       c.KW,   c.stride,
                            c.stride, c.pad, c.pad, c.pad, c.pad, c.dilation, c.dilation, c.group};
    std::vector<uint8_t> packed(kiln_qconv2d_packed_weights_size(&s));
    kiln_qconv2d_pack_weights(&s, w.data<int8_t>(), ws.data<float>(), packed.data());
    KilnGemmEpilogue ep{};
    ep.row_bias = bias.data<float>();
    ep.relu = 1;
    Tensor first;
    for (QKernel k : qkernels()) {
      ForceQKernel force(k);
      for (ThreadPool* p : {static_cast<ThreadPool*>(nullptr), &pool}) {
        Tensor got(DType::F32, want.dims());
        kiln_qconv2d(&s, packed.data(), x.data<float>(), xs, static_cast<int32_t>(zp), &ep,
                     got.data<float>(), p);
        expect_near(got, want, cat(what, " ", cpu::qgemm_kernel_name()));
        if (!first.defined()) first = got;
        EXPECT_TRUE(got.bytes_equal(first)) << what << " " << cpu::qgemm_kernel_name();
      }
    }
  }
}

// quantize_u8 on every ISA against QuantizeLinear's formula (division, round half to even,
// saturation, NaN to 0): random values, values at and one ulp around every half-integer
// quotient (where a multiply by 1 / scale could round the other way), extremes, and scales
// whose reciprocal is not a normal float.
TEST(QGemm, QuantizeMatchesQuantizeLinearOnEveryIsa) {
  std::mt19937 rng(5);
  for (const float scale : {0.0157f, 0.1f, 3.0f / 255.0f, 0.0390625f, 7.3e-3f, 1e-39f}) {
    std::vector<float> x;
    std::uniform_real_distribution<float> u(-300.0f * scale, 300.0f * scale);
    for (int i = 0; i < 4000; ++i) x.push_back(u(rng));
    for (int k = -300; k <= 300; ++k) {
      const float h = (static_cast<float>(k) + 0.5f) * scale;
      x.push_back(h);
      x.push_back(std::nextafter(h, 1e30f));
      x.push_back(std::nextafter(h, -1e30f));
    }
    for (const float v : {0.0f, -0.0f, 1e30f, -1e30f, std::numeric_limits<float>::infinity(),
                          -std::numeric_limits<float>::infinity(),
                          std::numeric_limits<float>::quiet_NaN(), 1e-40f})
      x.push_back(v);
    const float zp = 37.0f;
    std::vector<uint8_t> want(x.size());
    for (size_t i = 0; i < x.size(); ++i) {
      const float q = std::nearbyint(x[i] / scale) + zp;
      want[i] = !(q > 0.0f) ? 0 : q >= 255.0f ? 255 : static_cast<uint8_t>(q);
    }
    for (cpu::Isa isa : supported_isas()) {
      ForceIsa force(isa);
      // Every length up to 40 (vector tails), then the whole set.
      for (size_t n : {size_t{1}, size_t{15}, size_t{17}, size_t{40}, x.size()}) {
        std::vector<uint8_t> got(n, 0xAB);
        cpu::quantize_u8(x.data(), static_cast<int64_t>(n), scale, zp, got.data());
        for (size_t i = 0; i < n; ++i)
          ASSERT_EQ(int(got[i]), int(want[i]))
              << cpu::isa_name(isa) << " scale " << scale << " x " << x[i] << " n " << n;
      }
    }
  }
}

// Where the CPU and OS allow AMX, the default int8 kernel is the AMX one (so the model paths
// above and the benchmarks use it), and KILN_CPU_AMX=0's switch reaches VNNI.
TEST(QGemm, PicksAmxWhereUsable) {
  if (!cpu::amx_usable() || cpu::best_isa() != cpu::Isa::Avx512) {
    EXPECT_STRNE(cpu::qgemm_kernel_name(), "amx");
    return;
  }
  EXPECT_STREQ(cpu::qgemm_kernel_name(), "amx");
  cpu::set_amx_allowed(false);
  EXPECT_STREQ(cpu::qgemm_kernel_name(), "avx512-vnni");
  cpu::set_amx_allowed(true);
}

TEST(QConv2d, RejectsWeightsPackedForAnotherShape) {
  const KilnConv2dShape a{1, 4, 5, 5, 4, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 1};
  KilnConv2dShape b = a;
  b.C = 2;
  b.M = 4;
  std::vector<int8_t> w(4 * 4 * 9, 1);
  std::vector<float> ws(4, 1.0f), x(4 * 25, 0.0f), y(4 * 25);
  std::vector<uint8_t> packed(kiln_qconv2d_packed_weights_size(&a));
  kiln_qconv2d_pack_weights(&a, w.data(), ws.data(), packed.data());
  EXPECT_THROW(kiln_qconv2d(&b, packed.data(), x.data(), 1.0f, 0, nullptr, y.data(), nullptr),
               std::invalid_argument);
  EXPECT_THROW(kiln_qconv2d(&a, packed.data(), x.data(), 0.0f, 0, nullptr, y.data(), nullptr),
               std::invalid_argument);
}

}  // namespace
}  // namespace kiln::test
