// KilnQConv's u8 modes on the CPU (kiln_qconv2d_io, runtime/kernels/cpu/qgemm.h) and the int8
// depthwise kernels (qconv_dw.h: the general one, and the 3x3 VNNI one on MobileNet's plane
// sizes, odd widths and chunk edges) against the reference kernel: u8 or f32 input and output, no /
// f32 / u8 residual, no activation / Relu / Clip, dense and depthwise geometries with strides,
// asymmetric pads and dilations, on every int8 kernel and at 1 and 2 threads. The integer sums
// are exact everywhere and the epilogue runs the reference's operations in its order, so u8
// outputs must match exactly and all paths must agree bit for bit.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <limits>

#include "runtime/kernels/cpu/qconv_dw.h"
#include "runtime/threadpool/thread_pool.h"
#include "tests/kernels_cpu/qkernel_test_util.h"

namespace kiln::test {
namespace {

struct Geometry {
  int64_t N, C, H, W, M, KH, KW, stride_h, stride_w, pad_t, pad_l, pad_b, pad_r, dil, group;
};

struct Mode {
  bool x_u8, y_u8;
  int residual;  // 0 none, 1 f32, 2 u8
  const char* activation;
};

Tensor random_u8(Dims dims, std::mt19937& rng) {
  Tensor t(DType::U8, std::move(dims));
  for (int64_t i = 0; i < t.numel(); ++i) t.data<uint8_t>()[i] = static_cast<uint8_t>(rng() % 256);
  return t;
}

void run_case(const Geometry& c, const Mode& m, std::mt19937& rng, ThreadPool& pool) {
  const std::string what =
      cat("C", c.C, " M", c.M, " k", c.KH, "x", c.KW, " s", c.stride_h, c.stride_w, " p", c.pad_t,
          c.pad_l, c.pad_b, c.pad_r, " d", c.dil, " g", c.group, m.x_u8 ? " xu8" : " xf32",
          m.y_u8 ? " yu8" : " yf32", " z", m.residual, " ", m.activation);
  const KilnConv2dShape s{c.N,     c.C,     c.H,     c.W,     c.M,   c.KH,  c.KW,   c.stride_h,
                          c.stride_w, c.pad_t, c.pad_l, c.pad_b, c.pad_r, c.dil, c.dil, c.group};
  const int64_t OH = kiln_conv2d_output_height(&s), OW = kiln_conv2d_output_width(&s);
  const Tensor x = m.x_u8 ? random_u8({c.N, c.C, c.H, c.W}, rng)
                          : random_tensor({c.N, c.C, c.H, c.W}, rng, -1.0f, 3.0f);
  const Tensor w = random_s8({c.M, c.C / c.group, c.KH, c.KW}, rng);
  const Tensor ws = random_tensor({c.M}, rng, 0.001f, 0.01f);
  const Tensor bias = random_tensor({c.M}, rng);
  const Dims yd{c.N, c.M, OH, OW};
  const Tensor z = m.residual == 2 ? random_u8(yd, rng) : random_tensor(yd, rng, -2.0f, 2.0f);
  const float xs = 4.0f / 255.0f, ys = 0.05f, zs = 0.02f;
  const int64_t xzp = 64, yzp = 100, zzp = 120;
  Attributes attrs;
  attrs.set("strides", Attribute::of_ints({c.stride_h, c.stride_w}));
  attrs.set("pads", Attribute::of_ints({c.pad_t, c.pad_l, c.pad_b, c.pad_r}));
  attrs.set("dilations", Attribute::of_ints({c.dil, c.dil}));
  attrs.set("group", Attribute::of_int(c.group));
  attrs.set("x_scale", Attribute::of_float(xs));
  attrs.set("x_zero_point", Attribute::of_int(xzp));
  float lo = -std::numeric_limits<float>::infinity(), hi = -lo;
  if (std::string(m.activation) == "Relu") {
    attrs.set("activation", Attribute::of_string("Relu"));
    lo = 0.0f;
  } else if (std::string(m.activation) == "Clip") {
    attrs.set("activation", Attribute::of_string("Clip"));
    attrs.set("activation_alpha", Attribute::of_float(0.0f));
    attrs.set("activation_beta", Attribute::of_float(6.0f));
    lo = 0.0f;
    hi = 6.0f;
  }
  if (m.y_u8) {
    attrs.set("y_scale", Attribute::of_float(ys));
    attrs.set("y_zero_point", Attribute::of_int(yzp));
  }
  if (m.residual == 2) {
    attrs.set("z_scale", Attribute::of_float(zs));
    attrs.set("z_zero_point", Attribute::of_int(zzp));
  }
  const Tensor want = reference(OpKind::KilnQConv, attrs,
                                {&x, &w, &ws, &bias, m.residual ? &z : nullptr});
  ASSERT_EQ(want.dtype(), m.y_u8 ? DType::U8 : DType::F32) << what;
  std::vector<uint8_t> packed(kiln_qconv2d_packed_weights_size(&s));
  kiln_qconv2d_pack_weights(&s, w.data<int8_t>(), ws.data<float>(), packed.data());
  KilnGemmEpilogue ep{};
  ep.row_bias = bias.data<float>();
  Tensor first;
  for (QKernel k : qkernels()) {
    ForceQKernel force(k);
    for (ThreadPool* p : {static_cast<ThreadPool*>(nullptr), &pool}) {
      Tensor got(want.dtype(), yd);
      const KilnQConvIO io{x.raw(),  m.x_u8,    xs,   static_cast<int32_t>(xzp),
                           got.raw(), m.y_u8,   ys,   static_cast<int32_t>(yzp),
                           m.residual ? z.raw() : nullptr, m.residual == 2, zs,
                           static_cast<int32_t>(zzp), lo, hi};
      kiln_qconv2d_io(&s, packed.data(), &io, &ep, p);
      const std::string at = cat(what, " ", cpu::qgemm_kernel_name(), p ? " 2t" : " 1t");
      if (m.y_u8) {
        int bad = 0;
        for (int64_t i = 0; i < got.numel() && bad < 5; ++i)
          if (got.data<uint8_t>()[i] != want.data<uint8_t>()[i]) {
            ADD_FAILURE() << at << " [" << i << "]: " << int(got.data<uint8_t>()[i]) << " vs "
                          << int(want.data<uint8_t>()[i]);
            ++bad;
          }
      } else {
        expect_near(got, want, at);
      }
      if (!first.defined()) first = got;
      EXPECT_TRUE(got.bytes_equal(first)) << at;
    }
  }
}

const std::vector<Geometry>& geometries() {
  static const std::vector<Geometry> g{
      // depthwise: MobileNet's 3x3 at strides 1 and 2, odd sizes, asymmetric pads, dilation, 5x5
      {1, 8, 9, 11, 8, 3, 3, 1, 1, 1, 1, 1, 1, 1, 8},
      {2, 5, 12, 13, 5, 3, 3, 2, 2, 1, 1, 1, 1, 1, 5},
      {1, 3, 10, 37, 3, 3, 3, 2, 2, 0, 1, 1, 0, 1, 3},
      {1, 4, 9, 40, 4, 3, 3, 1, 1, 2, 2, 2, 2, 2, 4},
      {1, 6, 11, 11, 6, 5, 5, 2, 1, 2, 2, 2, 2, 1, 6},
      // the 3x3 path (qconv_dw3_applies): MobileNet's 7x7 / 14x14 / 28x28 / 112x112 planes,
      // odd and wide (several 64-byte chunks) rows, channels not a multiple of 16, batch 2
      {2, 5, 7, 7, 5, 3, 3, 1, 1, 1, 1, 1, 1, 1, 5},
      {1, 17, 14, 14, 17, 3, 3, 1, 1, 1, 1, 1, 1, 1, 17},
      {1, 3, 14, 14, 3, 3, 3, 2, 2, 1, 1, 1, 1, 1, 3},
      {2, 3, 28, 28, 3, 3, 3, 2, 2, 1, 1, 1, 1, 1, 3},
      {1, 2, 112, 112, 2, 3, 3, 1, 1, 1, 1, 1, 1, 1, 2},
      {1, 2, 112, 112, 2, 3, 3, 2, 2, 1, 1, 1, 1, 1, 2},
      {1, 3, 15, 67, 3, 3, 3, 1, 1, 1, 1, 1, 1, 1, 3},
      {1, 3, 13, 131, 3, 3, 3, 2, 2, 1, 1, 1, 1, 1, 3},
      {2, 3, 9, 9, 3, 3, 3, 2, 2, 1, 1, 1, 1, 1, 3},
      // row widths at the kernel's 64-byte chunk edges (fill paths switch there)
      {1, 2, 5, 64, 2, 3, 3, 1, 1, 1, 1, 1, 1, 1, 2},
      {1, 2, 4, 63, 2, 3, 3, 1, 1, 1, 1, 1, 1, 1, 2},
      {1, 2, 6, 64, 2, 3, 3, 2, 2, 1, 1, 1, 1, 1, 2},
      {1, 2, 5, 63, 2, 3, 3, 2, 2, 1, 1, 1, 1, 1, 2},
      // planes of one row or column
      {2, 3, 1, 2, 3, 3, 3, 1, 1, 1, 1, 1, 1, 1, 3},
      {1, 3, 2, 1, 3, 3, 3, 2, 2, 1, 1, 1, 1, 1, 3},
      // dense: narrow 1x1 (MobileNet's projections), 3x3, strided
      {2, 24, 7, 9, 16, 1, 1, 1, 1, 0, 0, 0, 0, 1, 1},
      {1, 16, 9, 9, 40, 3, 3, 2, 2, 1, 1, 1, 1, 1, 1},
      {1, 8, 6, 7, 12, 3, 3, 1, 1, 1, 0, 1, 2, 1, 1},
      // AMX direct conv: several q-block runs per task (its software pipeline) and a partial
      // 16-channel block, for whole-plane 1x1 runs and padded 3x3 rows
      {1, 20, 17, 19, 40, 1, 1, 1, 1, 0, 0, 0, 0, 1, 1},
      {2, 6, 10, 13, 20, 1, 1, 1, 1, 0, 0, 0, 0, 1, 1},  // channels past C read the zero point
      {1, 12, 20, 21, 24, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1},
      // im2col path (gathered panels, tiles finished in registers): an RGB stem with a partial
      // channel block and panels across output rows, and a grouped conv
      {2, 3, 13, 15, 20, 3, 3, 2, 2, 1, 1, 1, 1, 1, 1},
      {1, 8, 9, 9, 8, 3, 3, 1, 1, 1, 1, 1, 1, 1, 2},
  };
  return g;
}

TEST(QConv2dU8, EveryModeMatchesReference) {
  std::mt19937 rng(21);
  ThreadPool pool(2);
  const std::vector<Mode> modes{{true, true, 0, "Clip"},   {true, true, 2, ""},
                                {false, true, 1, "Relu"},  {true, false, 2, "Relu"},
                                {true, false, 0, ""},      {false, false, 1, "Clip"}};
  for (const Geometry& g : geometries())
    for (const Mode& m : modes) run_case(g, m, rng, pool);
}

// The depthwise kernel's f32 sums are exact: the extreme products (u8 255 - 0 against -127 /
// 127) over 25 taps give the int32 value, on every ISA.
TEST(QConv2dU8, DepthwiseSumsAreExact) {
  const KilnConv2dShape s{1, 2, 5, 21, 2, 5, 5, 1, 1, 0, 0, 0, 0, 1, 1, 2};
  std::vector<int8_t> w(2 * 25);
  for (size_t i = 0; i < w.size(); ++i) w[i] = i < 25 ? -127 : 127;
  std::vector<float> ws(2, 1.0f);
  std::vector<uint8_t> x(2 * 5 * 21, 255), packed(kiln_qconv2d_packed_weights_size(&s));
  kiln_qconv2d_pack_weights(&s, w.data(), ws.data(), packed.data());
  ASSERT_TRUE(cpu::qconv_dw_applies(s));
  for (QKernel k : qkernels()) {
    ForceQKernel force(k);
    std::vector<float> y(2 * 17);
    const KilnQConvIO io{x.data(), 1, 1.0f, 0, y.data(), 0, 1.0f, 0, nullptr, 0, 1.0f, 0,
                         -std::numeric_limits<float>::infinity(),
                         std::numeric_limits<float>::infinity()};
    kiln_qconv2d_io(&s, packed.data(), &io, nullptr, nullptr);
    for (int i = 0; i < 17; ++i) {
      ASSERT_EQ(y[i], -255.0f * 127 * 25) << cpu::qgemm_kernel_name();
      ASSERT_EQ(y[17 + i], 255.0f * 127 * 25) << cpu::qgemm_kernel_name();
    }
  }
}

// The same on the 3x3 path (vpdpbusd does not saturate): 255 against -127 / 127 over 9 taps, the
// zero point (0 here) as the padding, which leaves the border pixels with fewer taps.
TEST(QConv2dU8, Depthwise3x3SumsAreExact) {
  for (int64_t stride : {1, 2}) {
    const KilnConv2dShape s{1, 2, 6, 9, 2, 3, 3, stride, stride, 1, 1, 1, 1, 1, 1, 2};
    const int64_t OH = kiln_conv2d_output_height(&s), OW = kiln_conv2d_output_width(&s);
    std::vector<int8_t> w(2 * 9);
    for (size_t i = 0; i < w.size(); ++i) w[i] = i < 9 ? -127 : 127;
    std::vector<float> ws(2, 1.0f);
    std::vector<uint8_t> x(2 * 6 * 9, 255), packed(kiln_qconv2d_packed_weights_size(&s));
    kiln_qconv2d_pack_weights(&s, w.data(), ws.data(), packed.data());
    for (QKernel k : qkernels()) {
      ForceQKernel force(k);
      // The 3x3 path runs exactly where the CPU has VNNI at the AVX-512 level.
      EXPECT_EQ(cpu::qconv_dw3_applies(s),
                k.isa == cpu::Isa::Avx512 && cpu::cpu_has_avx512_vnni());
      std::vector<float> y(static_cast<size_t>(2 * OH * OW));
      const KilnQConvIO io{x.data(), 1, 1.0f, 0, y.data(), 0, 1.0f, 0, nullptr, 0, 1.0f, 0,
                           -std::numeric_limits<float>::infinity(),
                           std::numeric_limits<float>::infinity()};
      kiln_qconv2d_io(&s, packed.data(), &io, nullptr, nullptr);
      for (int64_t oy = 0; oy < OH; ++oy)
        for (int64_t ox = 0; ox < OW; ++ox) {
          const auto inside = [](int64_t c, int64_t n) {  // taps of a 3x3 window inside [0, n)
            return std::min<int64_t>(c + 1, n - 1) - std::max<int64_t>(c - 1, 0) + 1;
          };
          const float taps =
              static_cast<float>(inside(oy * stride, 6) * inside(ox * stride, 9));
          ASSERT_EQ(y[oy * OW + ox], -255.0f * 127 * taps) << cpu::qgemm_kernel_name();
          ASSERT_EQ(y[OH * OW + oy * OW + ox], 255.0f * 127 * taps) << cpu::qgemm_kernel_name();
        }
    }
  }
}

TEST(QConv2dU8, RejectsBadParameters) {
  const KilnConv2dShape s{1, 4, 5, 5, 4, 1, 1, 1, 1, 0, 0, 0, 0, 1, 1, 1};
  std::vector<int8_t> w(16, 1);
  std::vector<float> ws(4, 1.0f), y(100);
  std::vector<uint8_t> x(100, 0), packed(kiln_qconv2d_packed_weights_size(&s));
  kiln_qconv2d_pack_weights(&s, w.data(), ws.data(), packed.data());
  KilnQConvIO io{x.data(), 1, 1.0f, 0, y.data(), 1, 0.0f, 0, nullptr, 0, 1.0f, 0, 0.0f, 1.0f};
  EXPECT_THROW(kiln_qconv2d_io(&s, packed.data(), &io, nullptr, nullptr), std::invalid_argument);
  io.y_scale = 1.0f;
  io.y_zero_point = 256;
  EXPECT_THROW(kiln_qconv2d_io(&s, packed.data(), &io, nullptr, nullptr), std::invalid_argument);
  io.y_zero_point = 0;
  KilnGemmEpilogue ep{};
  ep.relu = 1;  // the clamp replaces relu in this entry point
  EXPECT_THROW(kiln_qconv2d_io(&s, packed.data(), &io, &ep, nullptr), std::invalid_argument);
}

}  // namespace
}  // namespace kiln::test
