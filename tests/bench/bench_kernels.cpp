// kiln_bench_kernels: measures this core's peak FMA rate, then times the optimized CPU kernels
// (SGEMM, convolution) on fixed shapes with 1 and 2 threads and prints GFLOP/s, % of the
// measured single-thread peak, and the reference kernel's time for the same shape.
// A benchmark, not a test: it never fails on time.
// Usage: kiln_bench_kernels [--repeats N] [--gemm-only | --conv-only] [--no-ref] [--conv-ab]
//   [--min] [--filter TEXT] [--avx2] [--residual | --residual-post]
// --residual: every conv adds a residual of Y's shape, then ReLU (a fused Add + Relu), through
// kiln_conv2d_residual (the tiles add it while storing); --residual-post: the same in a `post`
// epilogue on finished blocks, as generated code did before.
// --conv-ab times each dense convolution on every path, in the same process: the im2col GEMM
// ("[im2col]"; for 1x1 stride-1 convs also with X read in place, "[pwrows]"), the pixel-vectorized
// direct conv ("[pixdir]", AVX-512 only), the output-channel-vectorized one ("[outvec]"),
// Winograd for 3x3 stride-1 convs ("[winogr]", AVX-512 only), then as packing's rule picks
// ("[rule]").
#include <immintrin.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <random>
#include <string>
#include <vector>

#include "runtime/kernels/cpu/conv.h"
#include "runtime/kernels/cpu/conv_direct.h"
#include "runtime/kernels/cpu/conv_outvec.h"
#include "runtime/kernels/cpu/conv_pointwise.h"
#include "runtime/kernels/cpu/cpu_isa.h"
#include "runtime/kernels/cpu/sgemm.h"
#include "runtime/kernels/ref/evaluate.h"
#include "runtime/threadpool/thread_pool.h"

namespace {

using Clock = std::chrono::steady_clock;

double seconds_since(Clock::time_point t0) {
  return std::chrono::duration<double>(Clock::now() - t0).count();
}

// Register-only FMA loop: 16 independent accumulator chains cover the FMA latency (4 cycles)
// times the FMA ports (2) with room to spare, so the loop runs at the FMA throughput bound.
// (No asm barriers on the accumulators: they made GCC spill them to the stack every step.)
__attribute__((target("avx512f"), noinline)) double peak_avx512(int64_t iters) {
  __m512 acc[16];
  for (int i = 0; i < 16; ++i) acc[i] = _mm512_set1_ps(static_cast<float>(i) * 1e-3f);
  const __m512 x = _mm512_set1_ps(0.999999f), y = _mm512_set1_ps(1e-7f);
  const auto t0 = Clock::now();
  for (int64_t it = 0; it < iters; ++it) {
    for (int i = 0; i < 16; ++i) acc[i] = _mm512_fmadd_ps(acc[i], x, y);
  }
  const double s = seconds_since(t0);
  float sink = 0;
  for (int i = 0; i < 16; ++i) {
    float v[16];
    _mm512_storeu_ps(v, acc[i]);
    for (float f : v) sink += f;
  }
  if (sink == 1234.5f) std::puts("");
  return static_cast<double>(iters) * 16 * 16 * 2 / s;
}

__attribute__((target("avx2,fma"), noinline)) double peak_avx2(int64_t iters) {
  __m256 acc[12];
  for (int i = 0; i < 12; ++i) acc[i] = _mm256_set1_ps(static_cast<float>(i) * 1e-3f);
  const __m256 x = _mm256_set1_ps(0.999999f), y = _mm256_set1_ps(1e-7f);
  const auto t0 = Clock::now();
  for (int64_t it = 0; it < iters; ++it) {
    for (int i = 0; i < 12; ++i) acc[i] = _mm256_fmadd_ps(acc[i], x, y);
  }
  const double s = seconds_since(t0);
  float sink = 0;
  for (int i = 0; i < 12; ++i) {
    float v[8];
    _mm256_storeu_ps(v, acc[i]);
    for (float f : v) sink += f;
  }
  if (sink == 1234.5f) std::puts("");
  return static_cast<double>(iters) * 12 * 8 * 2 / s;
}

// Best of several short runs (FLOP/s).
double measure_peak(kiln::cpu::Isa isa) {
  double best = 0;
  for (int r = 0; r < 7; ++r) {
    const double f = isa == kiln::cpu::Isa::Avx512 ? peak_avx512(20'000'000)
                     : isa == kiln::cpu::Isa::Avx2 ? peak_avx2(20'000'000)
                                                   : 0.0;
    best = std::max(best, f);
  }
  return best;
}

bool g_use_min = false;   // --min: the fastest run instead of the median (busy machines)
// --residual / --residual-post: convs add a residual in the kernel / in their `post` epilogue.
bool g_residual = false, g_residual_post = false;

double median_seconds(int repeats, const std::function<void()>& fn) {
  fn();  // warm-up: page faults, packing buffers, thread start
  std::vector<double> t;
  for (int r = 0; r < repeats; ++r) {
    const auto t0 = Clock::now();
    fn();
    t.push_back(seconds_since(t0));
  }
  std::sort(t.begin(), t.end());
  return g_use_min ? t.front() : t[t.size() / 2];
}

std::vector<float> random_floats(size_t n, uint32_t seed) {
  std::mt19937 rng(seed);
  std::uniform_real_distribution<float> d(-1.0f, 1.0f);
  std::vector<float> v(n);
  for (float& x : v) x = d(rng);
  return v;
}

kiln::Tensor as_tensor(const std::vector<float>& v, kiln::Dims dims) {
  return kiln::Tensor::from_vector<float>(v, std::move(dims));
}

double ref_seconds(kiln::OpKind op, std::vector<const kiln::Tensor*> inputs,
                   const kiln::Attributes& attrs) {
  kiln::OpCall call;
  call.op = op;
  call.opset = 22;
  call.attrs = &attrs;
  call.inputs = std::move(inputs);
  call.num_outputs = 1;
  const auto t0 = Clock::now();
  kiln::evaluate_op(call);
  return seconds_since(t0);
}

struct Row {
  std::string name;
  double flops;
  double t1, t2, tref;
};

void print_row(const Row& r, double peak) {
  const auto gf = [&](double t) { return r.flops / t * 1e-9; };
  std::printf("%-42s %9.3f %8.1f %6.1f%% %9.3f %8.1f %6.1f%% ", r.name.c_str(), r.t1 * 1e3,
              gf(r.t1), 100.0 * r.flops / r.t1 / peak, r.t2 * 1e3, gf(r.t2),
              100.0 * r.flops / r.t2 / (2 * peak));
  if (r.tref > 0) {
    std::printf("%10.1f %8.0fx\n", r.tref * 1e3, r.tref / r.t1);
  } else {  // --no-ref
    std::printf("%10s %9s\n", "-", "-");
  }
}

Row bench_sgemm(int64_t M, int64_t N, int64_t K, int repeats, kiln::ThreadPool& pool2,
                bool with_ref) {
  const std::vector<float> a = random_floats(static_cast<size_t>(M * K), 1);
  const std::vector<float> b = random_floats(static_cast<size_t>(K * N), 2);
  std::vector<float> c(static_cast<size_t>(M * N));
  auto run = [&](kiln::ThreadPool* pool) {
    return median_seconds(repeats, [&] {
      kiln_sgemm(0, 0, M, N, K, 1.0f, a.data(), K, b.data(), N, 0.0f, c.data(), N, nullptr, pool);
    });
  };
  Row r{"sgemm " + std::to_string(M) + "x" + std::to_string(N) + "x" + std::to_string(K),
        2.0 * static_cast<double>(M * N * K), run(nullptr), run(&pool2), 0};
  if (!with_ref) return r;
  const kiln::Tensor ta = as_tensor(a, {M, K}), tb = as_tensor(b, {K, N});
  kiln::Attributes at;
  r.tref = ref_seconds(kiln::OpKind::Gemm, {&ta, &tb}, at);
  return r;
}

struct ConvShape {
  const char* name;
  int64_t C, H, W, M, k, stride, pad, group;
  int64_t N = 1;
};

Row bench_conv(const ConvShape& s, int repeats, kiln::ThreadPool& pool2, bool with_ref) {
  KilnConv2dShape shape{};
  shape.N = s.N;
  shape.C = s.C;
  shape.H = s.H;
  shape.W = s.W;
  shape.M = s.M;
  shape.KH = shape.KW = s.k;
  shape.stride_h = shape.stride_w = s.stride;
  shape.pad_top = shape.pad_left = shape.pad_bottom = shape.pad_right = s.pad;
  shape.dilation_h = shape.dilation_w = 1;
  shape.group = s.group;
  const int64_t OH = kiln_conv2d_output_height(&shape), OW = kiln_conv2d_output_width(&shape);
  const int64_t cg = s.C / s.group;
  const std::vector<float> x = random_floats(static_cast<size_t>(s.N * s.C * s.H * s.W), 3);
  const std::vector<float> w = random_floats(static_cast<size_t>(s.M * cg * s.k * s.k), 4);
  const std::vector<float> bias = random_floats(static_cast<size_t>(s.M), 5);
  std::vector<float> packed(kiln_conv2d_packed_weights_size(&shape) / sizeof(float) + 16);
  kiln_conv2d_pack_weights(&shape, w.data(), packed.data());
  std::vector<float> y(static_cast<size_t>(s.N * s.M * OH * OW));
  // A residual tensor of Y's shape, then ReLU, like a fused Conv + Add + Relu.
  const std::vector<float> res = g_residual || g_residual_post ? random_floats(y.size(), 6)
                                                               : std::vector<float>();
  struct Residual {
    const float* y0;
    const float* res;
    static void add_relu(void* closure, float* c, int64_t ldc, int64_t rows, int64_t cols) {
      const auto* r = static_cast<const Residual*>(closure);
      const float* from = r->res + (c - r->y0);
      for (int64_t i = 0; i < rows; ++i) {
        for (int64_t j = 0; j < cols; ++j) {
          const float v = c[i * ldc + j] + from[i * ldc + j];
          c[i * ldc + j] = v < 0.0f ? 0.0f : v;
        }
      }
    }
  } residual{y.data(), res.data()};
  const KilnGemmEpilogue ep{bias.data(), nullptr, g_residual_post ? 0 : 1,
                            g_residual_post ? &Residual::add_relu : nullptr, &residual};
  auto run = [&](kiln::ThreadPool* pool) {
    return median_seconds(repeats, [&] {
      kiln_conv2d_residual(&shape, packed.data(), x.data(), &ep,
                           g_residual ? res.data() : nullptr, y.data(), pool);
    });
  };
  Row r{s.name, 2.0 * static_cast<double>(s.N * s.M * OH * OW * cg * s.k * s.k), run(nullptr),
        run(&pool2), 0};
  if (!with_ref) return r;
  const kiln::Tensor tx = as_tensor(x, {s.N, s.C, s.H, s.W});
  const kiln::Tensor tw = as_tensor(w, {s.M, cg, s.k, s.k});
  const kiln::Tensor tbias = as_tensor(bias, {s.M});
  kiln::Attributes at;
  at.set("strides", kiln::Attribute::of_ints({s.stride, s.stride}));
  at.set("pads", kiln::Attribute::of_ints({s.pad, s.pad, s.pad, s.pad}));
  at.set("group", kiln::Attribute::of_int(s.group));
  r.tref = ref_seconds(kiln::OpKind::Conv, {&tx, &tw, &tbias}, at);
  return r;
}

}  // namespace

int main(int argc, char** argv) {
  int repeats = 7;
  bool skip_conv = false, skip_gemm = false, with_ref = true, conv_ab = false;
  std::string filter;
  for (int i = 1; i < argc; ++i) {
    if (std::strcmp(argv[i], "--repeats") == 0 && i + 1 < argc) {
      repeats = std::max(1, std::atoi(argv[++i]));
    } else if (std::strcmp(argv[i], "--gemm-only") == 0) {
      skip_conv = true;
    } else if (std::strcmp(argv[i], "--conv-only") == 0) {
      skip_gemm = true;
    } else if (std::strcmp(argv[i], "--no-ref") == 0) {  // the reference GEMM takes seconds
      with_ref = false;
    } else if (std::strcmp(argv[i], "--min") == 0) {
      g_use_min = true;
    } else if (std::strcmp(argv[i], "--residual") == 0) {
      g_residual = true;
    } else if (std::strcmp(argv[i], "--residual-post") == 0) {
      g_residual_post = true;
    } else if (std::strcmp(argv[i], "--conv-ab") == 0) {
      conv_ab = true;
    } else if (std::strcmp(argv[i], "--filter") == 0 && i + 1 < argc) {
      filter = argv[++i];
    } else if (std::strcmp(argv[i], "--avx2") == 0 &&
               kiln::cpu::isa_supported(kiln::cpu::Isa::Avx2)) {
      kiln::cpu::force_isa(kiln::cpu::Isa::Avx2);  // time the AVX2 kernels on an AVX-512 CPU
    } else {
      std::fprintf(stderr,
                   "usage: %s [--repeats N] [--gemm-only | --conv-only] [--no-ref] [--conv-ab] "
                   "[--min] [--filter TEXT] [--avx2] [--residual | --residual-post]\n",
                   argv[0]);
      return 2;
    }
  }
  const kiln::cpu::Isa isa = kiln::cpu::active_isa();
  const double peak = measure_peak(isa);
  if (peak <= 0) {
    std::fprintf(stderr, "no AVX2/AVX-512: peak FMA rate not measured\n");
    return 1;
  }
  std::printf("ISA %s; measured single-core peak %.1f GFLOP/s (register-only FMA loop)\n",
              kiln::cpu::isa_name(isa), peak * 1e-9);
  std::printf(
      "%s of %d runs; %%peak: of 1x (1T) / 2x (2T) the measured single-core peak;"
      " ref: reference kernel, one run, 1 thread\n\n",
      g_use_min ? "min" : "median", repeats);
  std::printf("%-42s %9s %8s %7s %9s %8s %7s %10s %9s\n", "kernel", "1T ms", "GFLOP/s", "%peak",
              "2T ms", "GFLOP/s", "%peak", "ref ms", "ref/1T");
  kiln::ThreadPool pool2(2);
  if (!skip_gemm) {
    print_row(bench_sgemm(1024, 1024, 1024, repeats, pool2, with_ref), peak);
    print_row(bench_sgemm(256, 1024, 1024, repeats, pool2, with_ref), peak);
  }
  if (skip_conv) return 0;
  // The dense convolutions of ResNet-18/50, MobileNetV2 and the MNIST CNN, and one depthwise.
  const ConvShape convs[] = {
      {"stem 7x7/2 3->64 224 (ResNet)", 3, 224, 224, 64, 7, 2, 3, 1},
      {"3x3 64->64 56 (ResNet)", 64, 56, 56, 64, 3, 1, 1, 1},
      {"3x3/2 64->128 56 (ResNet-18)", 64, 56, 56, 128, 3, 2, 1, 1},
      {"3x3/2 128->256 28 (ResNet-18)", 128, 28, 28, 256, 3, 2, 1, 1},
      {"3x3/2 256->512 14 (ResNet-18)", 256, 14, 14, 512, 3, 2, 1, 1},
      {"3x3/2 128->128 56 (ResNet-50)", 128, 56, 56, 128, 3, 2, 1, 1},
      {"3x3/2 512->512 14 (ResNet-50)", 512, 14, 14, 512, 3, 2, 1, 1},
      {"3x3 128->128 28 (ResNet)", 128, 28, 28, 128, 3, 1, 1, 1},
      {"3x3 256->256 14 (ResNet)", 256, 14, 14, 256, 3, 1, 1, 1},
      {"3x3 512->512 7 (ResNet)", 512, 7, 7, 512, 3, 1, 1, 1},
      {"1x1/2 64->128 56 (ResNet-18)", 64, 56, 56, 128, 1, 2, 0, 1},
      {"1x1/2 128->256 28 (ResNet-18)", 128, 28, 28, 256, 1, 2, 0, 1},
      {"1x1/2 256->512 14 (ResNet-18)", 256, 14, 14, 512, 1, 2, 0, 1},
      {"1x1/2 512->1024 28 (ResNet-50)", 512, 28, 28, 1024, 1, 2, 0, 1},
      {"1x1/2 1024->2048 14 (ResNet-50)", 1024, 14, 14, 2048, 1, 2, 0, 1},
      {"1x1 64->256 56 (ResNet-50)", 64, 56, 56, 256, 1, 1, 0, 1},
      {"1x1 256->64 56 (ResNet-50)", 256, 56, 56, 64, 1, 1, 0, 1},
      {"1x1 128->512 28 (ResNet-50)", 128, 28, 28, 512, 1, 1, 0, 1},
      {"1x1 512->128 28 (ResNet-50)", 512, 28, 28, 128, 1, 1, 0, 1},
      {"1x1 256->1024 14 (ResNet-50)", 256, 14, 14, 1024, 1, 1, 0, 1},
      {"1x1 1024->256 14 (ResNet-50)", 1024, 14, 14, 256, 1, 1, 0, 1},
      {"1x1 1024->512 14 (ResNet-50)", 1024, 14, 14, 512, 1, 1, 0, 1},
      {"1x1 2048->512 7 (ResNet-50)", 2048, 7, 7, 512, 1, 1, 0, 1},
      {"stem 3x3/2 3->32 224 (MbNetV2)", 3, 224, 224, 32, 3, 2, 1, 1},
      {"1x1 32->16 112 (MbNetV2)", 32, 112, 112, 16, 1, 1, 0, 1},
      {"1x1 16->96 112 (MbNetV2)", 16, 112, 112, 96, 1, 1, 0, 1},
      {"1x1 24->144 56 (MbNetV2)", 24, 56, 56, 144, 1, 1, 0, 1},
      {"1x1 144->24 56 (MbNetV2)", 144, 56, 56, 24, 1, 1, 0, 1},
      {"1x1 32->192 28 (MbNetV2)", 32, 28, 28, 192, 1, 1, 0, 1},
      {"1x1 64->384 14 (MbNetV2)", 64, 14, 14, 384, 1, 1, 0, 1},
      {"1x1 384->64 14 (MbNetV2)", 384, 14, 14, 64, 1, 1, 0, 1},
      {"1x1 160->960 7 (MbNetV2)", 160, 7, 7, 960, 1, 1, 0, 1},
      {"1x1 320->1280 7 (MbNetV2)", 320, 7, 7, 1280, 1, 1, 0, 1},
      {"3x3 1->32 28 b1 (MNIST)", 1, 28, 28, 32, 3, 1, 0, 1, 1},
      {"3x3 32->64 26 b1 (MNIST)", 32, 26, 26, 64, 3, 1, 0, 1, 1},
      {"3x3 1->32 28 b64 (MNIST)", 1, 28, 28, 32, 3, 1, 0, 1, 64},
      {"3x3 32->64 26 b64 (MNIST)", 32, 26, 26, 64, 3, 1, 0, 1, 64},
      {"dwconv 3x3 32ch 112x112 (MbNetV2)", 32, 112, 112, 32, 3, 1, 1, 32},
  };
  for (const ConvShape& s : convs) {
    if (!filter.empty() && std::string(s.name).find(filter) == std::string::npos) continue;
    if (!conv_ab || s.group > 1) {
      print_row(bench_conv(s, repeats, pool2, with_ref), peak);
      continue;
    }
    // Every dense path the ISA has, forced in turn, then the rule's pick.
    using kiln::cpu::DenseConvPath;
    const std::pair<const char*, DenseConvPath> paths[] = {{"[im2col] ", DenseConvPath::Gemm},
                                                           {"[pixdir] ", DenseConvPath::PixelDirect},
                                                           {"[outvec] ", DenseConvPath::OutVec},
                                                           {"[winogr] ", DenseConvPath::Winograd}};
    for (const auto& [tag, path] : paths) {
      if ((path == DenseConvPath::PixelDirect || path == DenseConvPath::Winograd) &&
          isa != kiln::cpu::Isa::Avx512) {
        continue;
      }
      if (path == DenseConvPath::Winograd && (s.k != 3 || s.stride != 1)) continue;
      kiln::cpu::force_dense_conv_path(&path);
      // The GEMM path of 1x1 stride-1 convs: the SGEMM with packed B panels, then X in place.
      const bool pointwise = path == DenseConvPath::Gemm && s.k == 1 && s.stride == 1;
      if (pointwise) kiln::cpu::set_pointwise_rows_enabled(false);
      Row r = bench_conv(s, repeats, pool2, false);
      r.name = tag + r.name;
      print_row(r, peak);
      if (pointwise) {
        kiln::cpu::set_pointwise_rows_enabled(true);
        r = bench_conv(s, repeats, pool2, false);
        r.name = "[pwrows] " + r.name;
        print_row(r, peak);
      }
    }
    kiln::cpu::force_dense_conv_path(nullptr);
    Row r = bench_conv(s, repeats, pool2, with_ref);
    r.name = "[rule]   " + r.name;
    print_row(r, peak);
  }
  return 0;
}
