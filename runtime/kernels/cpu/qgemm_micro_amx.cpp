// AMX int8 tile (Sapphire Rapids and later): TDPBUSD / TDPBSUD multiply a rows x 64-byte tile of
// the row operand by a 16 x 64-byte tile of the panel, 16 rows x 16 columns x 64 K per
// instruction. The packed panel ([K/4][32 columns][4 bytes]) is already AMX's B layout: two
// tiles of 16 columns read with a 128-byte row stride. Up to kQMRAmx rows per call.
// Also the direct stride-1 convolution (qconv_direct_amx), which needs no im2col at all.
#include <immintrin.h>

#include <algorithm>
#include <cstdint>
#include <cstring>

#include "runtime/kernels/cpu/qconv_finish_avx512.h"
#include "runtime/kernels/cpu/qgemm_kernel.h"
#include "runtime/kernels/cpu/qgemm_util.h"
#include "runtime/threadpool/thread_pool.h"

namespace kiln::cpu {
namespace {

constexpr int64_t kQBlocksPerTask = 8;

// ldtilecfg's 64-byte operand (palette 1).
struct alignas(64) TileConfig {
  uint8_t palette = 1;
  uint8_t start_row = 0;
  uint8_t reserved[14] = {};
  uint16_t colsb[16] = {};
  uint8_t rows[16] = {};
};

// Tiles: 0, 1 = C (two 16-column halves); 2 = A (64 K); 3, 4 = B halves (64 K);
// 5 = A remainder (4 * rem K); 6, 7 = B remainder halves (rem K groups).
//
// GCC 12's intrinsics describe LDTILECFG as reading 8 bytes of the config and TILELOADD as
// reading no memory at all, so without the compiler barriers below the stores filling the
// config (and any data a tile load reads) may be deleted or sunk past the instruction: at -O2
// the config's rows/colsb stores were dropped and TILEZERO faulted with #UD.
// LDTILECFG is slow (it also zeroes every tile) and stalls the tile operations after it, so a
// thread keeps its last configuration and reloads only when the shape changes (nothing else in
// the process configures or releases tiles; the OS keeps the tile state per thread).
void configure(int nrows, int rem) {
  thread_local int t_nrows = -1, t_rem = -1;
  if (nrows == t_nrows && rem == t_rem) return;
  t_nrows = nrows;
  t_rem = rem;
  TileConfig c;
  const auto set = [&](int t, int rows, int bytes) {
    c.rows[t] = static_cast<uint8_t>(rows);
    c.colsb[t] = static_cast<uint16_t>(bytes);
  };
  set(0, nrows, 64);
  set(1, nrows, 64);
  set(2, nrows, 64);
  set(3, 16, 64);
  set(4, 16, 64);
  if (rem > 0) {
    set(5, nrows, 4 * rem);
    set(6, rem, 64);
    set(7, rem, 64);
  }
  __asm__ volatile("" : : "r"(&c) : "memory");  // the whole config is in memory now
  _tile_loadconfig(&c);
  __asm__ volatile("" : : : "memory");  // and so is everything the tile loads will read
}

template <bool RowsSigned>
void tile(const uint8_t* rows, int64_t rs, int nrows, const uint8_t* panel, int64_t kq,
          int32_t* acc) {
  const int64_t full = kq / 16, rem = kq % 16;
  configure(nrows, static_cast<int>(rem));
  _tile_zero(0);
  _tile_zero(1);
  for (int64_t b = 0; b < full; ++b) {
    _tile_loadd(2, rows + 64 * b, rs);
    _tile_loadd(3, panel + b * 16 * 128, 128);
    _tile_loadd(4, panel + b * 16 * 128 + 64, 128);
    if constexpr (RowsSigned) {
      _tile_dpbsud(0, 2, 3);
      _tile_dpbsud(1, 2, 4);
    } else {
      _tile_dpbusd(0, 2, 3);
      _tile_dpbusd(1, 2, 4);
    }
  }
  if (rem > 0) {
    _tile_loadd(5, rows + 64 * full, rs);
    _tile_loadd(6, panel + full * 16 * 128, 128);
    _tile_loadd(7, panel + full * 16 * 128 + 64, 128);
    if constexpr (RowsSigned) {
      _tile_dpbsud(0, 5, 6);
      _tile_dpbsud(1, 5, 7);
    } else {
      _tile_dpbusd(0, 5, 6);
      _tile_dpbusd(1, 5, 7);
    }
  }
  _tile_stored(0, acc, kQNR * 4);
  _tile_stored(1, acc + 16, kQNR * 4);
}

// One 16-row block of output channels times 32 consecutive positions q of the wide output
// grid (see qgemm_kernel.h): C0 covers q0..q0+15, C1 q0+16..q0+31.
void direct_block(const QConvAmxArgs& a, const uint8_t* image, const uint8_t* w, int nrows,
                  int64_t q0, int32_t* acc) {
  const int64_t full = a.G / 16, rem = a.G % 16;
  const int64_t plane_bytes = a.plane_words * 4;
  configure(nrows, static_cast<int>(rem));
  _tile_zero(0);
  _tile_zero(1);
  for (int64_t kh = 0; kh < a.KH; ++kh)
    for (int64_t kw = 0; kw < a.KW; ++kw) {
      const uint8_t* wt = w + (kh * a.KW + kw) * a.G * 4;
      const uint8_t* x = image + (q0 + kh * a.dil_h * a.Wp + kw * a.dil_w) * 4;
      for (int64_t b = 0; b < full; ++b) {
        _tile_loadd(2, wt + 64 * b, a.K);
        _tile_loadd(3, x + b * 16 * plane_bytes, plane_bytes);
        _tile_loadd(4, x + b * 16 * plane_bytes + 64, plane_bytes);
        _tile_dpbsud(0, 2, 3);
        _tile_dpbsud(1, 2, 4);
      }
      if (rem > 0) {
        _tile_loadd(5, wt + 64 * full, a.K);
        _tile_loadd(6, x + full * 16 * plane_bytes, plane_bytes);
        _tile_loadd(7, x + full * 16 * plane_bytes + 64, plane_bytes);
        _tile_dpbsud(0, 5, 6);
        _tile_dpbsud(1, 5, 7);
      }
    }
  _tile_stored(0, acc, kQNR * 4);
  _tile_stored(1, acc + 16, kQNR * 4);
}

// The task loop of qconv_direct_amx for one finish mode (kFin false: f32 output through
// dequantize_rows and `post`). Software-pipelined: the tiles of block i + 1 are computed into
// the other accumulator buffer before block i is finished, so the AMX unit works while the
// vector units finish.
template <bool kFin, bool kU8, int kZ>
void direct_tasks(const QConvAmxArgs& a, const QEpilogue& e, float* Y, const FinishVec& F,
                  int64_t t0, int64_t t1) {
  const int64_t P = a.OH * a.OW, Q = a.OH * a.Wp;
  const int64_t qblocks = (Q + kQNR - 1) / kQNR, mblocks = (a.M + kQMRAmx - 1) / kQMRAmx;
  const int64_t qtasks = (qblocks + kQBlocksPerTask - 1) / kQBlocksPerTask;
  alignas(64) int32_t acc[2][kQMRMax * kQNR];
  for (int64_t t = t0; t < t1; ++t) {
    const int64_t qt = t % qtasks, mb = (t / qtasks) % mblocks, n = t / (qtasks * mblocks);
    const int64_t m0 = mb * kQMRAmx;
    const int nrows = static_cast<int>(std::min<int64_t>(kQMRAmx, a.M - m0));
    const uint8_t* image = a.planes + n * a.G * a.plane_words * 4;
    const uint8_t* w = a.weights + m0 * a.K;
    const int64_t y0 = (n * a.M + m0) * P;
    const int64_t qb0 = qt * kQBlocksPerTask, qb1 = std::min(qblocks, qb0 + kQBlocksPerTask);
    direct_block(a, image, w, nrows, qb0 * kQNR, acc[0]);
    for (int64_t qb = qb0; qb < qb1; ++qb) {
      const int64_t q0 = qb * kQNR;
      const int32_t* cur = acc[(qb - qb0) & 1];
      if (qb + 1 < qb1) direct_block(a, image, w, nrows, q0 + kQNR, acc[(qb + 1 - qb0) & 1]);
      if (a.Wp == a.OW) {  // no padded columns (1x1, no padding): q is the output index
        const int cols = static_cast<int>(std::min<int64_t>(kQNR, Q - q0));
        if constexpr (kFin) finish_tile_rows<kU8, kZ>(cur, nrows, cols, e, m0, F, y0 + q0, P);
        else dequantize_rows(cur, nrows, cols, e, m0, Y + y0 + q0, P);
        continue;
      }
      // Columns q with q % Wp < OW are outputs; store them as runs within an output row.
      for (int64_t j = 0; j < kQNR && q0 + j < Q;) {
        const int64_t q = q0 + j, oh = q / a.Wp, ow = q % a.Wp;
        if (ow >= a.OW) {
          j += a.Wp - ow;
          continue;
        }
        const int64_t run_len = std::min<int64_t>({a.OW - ow, kQNR - j, Q - q});
        const int64_t off = y0 + oh * a.OW + ow;
        if constexpr (kFin) {  // u8 / residual outputs, finished in registers
          finish_tile_rows<kU8, kZ>(cur + j, nrows, static_cast<int>(run_len), e, m0, F, off, P);
        } else {
          dequantize_rows(cur + j, nrows, static_cast<int>(run_len), e, m0, Y + off, P);
        }
        j += run_len;
      }
    }
  }
}

}  // namespace

void qconv_direct_amx(const QConvAmxArgs& a, const QEpilogue& e, float* Y, ThreadPool* pool) {
  const int64_t Q = a.OH * a.Wp;
  const int64_t qblocks = (Q + kQNR - 1) / kQNR, mblocks = (a.M + kQMRAmx - 1) / kQMRAmx;
  // Tasks: (image, 16-channel block, run of kQBlocksPerTask q-blocks); each output element is
  // computed by one task in a fixed order, so results do not depend on the split.
  const int64_t qtasks = (qblocks + kQBlocksPerTask - 1) / kQBlocksPerTask;
  FinishVec fv{};
  if (e.fin) fv = finish_vec(*e.fin);
  const auto run = [&](int64_t t0, int64_t t1) {
    if (!e.fin) return direct_tasks<false, false, 0>(a, e, Y, fv, t0, t1);
    with_finish_mode(fv, [&](auto u8, auto zk) {
      direct_tasks<true, u8(), zk()>(a, e, Y, fv, t0, t1);
    });
  };
  const int64_t tasks = a.N * mblocks * qtasks;
  if (pool && tasks > 1)
    pool->parallel_for(tasks, run);
  else
    run(0, tasks);
}

void qtile_amx(const uint8_t* rows, int64_t row_stride, int nrows, const uint8_t* panel, int64_t kq,
               bool rows_signed, int32_t* acc) {
  if (rows_signed)
    tile<true>(rows, row_stride, nrows, panel, kq, acc);
  else
    tile<false>(rows, row_stride, nrows, panel, kq, acc);
}

}  // namespace kiln::cpu
