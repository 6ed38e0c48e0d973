// kiln_conv2d_residual (a residual of Y's shape added after the bias, before the ReLU) on every
// conv path and ISA: the same bits as the generated `post` epilogue it replaces (residual add
// then `v < 0 ? 0 : v` on finished blocks), close to the reference Conv + Add (+ Relu), each
// element given to the caller's `post` once, afterwards, and identical for 1 and 2 threads and
// with Y passed as its own residual (in place).
#include <cstring>
#include <optional>

#include "runtime/kernels/cpu/conv.h"
#include "runtime/kernels/cpu/conv_outvec.h"
#include "runtime/kernels/cpu/conv_pointwise.h"
#include "runtime/threadpool/thread_pool.h"
#include "tests/kernels_cpu/conv_test_util.h"

namespace kiln::test {
namespace {

using cpu::DenseConvPath;

// Forces a dense path (or pointwise rows off) for the scope.
class ForcePath {
 public:
  ForcePath(std::optional<DenseConvPath> path, bool pointwise_rows) {
    if (path) cpu::force_dense_conv_path(&*path);
    cpu::set_pointwise_rows_enabled(pointwise_rows);
  }
  ~ForcePath() {
    cpu::force_dense_conv_path(nullptr);
    cpu::set_pointwise_rows_enabled(true);
  }
  ForcePath(const ForcePath&) = delete;
  ForcePath& operator=(const ForcePath&) = delete;
};

struct Run {
  const float* y0;
  const float* res;  // null: `post` is only counting
  bool relu;
  std::vector<int>* visits;
  std::vector<float>* seen;  // Y as `post` found it
  static void post(void* closure, float* y, int64_t ldc, int64_t rows, int64_t cols) {
    auto* r = static_cast<Run*>(closure);
    for (int64_t i = 0; i < rows; ++i) {
      for (int64_t j = 0; j < cols; ++j) {
        float& v = y[i * ldc + j];
        const auto at = static_cast<size_t>((y - r->y0) + i * ldc + j);
        if (r->res) {
          const float s = v + r->res[at];
          v = r->relu && s < 0.0f ? 0.0f : s;
        }
        ++(*r->visits)[at];
        (*r->seen)[at] = v;
      }
    }
  }
};

struct Case {
  KilnConv2dShape s;
  bool bias, relu;
};

// Y through kiln_conv2d_residual (in_kernel) or the generated-epilogue equivalent: ReLU off
// in the kernel, the residual and ReLU in `post`. `in_place`: Y starts as the residual and is
// passed as it (an in-place Add).
std::vector<float> run(const Case& c, const std::vector<float>& packed, const Tensor& x,
                       const Tensor& b, const Tensor& res, bool in_kernel, ThreadPool* pool,
                       bool in_place = false) {
  const int64_t oh = kiln_conv2d_output_height(&c.s), ow = kiln_conv2d_output_width(&c.s);
  const size_t n = static_cast<size_t>(c.s.N * c.s.M * oh * ow);
  std::vector<float> y(n, -7.0f), seen(n, 99.0f);
  if (in_place) y.assign(res.data<float>(), res.data<float>() + n);
  std::vector<int> visits(n, 0);
  Run r{y.data(), in_kernel ? nullptr : res.data<float>(), c.relu, &visits, &seen};
  const KilnGemmEpilogue ep{c.bias ? b.data<float>() : nullptr, nullptr,
                            in_kernel && c.relu ? 1 : 0, &Run::post, &r};
  if (in_kernel) {
    kiln_conv2d_residual(&c.s, packed.data(), x.data<float>(), &ep,
                         in_place ? y.data() : res.data<float>(), y.data(), pool);
  } else {
    kiln_conv2d_ex(&c.s, packed.data(), x.data<float>(), &ep, y.data(), pool);
  }
  for (size_t i = 0; i < n; ++i) {
    if (visits[i] != 1 || std::memcmp(&seen[i], &y[i], sizeof(float)) != 0) {
      ADD_FAILURE() << "element " << i << ": post saw it " << visits[i]
                    << " times, or before it was final";
      break;
    }
  }
  return y;
}

void check(const Case& c, std::optional<DenseConvPath> path, bool pointwise_rows,
           std::mt19937& rng, ThreadPool* two, const std::string& what) {
  const KilnConv2dShape& s = c.s;
  const int64_t oh = kiln_conv2d_output_height(&s), ow = kiln_conv2d_output_width(&s);
  const Tensor x = random_tensor({s.N, s.C, s.H, s.W}, rng);
  const Tensor w = random_tensor({s.M, s.C / s.group, s.KH, s.KW}, rng);
  const Tensor b = random_tensor({s.M}, rng);
  const Tensor res = random_tensor({s.N, s.M, oh, ow}, rng);
  const Tensor ref = reference_conv(s, x, w, c.bias ? &b : nullptr);
  std::vector<float> want(ref.data<float>(), ref.data<float>() + ref.numel());
  for (size_t i = 0; i < want.size(); ++i) {
    want[i] += res.data<float>()[i];
    if (c.relu) want[i] = std::max(want[i], 0.0f);
  }
  for (cpu::Isa isa : supported_isas()) {
    ForceIsa force_isa(isa);
    ForcePath force_path(path, pointwise_rows);
    std::vector<float> packed(kiln_conv2d_packed_weights_size(&s) / sizeof(float) + 1);
    kiln_conv2d_pack_weights(&s, w.data<float>(), packed.data());
    const std::string label = what + " " + cpu::isa_name(isa);
    const std::vector<float> got = run(c, packed, x, b, res, true, nullptr);
    EXPECT_TRUE(same_bits(got, run(c, packed, x, b, res, false, nullptr))) << label;
    EXPECT_TRUE(same_bits(got, run(c, packed, x, b, res, true, two))) << label << " 2 threads";
    EXPECT_TRUE(same_bits(got, run(c, packed, x, b, res, true, nullptr, true))) << label
                                                                                 << " in place";
    EXPECT_TRUE(same_bits(got, run(c, packed, x, b, res, true, two, true)))
        << label << " in place, 2 threads";
    expect_all_close(got.data(), want.data(), static_cast<int64_t>(want.size()),
                     2e-6 * static_cast<double>(s.C / s.group * s.KH * s.KW + 8), label);
  }
}

KilnConv2dShape shape(int64_t N, int64_t C, int64_t H, int64_t W, int64_t M, int64_t k,
                      int64_t stride, int64_t pad, int64_t group = 1) {
  return {N, C, H, W, M, k, k, stride, stride, pad, pad, pad, pad, 1, 1, group};
}

TEST(CpuConvResidual, EveryPathMatchesThePostEpilogueBitForBit) {
  std::mt19937 rng(20261124);
  ThreadPool two(2);
  std::uniform_int_distribution<int> flip(0, 1);
  // Pointwise rows (1x1, stride 1, K <= 256, big plane) and the same through the SGEMM.
  for (int i = 0; i < 4; ++i) {
    std::uniform_int_distribution<int64_t> hw(17, 23), ch(1, 40), mo(17, 45);
    const Case c{shape(1 + i % 2, ch(rng), hw(rng), hw(rng), mo(rng), 1, 1, 0), flip(rng) == 1,
                 flip(rng) == 1};
    check(c, std::nullopt, true, rng, &two, "pointwise rows");
    check(c, std::nullopt, false, rng, &two, "pointwise sgemm");
  }
  // Outvec (strides 1 and 2, pads, narrow planes), im2col SGEMM and pixel-direct.
  for (int i = 0; i < 6; ++i) {
    std::uniform_int_distribution<int64_t> hw(3, 15), ch(1, 24), mo(1, 50);
    const int64_t k = i % 3 == 0 ? 1 : 3, stride = 1 + i % 2;
    const Case c{shape(1 + i % 2, ch(rng), hw(rng), hw(rng), mo(rng), k, stride, k / 2),
                 flip(rng) == 1, flip(rng) == 1};
    check(c, DenseConvPath::OutVec, true, rng, &two, "outvec");
    check(c, DenseConvPath::Gemm, true, rng, &two, "im2col");
    check(c, DenseConvPath::PixelDirect, true, rng, &two, "pixel direct");
  }
  // Big enough to split over threads.
  check({shape(1, 64, 20, 20, 96, 1, 1, 0), true, true}, std::nullopt, true, rng, &two,
        "pointwise rows, threaded");
  // Pointwise rows over K > 256 in K blocks (the residual on the last one only).
  check({shape(1, 600, 17, 19, 45, 1, 1, 0), true, true}, std::nullopt, true, rng, &two,
        "pointwise rows, K blocks");
  check({shape(2, 300, 20, 17, 29, 1, 1, 0), false, true}, std::nullopt, true, rng, &two,
        "pointwise rows, K blocks, 2 images");
  check({shape(1, 32, 14, 14, 64, 3, 1, 1), true, true}, DenseConvPath::OutVec, true, rng, &two,
        "outvec, threaded");
  // Grouped (SGEMM per group) and depthwise.
  check({shape(2, 12, 9, 11, 18, 3, 1, 1, 3), true, true}, std::nullopt, true, rng, &two,
        "grouped");
  check({shape(1, 16, 13, 10, 16, 3, 1, 1, 16), true, true}, std::nullopt, true, rng, &two,
        "depthwise");
}

}  // namespace
}  // namespace kiln::test
