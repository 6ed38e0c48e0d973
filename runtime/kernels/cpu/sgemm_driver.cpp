#include "runtime/kernels/cpu/sgemm_driver.h"

#include <algorithm>

#include "runtime/kernels/cpu/half_convert.h"
#include "runtime/kernels/cpu/sgemm_pack.h"
#include "runtime/threadpool/thread_pool.h"

namespace kiln::cpu {

namespace {

// Block sizes for a core with a 48 KiB L1d and a 1.25-2 MiB L2:
//  AVX-512: kc 1024 -> C is loaded and stored once per 1024 k steps (a K of 1024 needs one
//  pass); the A panel (56 KiB) and B panel (128 KiB) stream from L2 under software prefetch.
//  mc 112 -> the A block is 448 KiB; nc 256 -> the B block is 1 MiB; both stay in L2.
//  (Measured on Ice Lake / Sapphire Rapids class cores: kc 256 with an L1-resident B panel
//  reached ~85% of the FMA peak in the kernel, kc 1024 with prefetch ~93%.)
//  AVX2 / scalar: B panel 256 x 16 x 4 B = 16 KiB (L1), A block 240 x 256 x 4 B = 240 KiB.
const SgemmKernel kAvx512{Isa::Avx512, 14, 32, 1024, 112, 256, &sgemm_micro_avx512,
                          &sgemm_gemv_avx512};
const SgemmKernel kAvx2{Isa::Avx2, 6, 16, 256, 240, 1024, &sgemm_micro_avx2};
const SgemmKernel kScalar{Isa::Scalar, 6, 16, 256, 240, 1024, &sgemm_micro_scalar};

// Below this many multiply-adds a call stays on the calling thread.
constexpr int64_t kMinParallelMacs = int64_t{1} << 20;

thread_local ScratchBuffer t_b_scratch;
thread_local ScratchBuffer t_a_scratch;        // all of op(A), packed
thread_local ScratchBuffer t_a_block_scratch;  // one K block of a tile's rows, packed

// The block sizes of one call: K blocks of k_block(); when K is shallower than kern.kc the M and
// N blocks widen so the A block (mc x kb) and B block (kb x nc) keep the L2 budgets of
// kern.mc x kern.kc and kern.kc x kern.nc (e.g. M = 128, K = 768: one A block, not 112 + 16).
struct Blocking {
  int64_t kb, mc, nc;
};

Blocking blocking_for(const SgemmKernel& kern, int64_t K) {
  const int64_t kb = k_block(kern, K);
  return {kb, std::max<int64_t>(kern.mr, kern.mc * kern.kc / kb / kern.mr * kern.mr),
          std::max<int64_t>(kern.nr, kern.nc * kern.kc / kb / kern.nr * kern.nr)};
}

struct TileGrid {
  int64_t m_tiles = 1, n_tiles = 1;
};

// Tiles of C: N is cut into at least ceil(N / nc) ranges of whole panels, and into at least one
// per thread when N has the panels for it; M is cut only when N alone cannot feed the threads.
TileGrid plan_tiles(const SgemmKernel& kern, const Blocking& bl, int64_t M, int64_t N,
                    int threads) {
  const int64_t n_panels = (N + kern.nr - 1) / kern.nr;
  const int64_t m_panels = (M + kern.mr - 1) / kern.mr;
  TileGrid g;
  g.n_tiles = std::max<int64_t>((N + bl.nc - 1) / bl.nc, 1);
  if (threads > 1) {
    g.n_tiles = std::min(n_panels, round_up(g.n_tiles, threads));
    if (g.n_tiles < threads) {
      g.m_tiles = std::min(m_panels, (threads + g.n_tiles - 1) / g.n_tiles);
    } else if (N <= bl.nc) {
      // A narrow C whose column panels do not divide evenly (7 panels of a 14x14 plane over
      // 2 threads: 4 + 3, a 12% loss) splits M instead when that is clearly more even: each
      // thread then packs all of B, one block, which is small next to its share of M, and
      // reads only its rows of A (conv weights, often from memory) instead of all of them.
      const int64_t n_max = (n_panels + threads - 1) / threads;
      const int64_t m_max = (m_panels + threads - 1) / threads;
      const double n_even = static_cast<double>(n_panels) / static_cast<double>(threads * n_max);
      const double m_even = static_cast<double>(m_panels) / static_cast<double>(threads * m_max);
      if (m_even > n_even + 0.05) {
        g.n_tiles = 1;
        g.m_tiles = threads;
      }
    }
  }
  return g;
}

// One tile: rows [m0, m1) x columns [n0, n1) of C, m0 / n0 on panel boundaries. A comes packed
// whole (packed_a) or, when `lazy` is set, unpacked: then each K block of rows [m0, m1) is
// packed as the loop reaches it (the caller makes sure the tile has one N block), or for a
// single contiguous row (GEMV) read in place by kern.gemv, any tiling.
void run_tile(const SgemmKernel& kern, const Blocking& bl, int64_t M, int64_t K,
              const float* packed_a, const UnpackedA* lazy, const BPanelSource& b,
              const GemmOutput& out, int64_t m0, int64_t m1, int64_t n0, int64_t n1) {
  const int64_t mpad = round_up(M, kern.mr);
  const int64_t nc_tile = n1 - n0;
  const int64_t kb = bl.kb;
  float* scratch =
      t_b_scratch.floats(static_cast<size_t>(kb * round_up(std::min(nc_tile, bl.nc), kern.nr)));
  // A single row read in place (M == 1, k contiguous): no packing, the row kernel reads it.
  const bool gemv = lazy && M == 1 && kern.gemv && (!lazy->trans || lazy->lda == 1);
  float* a_block =
      lazy && !gemv
          ? t_a_block_scratch.floats(static_cast<size_t>(round_up(m1 - m0, kern.mr) * kb))
          : nullptr;
  for (int64_t j0 = n0; j0 < n1; j0 += bl.nc) {
    const int64_t nc = std::min(bl.nc, n1 - j0);
    for (int64_t k0 = 0; k0 < K; k0 += kb) {
      const int64_t kc = std::min(kb, K - k0);
      const bool first = k0 == 0, last = k0 + kc == K;
      const float* bblock = b.block(kern, k0, kc, j0, nc, scratch);
      // The packed A block of this K block, from row m0 on.
      const float* ablock = a_block;
      if (gemv) {
        ablock = lazy->a + k0;
      } else if (lazy) {
        pack_a_block(kern, lazy->trans, M, lazy->a, lazy->lda, m0, m1, k0, kc, a_block);
      } else {
        ablock = packed_a + k0 * mpad + m0 * kc;
      }
      MicroTile t{};
      t.ldc = out.ldc;
      t.alpha = out.alpha;
      t.beta = first ? out.beta : 1.0f;
      t.load_c = !first || out.beta != 0.0f;
      t.relu = last && out.epilogue.relu != 0;
      for (int64_t i0 = m0; i0 < m1; i0 += bl.mc) {
        const int64_t i1 = std::min(m1, i0 + bl.mc);
        for (int64_t jp = 0; jp < nc; jp += kern.nr) {
          const float* bpanel = bblock + jp * kc;
          const int64_t col = j0 + jp;
          t.cols = static_cast<int>(std::min<int64_t>(kern.nr, j0 + nc - col));
          t.column_bias =
              last && out.epilogue.column_bias ? out.epilogue.column_bias + col : nullptr;
          for (int64_t row = i0; row < i1; row += kern.mr) {
            t.rows = static_cast<int>(std::min<int64_t>(kern.mr, i1 - row));
            t.c = out.c + row * out.ldc + col;
            t.row_bias = last && out.epilogue.row_bias ? out.epilogue.row_bias + row : nullptr;
            if (gemv) {
              kern.gemv(kc, ablock, bpanel, t);
            } else {
              kern.micro(kc, ablock + (row - m0) * kc, bpanel, t);
            }
          }
          if (last && out.epilogue.post) {
            out.epilogue.post(out.epilogue.post_closure, out.c + i0 * out.ldc + col, out.ldc,
                              i1 - i0, t.cols);
          }
        }
      }
    }
  }
}

}  // namespace

const SgemmKernel& sgemm_kernel(Isa isa) {
  switch (isa) {
    case Isa::Avx512:
      return kAvx512;
    case Isa::Avx2:
      return kAvx2;
    case Isa::Scalar:
      break;
  }
  return kScalar;
}

const float* MatrixBSource::block(const SgemmKernel& kern, int64_t k0, int64_t kc, int64_t n0,
                                  int64_t nc, float* scratch) const {
  pack_b_block(kern, trans_, b_, ldb_, k0, kc, n0, nc, scratch);
  return scratch;
}

const float* PackedBSource::block(const SgemmKernel& kern, int64_t k0, int64_t kc, int64_t n0,
                                  int64_t, float*) const {
  return packed_ + k0 * round_up(n_, kern.nr) + n0 * kc;
}

const float* PackedHalfBSource::block(const SgemmKernel& kern, int64_t k0, int64_t kc,
                                      int64_t n0, int64_t nc, float* scratch) const {
  // A block of the packed layout is one contiguous run: its panels of kc x nr.
  widen_half(packed_ + k0 * round_up(n_, kern.nr) + n0 * kc, scratch, round_up(nc, kern.nr) * kc);
  return scratch;
}

namespace {

int threads_for(int64_t M, int64_t N, int64_t K, ThreadPool* pool) {
  return pool && M * N * K >= kMinParallelMacs ? pool->num_threads() : 1;
}

void run_grid(const SgemmKernel& kern, const Blocking& bl, const TileGrid& g, int threads,
              int64_t M, int64_t N, int64_t K, const float* packed_a, const UnpackedA* lazy,
              const BPanelSource& b, const GemmOutput& out, ThreadPool* pool) {
  const int64_t n_panels = (N + kern.nr - 1) / kern.nr;
  const int64_t m_panels = (M + kern.mr - 1) / kern.mr;
  auto run_tiles = [&](int64_t begin, int64_t end) {
    for (int64_t t = begin; t < end; ++t) {
      const int64_t tm = t / g.n_tiles, tn = t % g.n_tiles;
      const int64_t m0 = m_panels * tm / g.m_tiles * kern.mr;
      const int64_t m1 = std::min(M, m_panels * (tm + 1) / g.m_tiles * kern.mr);
      const int64_t n0 = n_panels * tn / g.n_tiles * kern.nr;
      const int64_t n1 = std::min(N, n_panels * (tn + 1) / g.n_tiles * kern.nr);
      if (m0 < m1 && n0 < n1) run_tile(kern, bl, M, K, packed_a, lazy, b, out, m0, m1, n0, n1);
    }
  };
  const int64_t tiles = g.m_tiles * g.n_tiles;
  if (threads > 1 && tiles > 1) {
    pool->parallel_for(tiles, run_tiles);
  } else {
    run_tiles(0, tiles);
  }
}

}  // namespace

void run_packed_sgemm(const SgemmKernel& kern, int64_t M, int64_t N, int64_t K,
                      const float* packed_a, const BPanelSource& b, const GemmOutput& out,
                      ThreadPool* pool) {
  if (M <= 0 || N <= 0) return;
  if (K <= 0) return scale_c_with_epilogue(M, N, out);
  const int threads = threads_for(M, N, K, pool);
  const Blocking bl = blocking_for(kern, K);
  run_grid(kern, bl, plan_tiles(kern, bl, M, N, threads), threads, M, N, K, packed_a, nullptr, b,
           out, pool);
}

void run_sgemm_unpacked_a(const SgemmKernel& kern, int64_t M, int64_t N, int64_t K,
                          const UnpackedA& a, const BPanelSource& b, const GemmOutput& out,
                          ThreadPool* pool) {
  if (M <= 0 || N <= 0) return;
  if (K <= 0) return scale_c_with_epilogue(M, N, out);
  const int threads = threads_for(M, N, K, pool);
  const Blocking bl = blocking_for(kern, K);
  const TileGrid g = plan_tiles(kern, bl, M, N, threads);
  const int64_t m_panels = (M + kern.mr - 1) / kern.mr;
  const int64_t tile_rows = (m_panels + g.m_tiles - 1) / g.m_tiles * kern.mr;
  const bool gemv = M == 1 && kern.gemv && (!a.trans || a.lda == 1);
  if (gemv || (g.n_tiles == 1 && N <= bl.nc && tile_rows <= bl.mc)) {
    return run_grid(kern, bl, g, threads, M, N, K, nullptr, &a, b, out, pool);
  }
  float* packed_a = t_a_scratch.floats(static_cast<size_t>(round_up(M, kern.mr) * K));
  pack_a(kern, a.trans, M, K, a.a, a.lda, packed_a, pool);
  run_grid(kern, bl, g, threads, M, N, K, packed_a, nullptr, b, out, pool);
}

void scale_c_with_epilogue(int64_t M, int64_t N, const GemmOutput& out) {
  const KilnGemmEpilogue& ep = out.epilogue;
  for (int64_t m = 0; m < M; ++m) {
    float* c = out.c + m * out.ldc;
    for (int64_t n = 0; n < N; ++n) {
      float v = out.beta != 0.0f ? c[n] * out.beta : 0.0f;
      if (ep.row_bias) v += ep.row_bias[m];
      if (ep.column_bias) v += ep.column_bias[n];
      if (ep.relu) v = std::max(v, 0.0f);
      c[n] = v;
    }
  }
  if (ep.post) ep.post(ep.post_closure, out.c, out.ldc, M, N);
}

}  // namespace kiln::cpu
