// Winograd F(2x2, 3x3) convolution driver: the weight transform, the zero-bordered source rows
// of each work item, the per-thread V / M buffers, `post` on finished rows, and the split of
// (image, tile-row chunk) items over threads.
#include "runtime/kernels/cpu/conv_winograd.h"

#include <algorithm>
#include <cstring>

#include "runtime/kernels/cpu/sgemm_pack.h"
#include "runtime/threadpool/thread_pool.h"

namespace kiln::cpu {

namespace {

thread_local ScratchBuffer t_source, t_transformed, t_products;
constexpr int64_t kMinParallelMacs = int64_t{1} << 20;
// Tiles per work item, about: three 16-tile vectors per GEMM register tile.
constexpr int64_t kItemTiles = 48;
// Transformed weights above this outgrow L2 (see winograd_streams_weights).
constexpr int64_t kStreamedWeightBytes = int64_t{3} << 19;  // 1.5 MiB

}  // namespace

bool winograd_conv_supported(const KilnConv2dShape& s) {
  return s.KH == 3 && s.KW == 3 && s.stride_h == 1 && s.stride_w == 1 && s.dilation_h == 1 &&
         s.dilation_w == 1 && s.group == 1;
}

size_t winograd_packed_floats(const KilnConv2dShape& s) {
  return static_cast<size_t>(16 * round_up(s.M, 8) * s.C);
}

// U = G g G^T per (m, c), G = [1 0 0; 1/2 1/2 1/2; 1/2 -1/2 1/2; 0 0 1], stored per xi as
// blocks of 8 output channels: U[xi][m / 8][c][m % 8] (zero for m >= M).
void pack_winograd_weights(const KilnConv2dShape& s, const float* weights, float* packed) {
  const int64_t blocks = round_up(s.M, 8) / 8;
  std::fill(packed, packed + winograd_packed_floats(s), 0.0f);
  for (int64_t m = 0; m < s.M; ++m) {
    for (int64_t c = 0; c < s.C; ++c) {
      const float* g = weights + (m * s.C + c) * 9;
      double gg[4][3];  // G g
      for (int k = 0; k < 3; ++k) {
        gg[0][k] = g[k];
        gg[1][k] = 0.5 * (static_cast<double>(g[k]) + g[3 + k] + g[6 + k]);
        gg[2][k] = 0.5 * (static_cast<double>(g[k]) - g[3 + k] + g[6 + k]);
        gg[3][k] = g[6 + k];
      }
      for (int r = 0; r < 4; ++r) {
        const double u[4] = {gg[r][0], 0.5 * (gg[r][0] + gg[r][1] + gg[r][2]),
                             0.5 * (gg[r][0] - gg[r][1] + gg[r][2]), gg[r][2]};
        for (int k = 0; k < 4; ++k) {
          packed[(((4 * r + k) * blocks + m / 8) * s.C + c) * 8 + m % 8] = static_cast<float>(u[k]);
        }
      }
    }
  }
}

bool winograd_streams_weights(const KilnConv2dShape& s) {
  return static_cast<int64_t>(winograd_packed_floats(s) * sizeof(float)) > kStreamedWeightBytes;
}

void winograd_conv(const KilnConv2dShape& s, int64_t out_h, int64_t out_w, const float* packed,
                   const float* x, const KilnGemmEpilogue& ep, const float* residual, float* y,
                   ThreadPool* pool) {
  const int64_t tiles_h = (out_h + 1) / 2, tiles_w = (out_w + 1) / 2;
  const int64_t P = out_h * out_w, Mp = round_up(s.M, 8), blocks = Mp / 8;
  if (s.N * s.M * P * s.C * 9 < kMinParallelMacs) pool = nullptr;
  const int threads = pool ? pool->num_threads() : 1;
  const bool streamed = winograd_streams_weights(s);

  // Items: (image, chunk of tile rows) of about kItemTiles tiles. When they are fewer than a
  // few per thread, the chunk count that splits evenly over the threads with the fewest
  // 16-tile vectors (partly empty vectors cost whole ones), plus one per item for the
  // per-item work. Streamed weights: whole images instead, their 8-channel blocks split
  // evenly over the threads.
  const int64_t rows_per_item = std::max<int64_t>(1, kItemTiles / tiles_w);
  int64_t chunk_rows = streamed ? tiles_h : std::min(tiles_h, rows_per_item);
  const int64_t m_chunks = streamed ? std::min<int64_t>(blocks, threads) : 1;
  if (!streamed && threads > 1 && s.N * ((tiles_h + chunk_rows - 1) / chunk_rows) < 4 * threads) {
    int64_t best = -1;
    for (int64_t rows = 1; rows <= tiles_h; ++rows) {
      const int64_t c = (tiles_h + rows - 1) / rows;
      if ((s.N * c) % threads != 0) continue;
      const int64_t cost = c * ((rows * tiles_w + 15) / 16 + 1);
      if (best < 0 || cost < best) best = cost, chunk_rows = rows;
    }
  }
  const int64_t chunks = (tiles_h + chunk_rows - 1) / chunk_rows;
  const int64_t items = s.N * chunks * m_chunks;

  // Unpadded on the top and left: the kernel reads the image itself (masked at its right
  // and bottom edges); else each item copies its zero-bordered rows. Copied planes are an odd
  // number of cache lines apart, so the rows a tile row reads spread over the L1 sets.
  const bool in_place = s.pad_top == 0 && s.pad_left == 0;
  const int64_t src_cols = std::min(2 * tiles_w + 2, s.W + s.pad_left + s.pad_right);
  const int64_t src_row = round_up(src_cols, 16);
  const int64_t src_plane = (round_up((2 * chunk_rows + 2) * src_row, 16) / 16 | 1) * 16;
  const int64_t Tp = round_up(chunk_rows * tiles_w + 16, 16);
  const int64_t item_mp = (blocks + m_chunks - 1) / m_chunks * 8;  // the most channels per item
  const int64_t Vs = (s.C * Tp / 16 | 1) * 16, Ms = (item_mp * Tp / 16 | 1) * 16;

  auto run = [&](int64_t begin, int64_t end) {
    float* src = in_place ? nullptr : t_source.floats(static_cast<size_t>(s.C * src_plane));
    float* V = t_transformed.floats(static_cast<size_t>(16 * Vs));
    float* M = t_products.floats(static_cast<size_t>(16 * Ms));
    int64_t transformed = -1;  // item / m_chunks of the tiles in V
    for (int64_t item = begin; item < end; ++item) {
      const int64_t rows_item = item / m_chunks, mi = item % m_chunks;
      const int64_t n = rows_item / chunks, ci = rows_item % chunks;
      const int64_t i0 = ci * chunk_rows, i1 = std::min(tiles_h, i0 + chunk_rows);
      const int64_t b0 = blocks * mi / m_chunks, b1 = blocks * (mi + 1) / m_chunks;
      if (b0 == b1) continue;
      const int64_t rows = 2 * (i1 - i0) + 2;  // patch rows the item reads
      WinogradItem it{};
      if (in_place) {
        it.src = x + (n * s.C * s.H + 2 * i0) * s.W;
        it.src_row = s.W;
        it.src_plane = s.H * s.W;
        it.src_rows = std::min(rows, s.H - 2 * i0);
        it.src_cols = s.W;
      } else if (rows_item != transformed) {
        // Zero-bordered rows 2 * i0 - pad_top .. of every channel.
        for (int64_t c = 0; c < s.C; ++c) {
          for (int64_t r = 0; r < rows; ++r) {
            float* d = src + c * src_plane + r * src_row;
            const int64_t ih = 2 * i0 + r - s.pad_top;
            if (ih < 0 || ih >= s.H) {
              std::fill(d, d + src_cols, 0.0f);
              continue;
            }
            std::fill(d, d + s.pad_left, 0.0f);
            std::memcpy(d + s.pad_left, x + ((n * s.C + c) * s.H + ih) * s.W,
                        sizeof(float) * static_cast<size_t>(s.W));
            std::fill(d + s.pad_left + s.W, d + src_cols, 0.0f);
          }
        }
        it.src = src;
        it.src_row = src_row;
        it.src_plane = src_plane;
        it.src_rows = rows;
        it.src_cols = src_cols;
      }
      it.C = s.C;
      it.Mp = (b1 - b0) * 8;
      it.tiles_w = tiles_w;
      it.tile_rows = i1 - i0;
      it.T = (i1 - i0) * tiles_w;
      it.Tp = Tp;
      it.V = V;
      it.Vs = Vs;
      it.M = M;
      it.Ms = Ms;
      it.U = packed + b0 * s.C * 8;
      it.u_blocks = blocks;
      // The thread's items of one tile-row chunk differ only in their channels.
      if (rows_item != transformed) winograd_input_avx512(it), transformed = rows_item;
      winograd_gemm_avx512(it);
      WinogradOut o{};
      const int64_t row0 = 2 * i0;
      const int64_t m0 = 8 * b0;
      o.y = y + (n * s.M + m0) * P + row0 * out_w;
      o.res = residual ? residual + (n * s.M + m0) * P + row0 * out_w : nullptr;
      o.bias = ep.row_bias ? ep.row_bias + m0 : nullptr;
      o.ldy = P;
      o.out_w = out_w;
      o.rows = std::min(2 * (i1 - i0), out_h - row0);
      o.channels = static_cast<int>(std::min(s.M, 8 * b1) - m0);
      o.relu = ep.relu != 0;
      winograd_output_avx512(it, o);
      if (ep.post) ep.post(ep.post_closure, o.y, P, o.channels, o.rows * out_w);
    }
  };
  if (threads > 1 && items > 1) {
    pool->parallel_for(items, run);
  } else {
    run(0, items);
  }
}

}  // namespace kiln::cpu
