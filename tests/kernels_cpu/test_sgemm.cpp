// kiln_sgemm and its pre-packed variants against the reference Gemm kernel: random shapes with
// odd tails, every transpose combination, alpha/beta, leading dimensions wider than the rows,
// every ISA this CPU runs, and thread counts 1/2/3 giving bit-identical results.
#include <cmath>
#include <cstring>
#include <limits>

#include "runtime/kernels/cpu/sgemm.h"
#include "runtime/threadpool/thread_pool.h"
#include "tests/kernels_cpu/cpu_kernel_test_util.h"

namespace kiln::test {
namespace {

struct GemmCase {
  bool ta, tb;
  int64_t M, N, K;
  float alpha, beta;
  int64_t pad_a = 0, pad_b = 0, pad_c = 0;  // extra elements per row (leading dim > row)
  bool row_bias = false, column_bias = false, relu = false;
};

struct GemmData {
  int64_t lda, ldb, ldc;
  std::vector<float> a, b, c0, row_bias, col_bias;
};

GemmData make_data(const GemmCase& g, std::mt19937& rng) {
  GemmData d;
  const int64_t a_rows = g.ta ? g.K : g.M, a_cols = g.ta ? g.M : g.K;
  const int64_t b_rows = g.tb ? g.N : g.K, b_cols = g.tb ? g.K : g.N;
  d.lda = a_cols + g.pad_a;
  d.ldb = b_cols + g.pad_b;
  d.ldc = g.N + g.pad_c;
  d.a = random_floats(static_cast<size_t>(a_rows * d.lda), rng);
  d.b = random_floats(static_cast<size_t>(b_rows * d.ldb), rng);
  d.c0 = random_floats(static_cast<size_t>(g.M * d.ldc), rng);
  d.row_bias = random_floats(static_cast<size_t>(g.M), rng);
  d.col_bias = random_floats(static_cast<size_t>(g.N), rng);
  return d;
}

// Copies a rows x cols block out of a matrix with leading dimension ld.
Tensor compact(const std::vector<float>& v, int64_t rows, int64_t cols, int64_t ld) {
  Tensor t(DType::F32, {rows, cols});
  for (int64_t r = 0; r < rows; ++r) {
    for (int64_t c = 0; c < cols; ++c) t.data<float>()[r * cols + c] = v[r * ld + c];
  }
  return t;
}

// The reference Gemm, then the epilogue, as an M x N compact matrix.
std::vector<float> reference(const GemmCase& g, const GemmData& d) {
  const Tensor a = compact(d.a, g.ta ? g.K : g.M, g.ta ? g.M : g.K, d.lda);
  const Tensor b = compact(d.b, g.tb ? g.N : g.K, g.tb ? g.K : g.N, d.ldb);
  const Tensor c = compact(d.c0, g.M, g.N, d.ldc);
  Attributes at;
  at.set("transA", Attribute::of_int(g.ta));
  at.set("transB", Attribute::of_int(g.tb));
  at.set("alpha", Attribute::of_float(g.alpha));
  at.set("beta", Attribute::of_float(g.beta));
  const Tensor y = run_op1(OpKind::Gemm, {&a, &b, &c}, at);
  std::vector<float> out(y.data<float>(), y.data<float>() + y.numel());
  for (int64_t m = 0; m < g.M; ++m) {
    for (int64_t n = 0; n < g.N; ++n) {
      float& v = out[static_cast<size_t>(m * g.N + n)];
      if (g.row_bias) v += d.row_bias[static_cast<size_t>(m)];
      if (g.column_bias) v += d.col_bias[static_cast<size_t>(n)];
      if (g.relu) v = std::max(v, 0.0f);
    }
  }
  return out;
}

KilnGemmEpilogue epilogue_of(const GemmCase& g, const GemmData& d) {
  return {g.row_bias ? d.row_bias.data() : nullptr, g.column_bias ? d.col_bias.data() : nullptr,
          g.relu ? 1 : 0, nullptr, nullptr};
}

enum class Variant { Plain, PackedA, PackedB };

// Runs kiln_sgemm (or a pre-packed variant) and returns C as an M x N compact matrix.
std::vector<float> run_cpu(const GemmCase& g, const GemmData& d, ThreadPool* pool,
                           Variant variant = Variant::Plain) {
  std::vector<float> c = d.c0;
  const KilnGemmEpilogue ep = epilogue_of(g, d);
  if (variant == Variant::Plain) {
    kiln_sgemm(g.ta, g.tb, g.M, g.N, g.K, g.alpha, d.a.data(), d.lda, d.b.data(), d.ldb, g.beta,
               c.data(), d.ldc, &ep, pool);
  } else if (variant == Variant::PackedB) {
    std::vector<float> packed(kiln_sgemm_packed_b_size(g.N, g.K) / sizeof(float) + 16);
    kiln_sgemm_pack_b(g.tb, g.N, g.K, d.b.data(), d.ldb, packed.data());
    kiln_sgemm_packed_b(g.ta, g.M, g.N, g.K, g.alpha, d.a.data(), d.lda, packed.data(), g.beta,
                        c.data(), d.ldc, &ep, pool);
  } else {
    std::vector<float> packed(kiln_sgemm_packed_a_size(g.M, g.K) / sizeof(float) + 16);
    kiln_sgemm_pack_a(g.ta, g.M, g.K, d.a.data(), d.lda, packed.data());
    kiln_sgemm_packed_a(g.tb, g.M, g.N, g.K, g.alpha, packed.data(), d.b.data(), d.ldb, g.beta,
                        c.data(), d.ldc, &ep, pool);
  }
  // Padding columns of C must be untouched.
  for (int64_t m = 0; m < g.M; ++m) {
    for (int64_t n = g.N; n < d.ldc; ++n) {
      EXPECT_EQ(c[static_cast<size_t>(m * d.ldc + n)], d.c0[static_cast<size_t>(m * d.ldc + n)]);
    }
  }
  return compact(c, g.M, g.N, d.ldc).to_float_vector();
}

// Error bound of a K-term float dot product of values in [-1, 1], scaled by alpha, plus beta*C.
double tolerance(const GemmCase& g) {
  return 2e-6 * static_cast<double>(g.K + 8) * (1.0 + std::fabs(g.alpha)) +
         1e-6 * (1.0 + std::fabs(g.beta));
}

std::string describe(const GemmCase& g, cpu::Isa isa) {
  return std::string(cpu::isa_name(isa)) + " ta=" + std::to_string(g.ta) +
         " tb=" + std::to_string(g.tb) + " M=" + std::to_string(g.M) + " N=" + std::to_string(g.N) +
         " K=" + std::to_string(g.K) + " alpha=" + std::to_string(g.alpha) +
         " beta=" + std::to_string(g.beta);
}

void check_case(const GemmCase& g, std::mt19937& rng, ThreadPool* pool) {
  const GemmData d = make_data(g, rng);
  const std::vector<float> want = reference(g, d);
  for (cpu::Isa isa : supported_isas()) {
    ForceIsa force(isa);
    const std::vector<float> got = run_cpu(g, d, pool);
    expect_all_close(got.data(), want.data(), g.M * g.N, tolerance(g), describe(g, isa));
  }
}

TEST(CpuSgemm, RandomShapesAllTransposesAllIsas) {
  std::mt19937 rng(1234);
  std::uniform_int_distribution<int64_t> dim(1, 67);
  const float alphas[] = {1.0f, 0.5f, -1.25f};
  const float betas[] = {0.0f, 1.0f, -0.75f};
  int i = 0;
  for (int ta = 0; ta < 2; ++ta) {
    for (int tb = 0; tb < 2; ++tb) {
      for (int rep = 0; rep < 12; ++rep, ++i) {
        GemmCase g{ta != 0,  tb != 0,       dim(rng),          dim(rng),
                   dim(rng), alphas[i % 3], betas[(i / 3) % 3]};
        g.pad_a = i % 3;
        g.pad_b = (i + 1) % 4;
        g.pad_c = i % 2 ? 5 : 0;
        check_case(g, rng, nullptr);
      }
    }
  }
}

TEST(CpuSgemm, LargeKAndBlockBoundaries) {
  std::mt19937 rng(99);
  ThreadPool pool(2);
  // K crosses several KC blocks (beta applied once, epilogue on the last block only); M and N
  // cross the MC / NC blocks and leave register-tile tails.
  for (const GemmCase& g :
       {GemmCase{false, false, 37, 45, 1100, 1.0f, 0.5f},
        GemmCase{true, true, 5, 3, 777, -0.5f, 1.0f},
        GemmCase{false, true, 31, 50, 2100, 1.0f, 0.0f, 1, 3, 2, true, false, true},
        GemmCase{false, true, 351, 1061, 300, 1.0f, 0.0f, 0, 0, 0, true, true, true},
        // One-row tiles (the GEMV kernel: even and odd k summed apart), odd K across blocks.
        GemmCase{false, false, 1, 70, 2049, 1.0f, 0.5f},
        GemmCase{true, true, 15, 33, 1025, -1.0f, 0.0f},
        // Narrow N whose 3 column panels split unevenly over 2 threads: M is split instead.
        GemmCase{false, false, 150, 70, 130, 1.0f, 0.5f, 0, 0, 0, true, false, true}}) {
    check_case(g, rng, &pool);
  }
}

TEST(CpuSgemm, EpilogueBiasesAndRelu) {
  std::mt19937 rng(7);
  for (int bits = 1; bits < 8; ++bits) {
    GemmCase g{bits % 2 == 0, bits % 3 == 0, 29, 51, 70, 1.5f, bits % 2 ? 0.0f : 1.0f};
    g.row_bias = bits & 1;
    g.column_bias = bits & 2;
    g.relu = bits & 4;
    check_case(g, rng, nullptr);
  }
}

// The post callback of the epilogue: called on disjoint blocks that cover C exactly once, after
// the biases/ReLU, while the values are final.
struct PostLog {
  int64_t ldc = 0;
  const float* c0 = nullptr;  // C's base address
  std::vector<int> calls;     // per element of C
  static void post(void* closure, float* c, int64_t ldc, int64_t rows, int64_t cols) {
    auto* log = static_cast<PostLog*>(closure);
    EXPECT_EQ(ldc, log->ldc);
    const int64_t off = c - log->c0, m0 = off / ldc, n0 = off % ldc;
    for (int64_t r = 0; r < rows; ++r) {
      for (int64_t j = 0; j < cols; ++j) {
        ++log->calls[static_cast<size_t>((m0 + r) * ldc + n0 + j)];
        c[r * ldc + j] = 2.0f * c[r * ldc + j] + 1.0f;
      }
    }
  }
};

TEST(CpuSgemm, PostCallbackSeesEachFinishedElementOnce) {
  std::mt19937 rng(21);
  ThreadPool pool(2);
  GemmCase g{false, false, 61, 150, 1100, 1.0f, 0.5f, 0, 0, 3, false, true, true};
  const GemmData d = make_data(g, rng);
  std::vector<float> want = reference(g, d);
  for (float& v : want) v = 2.0f * v + 1.0f;
  for (cpu::Isa isa : supported_isas()) {
    ForceIsa force(isa);
    std::vector<float> first;
    for (ThreadPool* p : {static_cast<ThreadPool*>(nullptr), &pool}) {
      std::vector<float> c = d.c0;
      PostLog log;
      log.ldc = d.ldc;
      log.c0 = c.data();
      log.calls.assign(c.size(), 0);
      KilnGemmEpilogue ep = epilogue_of(g, d);
      ep.post = &PostLog::post;
      ep.post_closure = &log;
      kiln_sgemm(0, 0, g.M, g.N, g.K, g.alpha, d.a.data(), d.lda, d.b.data(), d.ldb, g.beta,
                 c.data(), d.ldc, &ep, p);
      for (int64_t m = 0; m < g.M; ++m) {
        for (int64_t n = 0; n < d.ldc; ++n) {
          ASSERT_EQ(log.calls[static_cast<size_t>(m * d.ldc + n)], n < g.N ? 1 : 0)
              << describe(g, isa) << " at " << m << "," << n;
        }
      }
      const std::vector<float> got = compact(c, g.M, g.N, d.ldc).to_float_vector();
      expect_all_close(got.data(), want.data(), g.M * g.N, 2.0 * tolerance(g), describe(g, isa));
      if (first.empty()) {
        first = got;
      } else {
        EXPECT_EQ(first, got) << describe(g, isa);
      }
    }
  }
}

TEST(CpuSgemm, ThreadCountsGiveIdenticalResults) {
  std::mt19937 rng(5);
  ThreadPool p2(2), p3(3);
  for (const GemmCase& g :
       {GemmCase{false, false, 200, 300, 150, 1.0f, 0.5f},
        GemmCase{true, false, 61, 1500, 270, 0.7f, 1.0f},
        GemmCase{false, true, 700, 20, 64, 1.0f, 0.0f, 0, 0, 0, true, true, true},
        // Three column panels over 2 threads split unevenly: the driver splits M instead.
        GemmCase{false, false, 150, 70, 130, 1.0f, 0.0f, 0, 0, 0, true, false, true}}) {
    const GemmData d = make_data(g, rng);
    for (cpu::Isa isa : supported_isas()) {
      ForceIsa force(isa);
      const std::vector<float> one = run_cpu(g, d, nullptr);
      EXPECT_EQ(one, run_cpu(g, d, &p2)) << describe(g, isa);
      EXPECT_EQ(one, run_cpu(g, d, &p3)) << describe(g, isa);
    }
  }
}

TEST(CpuSgemm, PrePackedOperandsMatchUnpacked) {
  std::mt19937 rng(11);
  ThreadPool pool(2);
  for (const GemmCase& g :
       {GemmCase{false, false, 33, 70, 300, 1.0f, 0.0f},
        GemmCase{true, true, 130, 17, 45, -2.0f, 1.0f, 1, 2, 3, true, true, true}}) {
    const GemmData d = make_data(g, rng);
    const std::vector<float> want = reference(g, d);
    for (cpu::Isa isa : supported_isas()) {
      ForceIsa force(isa);
      const std::vector<float> plain = run_cpu(g, d, &pool);
      EXPECT_EQ(plain, run_cpu(g, d, &pool, Variant::PackedA)) << describe(g, isa);
      EXPECT_EQ(plain, run_cpu(g, d, &pool, Variant::PackedB)) << describe(g, isa);
      expect_all_close(plain.data(), want.data(), g.M * g.N, tolerance(g), describe(g, isa));
    }
  }
}

// M == 1 (fully connected layers at batch 1): the AVX-512 driver reads the A row in place (no
// packing) when its k values are contiguous (not transposed, or transposed with lda 1); the row
// kernel must give the bits of the packed-A path, for any thread count and N split (the first
// and last cases have the 2^20 multiply-adds that split N over the pool's threads).
TEST(CpuSgemm, GemvRowInPlaceMatchesPackedA) {
  std::mt19937 rng(17);
  ThreadPool p2(2), p3(3);
  for (const GemmCase& g :
       {GemmCase{false, false, 1, 130, 8200, 1.0f, 0.0f, 0, 0, 0, false, true, true},
        GemmCase{true, false, 1, 77, 1031, -0.5f, 1.0f, 0, 1, 2, true, true, false},
        GemmCase{true, true, 1, 45, 301, 1.0f, 0.5f, 3, 0, 0, false, false, true},
        GemmCase{false, true, 1, 520, 2049, 2.0f, 0.0f, 5, 2, 1, true, false, true}}) {
    const GemmData d = make_data(g, rng);
    const std::vector<float> want = reference(g, d);
    for (cpu::Isa isa : supported_isas()) {
      ForceIsa force(isa);
      const std::vector<float> packed = run_cpu(g, d, nullptr, Variant::PackedA);
      expect_all_close(packed.data(), want.data(), g.M * g.N, tolerance(g), describe(g, isa));
      for (ThreadPool* p : {static_cast<ThreadPool*>(nullptr), &p2, &p3}) {
        EXPECT_EQ(packed, run_cpu(g, d, p)) << describe(g, isa);
        EXPECT_EQ(packed, run_cpu(g, d, p, Variant::PackedB)) << describe(g, isa);
      }
    }
  }
}

TEST(CpuSgemm, PackedBufferRemembersItsIsa) {
  // Packed with one ISA and multiplied after forcing another: the packing ISA's kernel runs.
  std::mt19937 rng(3);
  const GemmCase g{false, false, 20, 40, 50, 1.0f, 0.0f};
  const GemmData d = make_data(g, rng);
  const std::vector<float> want = reference(g, d);
  for (cpu::Isa pack_isa : supported_isas()) {
    std::vector<float> packed;
    {
      ForceIsa force(pack_isa);
      packed.resize(kiln_sgemm_packed_b_size(g.N, g.K) / sizeof(float));
      kiln_sgemm_pack_b(0, g.N, g.K, d.b.data(), d.ldb, packed.data());
    }
    for (cpu::Isa run_isa : supported_isas()) {
      ForceIsa force(run_isa);
      std::vector<float> c(static_cast<size_t>(g.M * g.N));
      kiln_sgemm_packed_b(0, g.M, g.N, g.K, 1.0f, d.a.data(), d.lda, packed.data(), 0.0f, c.data(),
                          g.N, nullptr, nullptr);
      expect_all_close(c.data(), want.data(), g.M * g.N, tolerance(g), "pack/run mix");
    }
  }
}

TEST(CpuSgemm, ZeroKAndBetaZeroIgnoresNan) {
  const float nan = std::numeric_limits<float>::quiet_NaN();
  std::vector<float> c(6, nan);
  const float bias[3] = {1.0f, -2.0f, 3.0f};
  const KilnGemmEpilogue ep{nullptr, bias, 1, nullptr, nullptr};
  kiln_sgemm(0, 0, 2, 3, 0, 1.0f, nullptr, 1, nullptr, 3, 0.0f, c.data(), 3, &ep, nullptr);
  EXPECT_EQ(c, (std::vector<float>{1, 0, 3, 1, 0, 3}));
  // beta == 0 with K > 0: old NaNs in C must not leak into the result.
  const std::vector<float> a = {1, 2}, b = {3, 4, 5, 6, 7, 8};
  std::fill(c.begin(), c.end(), nan);
  for (cpu::Isa isa : supported_isas()) {
    ForceIsa force(isa);
    kiln_sgemm(0, 0, 1, 3, 2, 1.0f, a.data(), 2, b.data(), 3, 0.0f, c.data(), 3, nullptr, nullptr);
    EXPECT_EQ(std::vector<float>(c.begin(), c.begin() + 3), (std::vector<float>{15, 18, 21}));
  }
}

TEST(CpuSgemm, RejectsBadLeadingDimensionAndForeignPackedBuffer) {
  std::vector<float> a(4), b(4), c(4);
  EXPECT_THROW(kiln_sgemm(0, 0, 2, 2, 2, 1.0f, a.data(), 1, b.data(), 2, 0.0f, c.data(), 2, nullptr,
                          nullptr),
               std::invalid_argument);
  std::vector<float> junk(64, 0.0f);
  EXPECT_THROW(kiln_sgemm_packed_b(0, 2, 2, 2, 1.0f, a.data(), 2, junk.data(), 0.0f, c.data(), 2,
                                   nullptr, nullptr),
               std::invalid_argument);
}

// Packed operands live in compiled models: a buffer whose layout (K block) is not the running
// kernel's, or one from before the layout was recorded, is refused with a recompile hint.
TEST(CpuSgemm, RejectsPackedBufferOfAnotherLayout) {
  const std::vector<float> a(6, 1.0f), b(6, 1.0f);
  std::vector<float> c(4);
  std::vector<float> packed(kiln_sgemm_packed_b_size(2, 3) / sizeof(float));
  kiln_sgemm_pack_b(0, 2, 3, b.data(), 2, packed.data());
  kiln_sgemm_packed_b(0, 2, 2, 3, 1.0f, a.data(), 3, packed.data(), 0.0f, c.data(), 2, nullptr,
                      nullptr);
  EXPECT_EQ(c, (std::vector<float>{3, 3, 3, 3}));
  auto expect_refused = [&](const std::vector<float>& buf, const std::string& what) {
    try {
      kiln_sgemm_packed_b(0, 2, 2, 3, 1.0f, a.data(), 3, buf.data(), 0.0f, c.data(), 2, nullptr,
                          nullptr);
      ADD_FAILURE() << "accepted " << what;
    } catch (const std::invalid_argument& e) {
      EXPECT_NE(std::string(e.what()).find("recompile"), std::string::npos) << e.what();
    }
  };
  std::vector<float> other_kc = packed;
  reinterpret_cast<int64_t*>(other_kc.data())[3] += 16;  // the header's kc field
  expect_refused(other_kc, "another K block");
  std::vector<float> old = packed;
  const uint32_t old_magic = 0x4b50424bu;  // "KBPK", the layout before kc was recorded
  std::memcpy(old.data(), &old_magic, sizeof old_magic);
  expect_refused(old, "an old buffer");
}

}  // namespace
}  // namespace kiln::test
