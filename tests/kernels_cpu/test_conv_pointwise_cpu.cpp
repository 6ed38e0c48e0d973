// The pointwise-rows 1x1 convolution (conv_pointwise.h) against the reference Conv: random
// 1x1 stride-1 shapes on the GEMM path (output channels off the 14-row panels, pixel counts
// off the 32-pixel strips, K up to the L1 limit and deeper in K blocks, several images and
// groups), bias / ReLU / residual `post` epilogues, every ISA (the path is taken on AVX-512
// only), bit-identical results for 1, 2 and 3 threads, and the SGEMM's result when the path
// is switched off.
#include <algorithm>

#include "runtime/kernels/cpu/conv.h"
#include "runtime/kernels/cpu/conv_outvec.h"
#include "runtime/kernels/cpu/conv_pointwise.h"
#include "runtime/kernels/cpu/sgemm_kernel.h"
#include "runtime/threadpool/thread_pool.h"
#include "tests/kernels_cpu/cpu_kernel_test_util.h"

namespace kiln::test {
namespace {

struct Case {
  int64_t N, C, H, W, M, group = 1;
  bool bias = true, relu = false, residual = false;
};

std::string describe(const Case& c, cpu::Isa isa) {
  auto n = [](int64_t v) { return std::to_string(v); };
  return std::string(cpu::isa_name(isa)) + " N" + n(c.N) + " C" + n(c.C) + " " + n(c.H) + "x" +
         n(c.W) + " M" + n(c.M) + " g" + n(c.group);
}

// Forces the GEMM path (the one the pointwise-rows kernel serves) for the scope, and turns
// the kernel back on whatever a failed test left.
class ForceGemm {
 public:
  ForceGemm() {
    const cpu::DenseConvPath p = cpu::DenseConvPath::Gemm;
    cpu::force_dense_conv_path(&p);
  }
  ~ForceGemm() {
    cpu::force_dense_conv_path(nullptr);
    cpu::set_pointwise_rows_enabled(true);
  }
  ForceGemm(const ForceGemm&) = delete;
  ForceGemm& operator=(const ForceGemm&) = delete;
};

struct Data {
  Tensor x, w, b, res;
};

std::vector<float> run(const Case& c, const Data& d, ThreadPool* pool, std::vector<int>* visits) {
  const KilnConv2dShape s{c.N, c.C, c.H, c.W, c.M, 1, 1, 1, 1, 0, 0, 0, 0, 1, 1, c.group};
  std::vector<float> packed(kiln_conv2d_packed_weights_size(&s) / sizeof(float) + 1);
  kiln_conv2d_pack_weights(&s, d.w.data<float>(), packed.data());
  std::vector<float> y(static_cast<size_t>(c.N * c.M * c.H * c.W), -7.0f);
  ResidualPost r{y.data(), d.res.data<float>(), visits};
  KilnGemmEpilogue ep{c.bias ? d.b.data<float>() : nullptr, nullptr, c.relu ? 1 : 0, nullptr,
                      nullptr};
  if (c.residual) ep.post = &ResidualPost::add, ep.post_closure = &r;
  kiln_conv2d_ex(&s, packed.data(), d.x.data<float>(), &ep, y.data(), pool);
  return y;
}

void check(const Case& c, std::mt19937& rng, ThreadPool* p2, ThreadPool* p3) {
  const Data d{random_tensor({c.N, c.C, c.H, c.W}, rng),
               random_tensor({c.M, c.C / c.group, 1, 1}, rng), random_tensor({c.M}, rng),
               random_tensor({c.N, c.M, c.H, c.W}, rng)};
  Attributes at;
  at.set("group", Attribute::of_int(c.group));
  const Tensor ref = run_op1(OpKind::Conv, {&d.x, &d.w, c.bias ? &d.b : nullptr}, at);
  std::vector<float> want(ref.data<float>(), ref.data<float>() + ref.numel());
  for (size_t i = 0; i < want.size(); ++i) {
    if (c.relu) want[i] = std::max(want[i], 0.0f);
    if (c.residual) want[i] += d.res.data<float>()[i];
  }
  const double tol = 2e-6 * static_cast<double>(c.C / c.group + 8);
  const int64_t kg = c.C / c.group, mg = c.M / c.group, p = c.H * c.W;
  ForceGemm force_path;
  for (cpu::Isa isa : supported_isas()) {
    ForceIsa force(isa);
    const bool taken = cpu::pointwise_rows_preferred(cpu::sgemm_kernel(isa), mg, kg, p);
    const bool deep = kg <= cpu::sgemm_kernel(isa).kc && mg <= cpu::kPointwiseRowsDeepMaxM;
    EXPECT_EQ(taken, isa == cpu::Isa::Avx512 && (kg <= cpu::kPointwiseRowsMaxK || deep))
        << describe(c, isa);
    std::vector<int> visits(want.size(), 0);
    const std::vector<float> one = run(c, d, nullptr, &visits);
    expect_all_close(one.data(), want.data(), static_cast<int64_t>(want.size()), tol,
                     describe(c, isa));
    if (c.residual) {
      EXPECT_TRUE(std::all_of(visits.begin(), visits.end(), [](int v) { return v == 1; }))
          << describe(c, isa) << ": post must see each element once";
    }
    for (ThreadPool* pool : {p2, p3}) {
      std::vector<int> more(want.size(), 0);
      EXPECT_EQ(one, run(c, d, pool, &more)) << describe(c, isa) << " threads";
    }
    if (!taken) continue;
    // The SGEMM sums each element in the same K order (its last-row kernel for M = 14k + 1
    // splits the chain, so only closeness there).
    cpu::set_pointwise_rows_enabled(false);
    std::vector<int> more(want.size(), 0);
    const std::vector<float> sgemm = run(c, d, nullptr, &more);
    cpu::set_pointwise_rows_enabled(true);
    if (mg % cpu::kPointwiseRows != 1) {
      EXPECT_EQ(one, sgemm) << describe(c, isa) << " vs SGEMM";
    } else {
      expect_all_close(one.data(), sgemm.data(), static_cast<int64_t>(one.size()), tol,
                       describe(c, isa) + " vs SGEMM");
    }
  }
}

TEST(CpuConvPointwise, RandomShapesMatchReferenceOnEveryThreadCount) {
  std::mt19937 rng(43);
  ThreadPool p2(2), p3(3);
  auto pick = [&](int64_t lo, int64_t hi) {
    return std::uniform_int_distribution<int64_t>(lo, hi)(rng);
  };
  for (int i = 0; i < 24; ++i) {
    Case c{};
    c.group = i % 6 == 5 ? pick(2, 3) : 1;
    c.C = c.group * (i % 8 == 6 ? pick(200, 300) : pick(1, i % 3 ? 40 : 130));
    c.M = c.group * (i % 4 == 3 ? pick(1, 3) : pick(4, i % 2 ? 30 : 75));
    c.N = pick(1, 3);
    c.H = pick(1, 19);
    c.W = pick(1, i % 2 ? 12 : 70);
    c.bias = i % 4 != 2;
    c.relu = i % 3 == 0;
    c.residual = i % 5 == 1;
    check(c, rng, &p2, &p3);
  }
}

// Big enough for the thread split (and the next-strip prefetches), M = 14k + 1 (the SGEMM's
// one-row kernel), partial last strips, K at the L1 limit, and deeper K in K blocks (partial
// sums in Y: still the SGEMM's bits) or, for too many channels or K past the packed K block,
// on the SGEMM.
TEST(CpuConvPointwise, ThreadedShapesWithResidual) {
  std::mt19937 rng(44);
  ThreadPool p2(2), p3(3);
  const Case cases[] = {
      {1, 64, 28, 28, 71, 1, true, true, true},
      {2, 256, 9, 23, 29, 1, true, false, true},
      {1, 40, 56, 17, 96, 1, false, true, false},
      {1, 520, 13, 29, 50, 1, true, true, true},
      {2, 300, 11, 9, 43, 1, false, true, false},
      {1, 1024, 9, 7, 128, 1, true, false, true},
      {1, 300, 5, 7, 129, 1, true, true, false},
      {1, 1100, 3, 11, 20, 1, true, false, false},
  };
  for (const Case& c : cases) check(c, rng, &p2, &p3);
}

}  // namespace
}  // namespace kiln::test
