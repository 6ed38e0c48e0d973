// Pointwise-rows convolution driver (see conv_pointwise.h): strips of 32 pixels, every channel
// panel over each strip's K block while its rows are in L1, strips split over threads.
#include "runtime/kernels/cpu/conv_pointwise.h"

#include <algorithm>
#include <atomic>

#include "runtime/kernels/cpu/cpu_isa.h"
#include "runtime/kernels/cpu/sgemm_kernel.h"
#include "runtime/threadpool/thread_pool.h"

namespace kiln::cpu {

namespace {

std::atomic<bool> g_enabled{true};
constexpr int64_t kMinParallelMacs = int64_t{1} << 20;
// Columns per `post` call (all M rows).
constexpr int64_t kPostColumns = 128;

}  // namespace

void set_pointwise_rows_enabled(bool on) { g_enabled = on; }

int64_t pointwise_k_block(int64_t K) {
  const int64_t blocks = (K + kPointwiseRowsBlockK - 1) / kPointwiseRowsBlockK;
  return std::max<int64_t>(1, (K + blocks - 1) / blocks);
}

bool pointwise_rows_preferred(const SgemmKernel& kern, int64_t M, int64_t K, int64_t P) {
  // The packed weights must be one K block of 14-row panels (the layout the tile reads).
  // Measured with kiln_bench_kernels --conv-ab on the 1x1 stride-1 layers of ResNet-50 and
  // MobileNetV2 (1 thread): 5-30% faster than the SGEMM while a strip's K rows (K x 128 bytes)
  // fit in L1 (K <= 256). Deeper K runs in K blocks of <= 256 rows with partial sums kept in
  // Y: level with the SGEMM when X is in cache, ahead in the model only while M is small, where
  // the SGEMM's B packing (all of X, from L3) is spread over few channel panels: ResNet-50's
  // 512->128 at 28x28, 1 thread, ~0.60 vs ~0.65 ms; for 512->256 the SGEMM stays ahead.
  (void)P;
  const bool deep_ok = K <= kern.kc && M <= kPointwiseRowsDeepMaxM;
  return g_enabled.load() && kern.isa == Isa::Avx512 && kern.mr == kPointwiseRows &&
         (K <= std::min<int64_t>(kPointwiseRowsMaxK, kern.kc) || deep_ok) &&
         isa_supported(Isa::Avx512);
}

void pointwise_rows_conv(int64_t M, int64_t K, int64_t P, const float* packed_a, const float* x,
                         const KilnGemmEpilogue& ep, const float* residual, float* y,
                         ThreadPool* pool) {
  const int64_t strips = (P + kPointwiseCols - 1) / kPointwiseCols;
  const int64_t panels = (M + kPointwiseRows - 1) / kPointwiseRows;
  const int64_t kb = pointwise_k_block(K);
  auto run = [&](int64_t begin, int64_t end) {
    int64_t post_from = begin * kPointwiseCols;  // first column not yet given to `post`
    for (int64_t s = begin; s < end; ++s) {
      const int64_t p0 = s * kPointwiseCols;
      PointwiseTile t{};
      t.ldx = P;
      t.ldy = P;
      t.cols = static_cast<int>(std::min<int64_t>(kPointwiseCols, P - p0));
      t.relu = ep.relu != 0;
      for (int64_t k0 = 0; k0 < K; k0 += kb) {
        t.K = std::min(kb, K - k0);
        t.x = x + k0 * P + p0;
        t.from_y = k0 > 0;
        t.last = k0 + t.K == K;
        for (int64_t pn = 0; pn < panels; ++pn) {
          const int64_t m0 = pn * kPointwiseRows;
          t.a = packed_a + m0 * K + k0 * kPointwiseRows;
          t.y = y + m0 * P + p0;
          t.res = residual && t.last ? residual + m0 * P + p0 : nullptr;
          t.res_next = t.res && s + 2 < end ? t.res + 2 * kPointwiseCols : nullptr;
          t.bias = ep.row_bias && t.last ? ep.row_bias + m0 : nullptr;
          // Two strips ahead: one is too late to hide the misses of K streams from L3 / memory.
          t.next = pn == 0 && s + 2 < end ? t.x + 2 * kPointwiseCols : nullptr;
          pointwise_tile_avx512(static_cast<int>(std::min<int64_t>(kPointwiseRows, M - m0)), t);
        }
      }
      // Finished strips (all channels) go to `post` while they are still in L2, a few at a
      // time: the generated epilogues loop per row, so 32-column blocks cost more calls and
      // loop overhead than the residual adds themselves.
      const int64_t done = p0 + t.cols;
      if (ep.post && (done - post_from >= kPostColumns || s + 1 == end)) {
        ep.post(ep.post_closure, y + post_from, P, M, done - post_from);
        post_from = done;
      }
    }
  };
  if (pool && pool->num_threads() > 1 && strips > 1 && M * K * P >= kMinParallelMacs) {
    pool->parallel_for(strips, run);
  } else {
    run(0, strips);
  }
}

}  // namespace kiln::cpu
