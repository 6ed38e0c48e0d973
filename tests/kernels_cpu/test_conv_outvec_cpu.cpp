// The output-channel-vectorized direct convolution (conv_outvec.h) against the reference Conv:
// random shapes forced onto it (odd planes, asymmetric pads, strides 1-3 in height and 1-2 in
// width, dilations, groups, channel counts off the 8 / 16 panels, several images, one- and
// two-row tiles), bias / ReLU / residual `post` epilogues, AVX2 and AVX-512, and bit-identical
// results for 1, 2 and 3 threads; plus the path rule on the benchmark models' layer shapes.
#include <algorithm>
#include <set>
#include <tuple>

#include "runtime/kernels/cpu/conv.h"
#include "runtime/kernels/cpu/conv_outvec.h"
#include "runtime/threadpool/thread_pool.h"
#include "tests/kernels_cpu/cpu_kernel_test_util.h"

namespace kiln::test {
namespace {

using cpu::DenseConvPath;

struct Case {
  int64_t N, C, H, W, M, KH, KW;
  int64_t sh = 1, sw = 1, pt = 0, pl = 0, pb = 0, pr = 0, dh = 1, dw = 1, group = 1;
  bool bias = true, relu = false;
};

KilnConv2dShape shape_of(const Case& c) {
  return KilnConv2dShape{c.N,  c.C,  c.H,  c.W,  c.M,  c.KH, c.KW, c.sh,
                         c.sw, c.pt, c.pl, c.pb, c.pr, c.dh, c.dw, c.group};
}

std::string describe(const Case& c, cpu::Isa isa) {
  auto n = [](int64_t v) { return std::to_string(v); };
  return std::string(cpu::isa_name(isa)) + " N" + n(c.N) + " C" + n(c.C) + " " + n(c.H) + "x" +
         n(c.W) + " M" + n(c.M) + " k" + n(c.KH) + "x" + n(c.KW) + " s" + n(c.sh) + "," + n(c.sw) +
         " p" + n(c.pt) + n(c.pl) + n(c.pb) + n(c.pr) + " d" + n(c.dh) + "," + n(c.dw) + " g" +
         n(c.group);
}

// Forces the outvec path for the scope.
class ForceOutvec {
 public:
  ForceOutvec() {
    const DenseConvPath p = DenseConvPath::OutVec;
    cpu::force_dense_conv_path(&p);
  }
  ~ForceOutvec() { cpu::force_dense_conv_path(nullptr); }
  ForceOutvec(const ForceOutvec&) = delete;
  ForceOutvec& operator=(const ForceOutvec&) = delete;
};

std::vector<cpu::Isa> vector_isas() {
  std::vector<cpu::Isa> v;
  for (cpu::Isa isa : supported_isas()) {
    if (isa != cpu::Isa::Scalar) v.push_back(isa);
  }
  return v;
}

struct Data {
  Tensor x, w, b, res;
};

Data make_data(const Case& c, std::mt19937& rng, int64_t oh, int64_t ow) {
  return {random_tensor({c.N, c.C, c.H, c.W}, rng),
          random_tensor({c.M, c.C / c.group, c.KH, c.KW}, rng), random_tensor({c.M}, rng),
          random_tensor({c.N, c.M, oh, ow}, rng)};
}

// Reference conv (+ bias), then the residual when asked, then ReLU.
std::vector<float> reference(const Case& c, const Data& d, bool residual) {
  Attributes at;
  at.set("strides", Attribute::of_ints({c.sh, c.sw}));
  at.set("pads", Attribute::of_ints({c.pt, c.pl, c.pb, c.pr}));
  at.set("dilations", Attribute::of_ints({c.dh, c.dw}));
  at.set("group", Attribute::of_int(c.group));
  const Tensor y = run_op1(OpKind::Conv, {&d.x, &d.w, c.bias ? &d.b : nullptr}, at);
  std::vector<float> v(y.data<float>(), y.data<float>() + y.numel());
  for (size_t i = 0; i < v.size(); ++i) {
    if (c.relu) v[i] = std::max(v[i], 0.0f);
    if (residual) v[i] += d.res.data<float>()[i];
  }
  return v;
}

std::vector<float> run_outvec(const Case& c, const Data& d, ThreadPool* pool, bool residual,
                              std::vector<int>* visits) {
  const KilnConv2dShape s = shape_of(c);
  std::vector<float> packed(kiln_conv2d_packed_weights_size(&s) / sizeof(float) + 1);
  kiln_conv2d_pack_weights(&s, d.w.data<float>(), packed.data());
  const int64_t oh = kiln_conv2d_output_height(&s), ow = kiln_conv2d_output_width(&s);
  std::vector<float> y(static_cast<size_t>(c.N * c.M * oh * ow), -7.0f);
  ResidualPost r{y.data(), d.res.data<float>(), visits};
  KilnGemmEpilogue ep{c.bias ? d.b.data<float>() : nullptr, nullptr, c.relu ? 1 : 0, nullptr,
                      nullptr};
  if (residual) ep.post = &ResidualPost::add, ep.post_closure = &r;
  kiln_conv2d_ex(&s, packed.data(), d.x.data<float>(), &ep, y.data(), pool);
  return y;
}

// (isa, panels per tile, rows per tile) seen by check(): the tests below cover them all.
std::set<std::tuple<cpu::Isa, int, int>> g_tiles_seen;

void check(const Case& c, std::mt19937& rng, bool residual, ThreadPool* p2, ThreadPool* p3) {
  const KilnConv2dShape s = shape_of(c);
  const int64_t oh = kiln_conv2d_output_height(&s), ow = kiln_conv2d_output_width(&s);
  for (cpu::Isa isa : vector_isas()) {
    int co = 0, rows = 0, pixels = 0;
    cpu::outvec_tile_shape(s, isa, oh, ow, &co, &rows, &pixels);
    g_tiles_seen.insert({isa, co, rows});
  }
  const Data d = make_data(c, rng, oh, ow);
  const std::vector<float> want = reference(c, d, residual);
  const double tol = 2e-6 * static_cast<double>(c.C / c.group * c.KH * c.KW + 8);
  ForceOutvec force_path;
  for (cpu::Isa isa : vector_isas()) {
    ForceIsa force(isa);
    ASSERT_EQ(cpu::pick_dense_conv_path(s, isa), DenseConvPath::OutVec) << describe(c, isa);
    std::vector<int> visits(want.size(), 0);
    const std::vector<float> one = run_outvec(c, d, nullptr, residual, &visits);
    expect_all_close(one.data(), want.data(), static_cast<int64_t>(want.size()), tol,
                     describe(c, isa));
    if (residual) {
      EXPECT_TRUE(std::all_of(visits.begin(), visits.end(), [](int v) { return v == 1; }))
          << describe(c, isa) << ": post must see each element once";
    }
    for (ThreadPool* p : {p2, p3}) {
      std::vector<int> more(want.size(), 0);
      EXPECT_EQ(one, run_outvec(c, d, p, residual, &more)) << describe(c, isa);
    }
  }
}

TEST(CpuConvOutvec, RandomShapesMatchReferenceOnEveryThreadCount) {
  std::mt19937 rng(41);
  ThreadPool p2(2), p3(3);
  auto pick = [&](int64_t lo, int64_t hi) {
    return std::uniform_int_distribution<int64_t>(lo, hi)(rng);
  };
  const int64_t kernels[][2] = {{3, 3}, {3, 3}, {3, 3}, {1, 1}, {5, 5}, {7, 7}, {2, 2}, {3, 1}};
  for (int i = 0; i < 36; ++i) {
    Case c{};
    const int64_t* k = kernels[pick(0, 7)];
    c.KH = k[0];
    c.KW = k[1];
    c.group = i % 6 == 5 ? pick(2, 3) : 1;
    c.C = c.group * pick(1, i % 3 ? 7 : 37);
    c.M = c.group * pick(1, i % 4 ? 20 : 70);
    c.N = pick(1, 3);
    c.sh = i % 3 == 2 ? pick(2, 3) : 1;
    c.sw = i % 3 == 2 ? 2 : pick(1, 2);
    c.dh = i % 7 == 6 ? 2 : 1;
    c.dw = i % 7 == 6 ? pick(1, 2) : 1;
    c.pt = pick(0, c.KH - 1);
    c.pb = pick(0, c.KH - 1);
    c.pl = pick(0, c.KW - 1);
    c.pr = pick(0, c.KW - 1);
    c.H = pick(c.dh * (c.KH - 1) + 1, 19);
    c.W = pick(c.dw * (c.KW - 1) + 1, i % 2 ? 12 : 66);
    c.bias = i % 4 != 2;
    c.relu = i % 3 == 0;
    check(c, rng, i % 5 == 1, &p2, &p3);
  }
}

// Shapes that reach each blocking and splitting case: two-row tiles on 7-wide planes with deep
// inputs (the weights stream from L2), panel groups split over threads with a shared padded
// source, panel groups and row chunks both split (each thread's padded rows kept across its
// panel chunks, rebuilt for the next row chunk), wide rows cut into several runs, 1-, 2- and
// 3-panel tiles, many images.
TEST(CpuConvOutvec, DeepAndWideShapesWithResidual) {
  std::mt19937 rng(42);
  ThreadPool p2(2), p3(3);
  const Case cases[] = {
      {1, 96, 7, 7, 70, 3, 3, 1, 1, 1, 1, 1, 1},                          // 2-row tiles
      {1, 40, 6, 5, 24, 3, 3, 1, 1, 1, 1, 1, 1},  // 2-row tiles on AVX2 too (2 x 5 <= 12)
      {1, 40, 14, 14, 72, 3, 3, 2, 2, 1, 1, 1, 1, 1, 1, 1, true, true},  // strided to 7x7
      {1, 24, 5, 6, 150, 3, 3, 1, 1, 1, 0, 1, 2},                         // panel chunks
      {1, 61, 33, 32, 121, 3, 3, 2, 2, 1, 1, 1, 0},                       // rows and panels
      {1, 3, 45, 61, 40, 7, 7, 2, 2, 3, 3, 2, 3, 1, 1, 1, true, true},   // stem, wide rows
      {5, 9, 12, 26, 64, 3, 3, 1, 1, 0, 0, 0, 0, 1, 1, 1, false, true},  // many images
      {2, 12, 30, 9, 48, 3, 3, 1, 1, 1, 1, 1, 1, 2, 1, 1},                // 3-panel tiles
      {1, 33, 14, 14, 17, 1, 1, 1, 1},                                     // pointwise
  };
  for (const Case& c : cases) check(c, rng, true, &p2, &p3);
  for (cpu::Isa isa : vector_isas()) {
    for (int co = 1; co <= cpu::kOutvecMaxPanels; ++co) {
      EXPECT_TRUE(g_tiles_seen.count({isa, co, 1})) << cpu::isa_name(isa) << " co " << co;
    }
    EXPECT_TRUE(g_tiles_seen.count({isa, 2, 2}) || g_tiles_seen.count({isa, 1, 2}))
        << cpu::isa_name(isa) << ": no two-row tile";
  }
}

// Split-K (1x1 over small planes, many input channels): the two halves of the input channels
// on their own threads, or summed apart within each tile on one, give the same bits, match the
// reference with the bias, ReLU, `post` and in-kernel residual epilogues, and odd channel
// counts and several images split right.
TEST(CpuConvOutvec, SplitKMatchesReferenceAndThreadCounts) {
  std::mt19937 rng(43);
  ThreadPool p2(2), p3(3);
  const Case cases[] = {
      {1, 384, 14, 14, 64, 1, 1},                                        // MobileNetV2's
      {1, 576, 14, 14, 96, 1, 1, 1, 1, 0, 0, 0, 0, 1, 1, 1, true, true},
      {2, 131, 9, 11, 40, 1, 1, 1, 1, 0, 0, 0, 0, 1, 1, 1, false, true},  // odd C, 2 images
      {1, 160, 7, 7, 49, 1, 1},                                          // M == pixels
  };
  for (const Case& c : cases) {
    const KilnConv2dShape s = shape_of(c);
    ASSERT_TRUE(cpu::outvec_splits_k(s, cpu::Isa::Avx512)) << describe(c, cpu::Isa::Avx512);
    check(c, rng, true, &p2, &p3);
  }
  // The in-kernel residual (kiln_conv2d_residual's operand), summed after the halves.
  if (!cpu::isa_supported(cpu::Isa::Avx512)) return;
  for (const Case& c : cases) {
    const KilnConv2dShape s = shape_of(c);
    const int64_t P = c.H * c.W;
    const Data d = make_data(c, rng, c.H, c.W);
    // conv + bias + residual, then the ReLU (reference() applies it before the residual).
    Case plain = c;
    plain.relu = false;
    std::vector<float> want = reference(plain, d, true);
    if (c.relu)
      for (float& v : want) v = v < 0 ? 0.0f : v;
    std::vector<float> packed(cpu::outvec_packed_floats(s, cpu::Isa::Avx512));
    cpu::pack_outvec_weights(s, cpu::Isa::Avx512, d.w.data<float>(), packed.data());
    KilnGemmEpilogue ep{c.bias ? d.b.data<float>() : nullptr, nullptr, c.relu ? 1 : 0, nullptr,
                        nullptr};
    std::vector<std::vector<float>> got;
    for (ThreadPool* pool : {static_cast<ThreadPool*>(nullptr), &p2, &p3}) {
      std::vector<float> y(static_cast<size_t>(c.N * c.M * P), -7.0f);
      cpu::outvec_conv(s, cpu::Isa::Avx512, c.H, c.W, packed.data(), d.x.data<float>(), ep,
                       d.res.data<float>(), y.data(), pool);
      got.push_back(std::move(y));
    }
    expect_all_close(got[0].data(), want.data(), static_cast<int64_t>(want.size()),
                     2e-6 * static_cast<double>(c.C + 8), describe(c, cpu::Isa::Avx512));
    EXPECT_EQ(got[0], got[1]) << describe(c, cpu::Isa::Avx512) << ": 1 vs 2 threads";
    EXPECT_EQ(got[0], got[2]) << describe(c, cpu::Isa::Avx512) << ": 1 vs 3 threads";
  }
}

// The rule on the benchmark models' dense layers. AVX-512: 3x3 stride-1 convs over planes at
// least 16 wide with at most 1.5 MiB of transformed weights go to Winograd (14 wide with up to
// 4.5 MiB when one image's transformed input stays within 1.5 MiB), every other KxK
// conv, strided 1x1 convs
// and 1x1 convs over small planes take the outvec kernel; 1x1 stride-1 convs over planes
// bigger than 16x16 keep the SGEMM unless they have at most 16 output channels and more than
// 256 input channels (else the SGEMM path reads X in place, conv_pointwise.h), and so do 1x1
// convs with more than 1.5 MiB of weights unless they are stride 1 with output planes of at
// most 8x8. AVX2: the outvec kernel up to 768 KiB of weights,
// and for 1x1 stride-1 convs only with at most 16 output channels. Scalar CPUs and width
// strides above 2 keep the older paths.
TEST(CpuConvOutvec, PathRule) {
  auto shape = [](int64_t C, int64_t HW, int64_t M, int64_t k, int64_t stride, int64_t pad) {
    return KilnConv2dShape{1, C, HW, HW, M, k, k, stride, stride, pad, pad, pad, pad, 1, 1, 1};
  };
  const DenseConvPath O = DenseConvPath::OutVec, G = DenseConvPath::Gemm;
  const DenseConvPath W = DenseConvPath::Winograd;  // conv_winograd.h
  struct Want {
    KilnConv2dShape s;
    DenseConvPath avx512, avx2;
  };
  const Want wants[] = {
      {shape(3, 224, 64, 7, 2, 3), O, O},     {shape(64, 56, 64, 3, 1, 1), W, O},
      {shape(64, 56, 128, 3, 2, 1), O, O},    {shape(128, 28, 128, 3, 1, 1), W, O},
      {shape(256, 14, 256, 3, 1, 1), W, G},   {shape(512, 7, 512, 3, 1, 1), O, G},
      {shape(256, 28, 256, 3, 1, 1), O, G},   {shape(192, 12, 192, 3, 1, 1), O, G},
      {shape(256, 14, 512, 1, 2, 0), O, O},   {shape(512, 28, 1024, 1, 2, 0), G, G},
      {shape(32, 26, 64, 3, 1, 0), W, O},     {shape(1024, 14, 256, 1, 1, 0), O, G},
      {shape(2048, 7, 512, 1, 1, 0), O, G},   {shape(64, 56, 256, 1, 1, 0), G, G},
      {shape(1024, 14, 2048, 1, 2, 0), G, G}, {shape(32, 112, 16, 1, 1, 0), G, O},
      {shape(384, 112, 16, 1, 1, 0), O, O},
  };
  for (const Want& w : wants) {
    const std::string what = std::to_string(w.s.C) + "->" + std::to_string(w.s.M) + " k" +
                             std::to_string(w.s.KH) + "/" + std::to_string(w.s.stride_h) + " @" +
                             std::to_string(w.s.H);
    EXPECT_EQ(cpu::pick_dense_conv_path(w.s, cpu::Isa::Avx512), w.avx512) << what;
    EXPECT_EQ(cpu::pick_dense_conv_path(w.s, cpu::Isa::Avx2), w.avx2) << what;
    EXPECT_EQ(cpu::pick_dense_conv_path(w.s, cpu::Isa::Scalar), G) << what;
  }
  for (cpu::Isa isa : {cpu::Isa::Avx2, cpu::Isa::Avx512}) {
    EXPECT_NE(cpu::pick_dense_conv_path(shape(8, 30, 16, 3, 3, 1), isa), O);
  }
}

}  // namespace
}  // namespace kiln::test
