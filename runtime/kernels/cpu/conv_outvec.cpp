// Output-channel-vectorized direct convolution: the path rule, the weight panels, the tile
// shapes, the zero-bordered source, and the split of (channel panels x output rows) over
// threads.
#include "runtime/kernels/cpu/conv_outvec.h"

#include <algorithm>
#include <stdexcept>
#include <atomic>
#include <cstring>
#include <vector>

#include "runtime/kernels/cpu/conv_direct.h"
#include "runtime/kernels/cpu/conv_fewtaps.h"
#include "runtime/kernels/cpu/conv_pointwise.h"
#include "runtime/kernels/cpu/conv_winograd.h"
#include "runtime/kernels/cpu/sgemm_pack.h"
#include "runtime/threadpool/thread_pool.h"

namespace kiln::cpu {

namespace {

thread_local ScratchBuffer t_padded;
std::atomic<int32_t> g_forced{0};
constexpr int64_t kMinParallelMacs = int64_t{1} << 20;
// Packed weights above this stream from memory on every inference (see Plan::stream_weights).
constexpr size_t kStreamedWeightBytes = size_t{2} << 20;
// Output rows per work item: the input rows they read (all channels of the group) stay
// within about this many bytes, so they are reused from L2 by every channel panel.
constexpr int64_t kRowChunkBytes = int64_t{256} << 10;
// Output pixels (per channel) per `post` call, at least (or the item's rows).
constexpr int64_t kPostPixels = 256;
// 1x1 stride-1 convs over more output pixels than this go to the SGEMM (see the rule).
constexpr int64_t kPointwiseGemmPixels = 256;
// AVX-512 1x1 convs with more weight bytes than this (and planes above 8x8), and AVX2 convs
// with more than kAvx2WeightBytes, go to the SGEMM (see the rule).
constexpr int64_t kAvx512PointwiseWeightBytes = int64_t{3} << 19;  // 1.5 MiB
constexpr int64_t kAvx2WeightBytes = int64_t{768} << 10;
// The Winograd path's bounds (see the rule).
constexpr int64_t kWinogradMinWidth = 16;
constexpr size_t kWinogradMaxWeightBytes = size_t{3} << 19;  // 1.5 MiB
// Streamed weights (winograd_streams_weights): planes at least this wide, up to this many
// transformed weight bytes, while one image's transformed input stays within
// kWinogradMaxWeightBytes.
constexpr int64_t kWinogradStreamedMinWidth = 14;
constexpr size_t kWinogradMaxStreamedBytes = size_t{9} << 19;  // 4.5 MiB

bool pointwise_stride1(const KilnConv2dShape& s) {
  return s.KH == 1 && s.KW == 1 && s.stride_h == 1 && s.stride_w == 1 && s.pad_top == 0 &&
         s.pad_left == 0 && s.pad_bottom == 0 && s.pad_right == 0;
}

struct Blocking {
  int co;    // panels per tile
  int rows;  // output rows per tile: 2 when whole rows are narrow enough
  int pmax;  // widest pixel run per tile row
};

// Vector registers, and how many a tile of co panels x p pixels may use for accumulators.
int vector_registers(Isa isa) { return isa == Isa::Avx512 ? 32 : 16; }

// Estimated cycles per tap of one (co, p) tile: 2 FMAs and 2 loads per cycle, and at least
// the FMA latency (4) per tap when there are fewer than 8 accumulator chains. When the
// accumulators and weights leave no register for the broadcast, every FMA loads its own.
// Weight panels too big for L1 stream from L2 at about 12 bytes per cycle (measured: 3x3
// 512->512 on 7x7 with 2 x 7 tiles ran at 66% of peak).
double tap_cycles(Isa isa, int co, int p, bool weights_in_l1) {
  const bool own_register = co * p + co + 1 <= vector_registers(isa);
  const double loads = co + (own_register ? p : p * co);
  const double l2 = weights_in_l1 ? 0.0 : co * 4.0 * outvec_lanes(isa) / 12.0;
  return std::max({co * p / 2.0, loads / 2.0, 4.0, l2});
}

// The tile shape with the fewest estimated cycles per output row over all channel panels;
// ties go to the earlier candidate (fewer panels, single rows).
Blocking pick_blocking(Isa isa, int64_t panels, int64_t kg, int64_t out_h, int64_t out_w) {
  Blocking best{1, 1, 1};
  double best_cost = 1e300;
  for (int co = 1; co <= kOutvecMaxPanels; ++co) {
    if (co > panels && co > 1) break;
    const int pmax = outvec_max_pixels(isa, co);
    auto in_l1 = [&](int c) { return c * outvec_lanes(isa) * kg * 4 <= (32 << 10); };
    for (int rows = 1; rows <= 2; ++rows) {
      if (rows == 2 && (out_h < 2 || 2 * out_w > pmax)) break;
      const int64_t runs = (out_w + pmax - 1) / pmax;  // tiles per row, near-equal widths
      const int64_t wide = (out_w + runs - 1) / runs, narrow = out_w / runs;
      const int64_t n_wide = out_w - narrow * runs;
      auto row_cost = [&](int c) {
        const double w = tap_cycles(isa, c, static_cast<int>(rows * wide), in_l1(c));
        const double n =
            narrow > 0 ? tap_cycles(isa, c, static_cast<int>(rows * narrow), in_l1(c)) : 0.0;
        return (static_cast<double>(n_wide) * w + static_cast<double>(runs - n_wide) * n) / rows;
      };
      double cost = static_cast<double>(panels / co) * row_cost(co);
      if (panels % co) cost += row_cost(static_cast<int>(panels % co));
      if (cost < best_cost - 1e-9) best = {co, rows, static_cast<int>(wide)}, best_cost = cost;
    }
  }
  return best;
}

}  // namespace

void outvec_tile_shape(const KilnConv2dShape& s, Isa isa, int64_t out_h, int64_t out_w, int* co,
                       int* rows, int* pixels) {
  const int64_t L = outvec_lanes(isa), panels = (s.M / s.group + L - 1) / L;
  const Blocking b = pick_blocking(isa, panels, (s.C / s.group) * s.KH * s.KW, out_h, out_w);
  *co = b.co, *rows = b.rows, *pixels = b.pmax;
}

int outvec_lanes(Isa isa) { return isa == Isa::Avx512 ? 16 : 8; }

int outvec_max_pixels(Isa isa, int co) {
  static constexpr int avx512[kOutvecMaxPanels] = {28, 14, 9};
  static constexpr int avx2[kOutvecMaxPanels] = {12, 6, 4};
  return (isa == Isa::Avx512 ? avx512 : avx2)[co - 1];
}

bool outvec_conv_supported(const KilnConv2dShape& s, Isa isa) {
  return (isa == Isa::Avx512 || isa == Isa::Avx2) && (s.stride_w == 1 || s.stride_w == 2);
}

void force_dense_conv_path(const DenseConvPath* path) {
  g_forced = path ? static_cast<int32_t>(*path) : 0;
}

DenseConvPath pick_dense_conv_path(const KilnConv2dShape& s, Isa isa) {
  const bool outvec = outvec_conv_supported(s, isa);
  const bool pixel_direct = isa == Isa::Avx512 && direct_conv_preferred(s);
  const bool fewtaps = isa == Isa::Avx512 && fewtaps_conv_supported(s);
  const bool winograd = isa == Isa::Avx512 && winograd_conv_supported(s);
  switch (static_cast<DenseConvPath>(g_forced.load())) {
    case DenseConvPath::Gemm:
      return DenseConvPath::Gemm;
    case DenseConvPath::PixelDirect:
      if (isa == Isa::Avx512) return DenseConvPath::PixelDirect;
      break;
    case DenseConvPath::OutVec:
      if (outvec) return DenseConvPath::OutVec;
      break;
    case DenseConvPath::FewTaps:
      if (fewtaps) return DenseConvPath::FewTaps;
      break;
    case DenseConvPath::Winograd:
      if (winograd) return DenseConvPath::Winograd;
      break;
  }
  // The rule, from kiln_bench_kernels --conv-ab [--avx2] on the dense layers of ResNet-18/50,
  // MobileNetV2 and the MNIST CNN (1 thread). AVX-512: the outvec kernel wins on every KxK
  // conv (stride 1 or 2, stems included, 7x7 to 224x224 planes) and on 1x1 convs over small
  // planes or strided; 1x1 stride-1 convs over big planes stay with the SGEMM (its B panels
  // come straight from X and serve many output channels) unless the output channels are too
  // few for it, and so do 1x1 convs whose weights outgrow L2 (the SGEMM packs them in
  // cache-sized blocks) unless their output planes are tiny (7x7, 8x8). AVX2 has half the registers, so each weight vector serves fewer
  // pixels: the outvec kernel wins only while the weights stay in L2, and loses on 1x1
  // stride-1 convs unless they have at most 16 output channels.
  if (!outvec) return pixel_direct ? DenseConvPath::PixelDirect : DenseConvPath::Gemm;
  const int64_t mg = s.M / s.group;
  const int64_t weight_bytes = 4 * s.M * (s.C / s.group) * s.KH * s.KW;
  const bool one_by_one = s.KH == 1 && s.KW == 1;
  if (isa == Isa::Avx512) {
    // KxK convs with at most 16 taps per output spend more in the outvec tiles' transposes
    // and stores than in their FMAs (MNIST's 3x3 over one channel, 1->32 at 28x28, 1 thread:
    // few-taps 0.0028 vs outvec 0.0055 ms at b1, 0.255 vs 0.34 at b64).
    if (fewtaps && s.KH * s.KW > 1) return DenseConvPath::FewTaps;
    // 3x3 stride-1 convs over planes at least 16 wide whose transformed weights stay in L2:
    // Winograd F(2x2, 3x3), 2.25x fewer FMAs (1 thread, same run: MNIST 32->64 at 26x26
    // 0.068 vs outvec 0.103 ms, at b64 5.2 vs 6.6; ResNet-18's 64->64 at 56x56 0.80 vs 1.17,
    // 128->128 at 28x28 0.71 vs 1.13). Narrower planes leave too few tiles per work item (and
    // 16-lane vectors half empty), bigger weights stream from memory once per item. Weights
    // up to 4.5 MiB stream once per image (whole-image items) where that image's transformed
    // input fits beside them in L2: ResNet's 256->256 at 14x14, per layer in the models, 1
    // thread: 0.88-0.93 vs outvec 1.08-1.12 ms (ResNet-50), 0.76 vs 1.02 (ResNet-18); 2
    // threads 0.47-0.50 vs 0.57-0.59. 512->512 at 7x7 (16 MiB) stays with outvec (2.5 vs 1.4 ms
    // in the model).
    if (winograd) {
      const int64_t ow = s.W + s.pad_left + s.pad_right - 2;
      const int64_t oh = s.H + s.pad_top + s.pad_bottom - 2;
      const size_t weight_bytes = winograd_packed_floats(s) * sizeof(float);
      const size_t image_input_bytes =
          sizeof(float) * 16 * s.C * round_up((ow + 1) / 2 * ((oh + 1) / 2) + 16, 16);
      if (ow >= kWinogradMinWidth && weight_bytes <= kWinogradMaxWeightBytes) {
        return DenseConvPath::Winograd;
      }
      if (winograd_streams_weights(s) && ow >= kWinogradStreamedMinWidth &&
          weight_bytes <= kWinogradMaxStreamedBytes &&
          image_input_bytes <= kWinogradMaxWeightBytes) {
        return DenseConvPath::Winograd;
      }
    }
    // The GEMM path runs those with X read in place when K <= kPointwiseRowsMaxK
    // (conv_pointwise.h), which also beats the outvec kernel on few output channels.
    if (pointwise_stride1(s) && s.H * s.W > kPointwiseGemmPixels &&
        (mg > 16 || s.C / s.group <= kPointwiseRowsMaxK)) {
      return DenseConvPath::Gemm;
    }
    if (one_by_one && weight_bytes > kAvx512PointwiseWeightBytes) {
      const int64_t oh = (s.H + s.pad_top + s.pad_bottom - 1) / s.stride_h + 1;
      const int64_t ow = (s.W + s.pad_left + s.pad_right - 1) / s.stride_w + 1;
      // Strided ones too: their im2col B is a cheap gather of few pixels (1024->2048/2 at
      // 14x14: SGEMM 1.20 vs outvec 1.50 ms).
      if (oh * ow > 64 || s.stride_h > 1 || s.stride_w > 1) return DenseConvPath::Gemm;
    }
    return DenseConvPath::OutVec;
  }
  if ((pointwise_stride1(s) && mg > 16) || weight_bytes > kAvx2WeightBytes) {
    return DenseConvPath::Gemm;
  }
  return DenseConvPath::OutVec;
}

size_t outvec_packed_floats(const KilnConv2dShape& s, Isa isa) {
  const int64_t L = outvec_lanes(isa);
  const int64_t mg = s.M / s.group, kg = (s.C / s.group) * s.KH * s.KW;
  return static_cast<size_t>(s.group * ((mg + L - 1) / L) * kg * L);
}

// Per group, panels of L output channels, k-major: panel[k * L + l] = W[m0 + l, k].
void pack_outvec_weights(const KilnConv2dShape& s, Isa isa, const float* weights, float* packed) {
  const int64_t L = outvec_lanes(isa);
  const int64_t mg = s.M / s.group, kg = (s.C / s.group) * s.KH * s.KW;
  const int64_t panels = (mg + L - 1) / L;
  for (int64_t g = 0; g < s.group; ++g) {
    for (int64_t p = 0; p < panels; ++p) {
      float* d = packed + (g * panels + p) * kg * L;
      for (int64_t k = 0; k < kg; ++k) {
        for (int64_t l = 0; l < L; ++l) {
          const int64_t m = p * L + l;
          d[k * L + l] = m < mg ? weights[(g * mg + m) * kg + k] : 0.0f;
        }
      }
    }
  }
}

namespace {

struct Plan {
  const KilnConv2dShape& s;
  Isa isa;
  int64_t L, out_h, out_w, cg, mg, kg, panels, P;
  Blocking blk;
  int64_t co_groups;
  bool padded;
  // Whether tiles prefetch the next tile's input (OutvecTile::xnext): only with several
  // threads, when the input may sit in another core's cache (1 thread, MobileNetV2: 1.4%
  // slower with it; 2 threads: 2% faster).
  bool prefetch_input = false;
  // Weights bigger than L2 (they come from memory on every inference): each tile prefetches
  // an even share of the next panel group's lines, instead of the first tiles prefetching a
  // panel each. ResNet-50's layer4 (4-9 MiB), 1 thread: 512->2048 at 7x7 -7%, 3x3/2 512->512
  // -4%; below L2 (MobileNetV2) the even share was 1.4% slower.
  bool stream_weights = false;
  // Taps [k0, k1) only, and when `partial`, plain sums (no bias, ReLU, residual or post): one
  // half of a split-K conv (see outvec_conv).
  int64_t k0 = 0, k1 = 0;
  bool partial = false;
  int64_t ksplit = 0;  // OutvecTile::ksplit: split-K's halves within each tile (one thread)
  int64_t sw_cols;       // floats per source row (W plus the left and right pads)
  int64_t chan_stride;   // floats between channels of the source
  std::vector<int64_t> off;                   // tap offsets from a pixel's top-left tap
  std::vector<std::pair<int64_t, int>> runs;  // per output row: (first column, pixels)

  Plan(const KilnConv2dShape& shape, Isa i, int64_t oh, int64_t ow)
      : s(shape), isa(i), L(outvec_lanes(i)), out_h(oh), out_w(ow) {
    cg = s.C / s.group;
    mg = s.M / s.group;
    kg = cg * s.KH * s.KW;
    panels = (mg + L - 1) / L;
    P = out_h * out_w;
    blk = pick_blocking(isa, panels, kg, out_h, out_w);
    k1 = kg;
    co_groups = (panels + blk.co - 1) / blk.co;
    padded = s.pad_top || s.pad_left || s.pad_bottom || s.pad_right;
    sw_cols = s.W + s.pad_left + s.pad_right;
    const int64_t n = (out_w + blk.pmax - 1) / blk.pmax;
    for (int64_t r = 0, col = 0; r < n; ++r) {
      const int64_t end = out_w * (r + 1) / n;
      runs.emplace_back(col, static_cast<int>(end - col));
      col = end;
    }
  }

  // Source rows (zero-bordered coordinates) that output rows [r0, r1) read.
  int64_t source_rows(int64_t r0, int64_t r1) const {
    return (r1 - 1 - r0) * s.stride_h + (s.KH - 1) * s.dilation_h + 1;
  }

  void set_channel_stride(int64_t stride) {
    chan_stride = stride;
    off.resize(static_cast<size_t>(kg));
    for (int64_t c = 0; c < cg; ++c) {
      for (int64_t kh = 0; kh < s.KH; ++kh) {
        for (int64_t kw = 0; kw < s.KW; ++kw) {
          off[static_cast<size_t>((c * s.KH + kh) * s.KW + kw)] =
              c * chan_stride + kh * s.dilation_h * sw_cols + kw * s.dilation_w;
        }
      }
    }
  }

  // Channel-panel groups [c0, c1) x output rows [r0, r1) of image n, group g; `sg` is the
  // group's first source channel, its row 0 being source row `row0`. `after` (or null): the
  // first of `after_panels` weight panels the thread runs next, prefetched by group c1 - 1.
  void run(const float* packed, const float* sg, int64_t row0, int64_t n, int64_t g, int64_t c0,
           int64_t c1, int64_t r0, int64_t r1, const KilnGemmEpilogue& ep, const float* residual,
           float* y, const float* after, int64_t after_panels) const {
    const int64_t group_tiles =
        (r1 - r0 + blk.rows - 1) / blk.rows * static_cast<int64_t>(runs.size());
    float* yg = y + (n * s.M + g * mg) * P;
    const float* rg = residual ? residual + (n * s.M + g * mg) * P : nullptr;
    // Panel group cgi on output rows [r, r + rows); its tiles number `ti` onwards.
    auto step = [&](int64_t cgi, int64_t r, int64_t& ti) {
      const int64_t p0 = cgi * blk.co;
      const int co = static_cast<int>(std::min<int64_t>(blk.co, panels - p0));
      const int rows = static_cast<int>(std::min<int64_t>(blk.rows, r1 - r));
      OutvecTile t{};
      t.w = packed + (g * panels + p0) * kg * L + k0 * L;
      t.wstride = kg * L;
      t.xrow = s.stride_h * sw_cols;
      t.yrow = out_w;
      t.off = off.data() + k0;
      t.K = k1 - k0;
      t.ksplit = ksplit;
      t.ldy = P;
      t.channels = static_cast<int>(std::min<int64_t>(co * L, mg - p0 * L));
      t.bias = ep.row_bias && !partial ? ep.row_bias + g * mg + p0 * L : nullptr;
      t.relu = ep.relu != 0 && !partial;
      float* yc = yg + p0 * L * P + r * out_w;
      const float* row = sg + (r * s.stride_h - row0) * sw_cols;
      // The group's tiles prefetch the next group's weights, so they are in L2 when that group
      // starts (the last group: those of the thread's next item, split by panels, which would
      // otherwise start cold). Tile i takes panel i, one line per tap; weights streamed from
      // memory are shared out evenly over all tiles instead (Plan::stream_weights).
      const int64_t next = (cgi + 1) * blk.co;
      const float* next_w = packed + (g * panels + next) * kg * L + k0 * L;
      int64_t next_panels = cgi + 1 < c1 ? std::min<int64_t>(blk.co, panels - next) : 0;
      if (cgi + 1 == c1 && after) next_w = after, next_panels = after_panels;
      for (const auto& [col, px] : runs) {
        t.x = row + col * s.stride_w;
        t.y = yc + col;
        t.res = rg && !partial ? rg + p0 * L * P + r * out_w + col : nullptr;
        if (stream_weights && k0 == 0 && k1 == kg && next_panels > 0) {
          // The next group's panels (contiguous) shared out over all of this group's tiles,
          // so the misses to memory come at an even pace instead of in a burst.
          const int64_t total = next_panels * kg, n = group_tiles;
          const int64_t a = total * ti / n, b = total * (ti + 1) / n;
          t.prefetch = b > a ? next_w + a * L : nullptr;
          t.prefetch_lines = b - a;
        } else {
          t.prefetch = ti < next_panels && isa == Isa::Avx512 ? next_w + ti * kg * L : nullptr;
          t.prefetch_lines = t.K;
        }
        // The first panel group touches the item's input first: it prefetches the rows the
        // next tile down reads.
        t.xnext = prefetch_input && cgi == c0 && r + blk.rows < r1
                      ? t.x + blk.rows * s.stride_h * sw_cols
                      : nullptr;
        ++ti;
        if (isa == Isa::Avx512) {
          outvec_tile_avx512(co, rows, px, static_cast<int>(s.stride_w), t);
        } else {
          outvec_tile_avx2(co, rows, px, static_cast<int>(s.stride_w), t);
        }
      }
      return t.channels;
    };
    // Panel groups outer: their weights stay in L1 / L2 across the rows (rows outer, the
    // input staying in L1 instead, measured no faster on the ResNet / MNIST layers and 20%
    // slower where the weights outweigh the input).
    for (int64_t cgi = c0; cgi < c1; ++cgi) {
      // Finished rows go to `post` while they are still in L1 / L2, at least kPostPixels
      // per call: the generated epilogues loop per channel row, so a call per tile (say 48
      // channels x 28 pixels) costs more in overhead than the epilogue's arithmetic.
      int64_t post_from = r0, ti = 0;
      for (int64_t r = r0; r < r1; r += blk.rows) {
        const int channels = step(cgi, r, ti);
        const int64_t done = std::min(r1, r + blk.rows);
        if (ep.post && !partial && ((done - post_from) * out_w >= kPostPixels || done == r1)) {
          ep.post(ep.post_closure, yg + cgi * blk.co * L * P + post_from * out_w, P, channels,
                  (done - post_from) * out_w);
          post_from = done;
        }
      }
    }
  }

};

// Split-K: unpadded 1x1 convs over small planes with many input channels and fewer output
// channels than pixels (MobileNetV2's projections, 384 -> 64 at 14x14) run as two halves of
// the input channels, each over all pixels and output channels, summed after. Their input
// comes from a depthwise conv split by channel planes, so with 2 threads each half reads only
// what its own core wrote; split by pixels, every tile read half its rows from the other
// core's cache, hundreds of planes apart (MobileNetV2 at 2 threads: 384 -> 64 at 14x14 took
// 46 us split by pixels, 38 split by K). The halves are the same at any thread count (one
// thread sums them within each tile, OutvecTile::ksplit), so results do not depend on it.
constexpr int64_t kSplitKMaxPixels = 256;
constexpr int64_t kSplitKMinChannels = 128;
thread_local ScratchBuffer t_split;

void split_k_conv(const KilnConv2dShape& s, Plan& plan, const float* packed, const float* x,
                  const KilnGemmEpilogue& ep, const float* residual, float* y, ThreadPool* pool) {
  const int64_t P = plan.P, MP = s.M * P, in_image = s.C * s.H * s.W;
  plan.set_channel_stride(s.H * s.W);
  plan.partial = true;
  plan.prefetch_input = false;
  Plan half[2] = {plan, plan};
  half[0].k1 = half[1].k0 = s.C / 2;  // the depthwise conv's split of the planes at 2 threads
  float* part = t_split.floats(static_cast<size_t>(2 * s.N * MP));
  const KilnGemmEpilogue none{};
  auto run_half = [&](int64_t begin, int64_t end) {
    for (int64_t h = begin; h < end; ++h) {
      for (int64_t n = 0; n < s.N; ++n) {
        half[h].run(packed, x + n * in_image, 0, n, 0, 0, plan.co_groups, 0, plan.out_h, none,
                    nullptr, part + h * s.N * MP, nullptr, 0);
      }
    }
  };
  // The sum, split by pixels: each thread adds the other core's half for its pixels only.
  const int threads = pool ? pool->num_threads() : 1;
  const int64_t chunks = std::min<int64_t>(threads, (P + 15) / 16);
  auto reduce = [&](int64_t begin, int64_t end) {
    for (int64_t item = begin; item < end; ++item) {
      const int64_t n = item / chunks, c = item % chunks;
      const int64_t p0 = P * c / chunks / 16 * 16;
      const int64_t p1 = c + 1 == chunks ? P : P * (c + 1) / chunks / 16 * 16;
      if (p0 >= p1) continue;
      outvec_sum_halves_avx512(part + n * MP, part + (s.N + n) * MP, ep.row_bias,
                               residual ? residual + n * MP : nullptr, ep.relu != 0, s.M, P, p0,
                               p1, y + n * MP);
      if (ep.post) ep.post(ep.post_closure, y + n * MP + p0, P, s.M, p1 - p0);
    }
  };
  if (threads > 1) {
    pool->parallel_for(2, run_half);
    pool->parallel_for(s.N * chunks, reduce);
  } else {
    run_half(0, 2);
    reduce(0, s.N * chunks);
  }
}

}  // namespace

bool outvec_splits_k(const KilnConv2dShape& s, Isa isa) {
  const bool unpadded = !(s.pad_top || s.pad_left || s.pad_bottom || s.pad_right);
  const int64_t pixels = s.H * s.W;  // 1x1 stride 1: the output plane
  return isa == Isa::Avx512 && s.KH == 1 && s.KW == 1 && s.group == 1 && unpadded &&
         s.stride_h == 1 && s.stride_w == 1 && pixels <= kSplitKMaxPixels &&
         s.C >= kSplitKMinChannels && s.M <= pixels;
}

void fill_padded(const KilnConv2dShape& s, int64_t sw_cols, const float* x, int64_t c0, int64_t nc,
                 int64_t row0, int64_t rows, int64_t chan_stride, float* dst) {
  for (int64_t c = 0; c < nc; ++c) {
    for (int64_t r = 0; r < rows; ++r) {
      const int64_t i = row0 + r - s.pad_top;
      float* d = dst + c * chan_stride + r * sw_cols;
      if (i < 0 || i >= s.H) {
        std::fill(d, d + sw_cols, 0.0f);
        continue;
      }
      std::fill(d, d + s.pad_left, 0.0f);
      std::memcpy(d + s.pad_left, x + ((c0 + c) * s.H + i) * s.W, sizeof(float) * s.W);
      std::fill(d + s.pad_left + s.W, d + sw_cols, 0.0f);
    }
  }
}

void outvec_conv(const KilnConv2dShape& s, Isa isa, int64_t out_h, int64_t out_w,
                 const float* packed, const float* x, const KilnGemmEpilogue& ep,
                 const float* residual, float* y, ThreadPool* pool) {
  if (residual && isa != Isa::Avx512) {
    throw std::invalid_argument("outvec_conv: the residual is added in AVX-512 tiles only");
  }
  Plan plan(s, isa, out_h, out_w);
  if (s.N * s.M * plan.P * plan.kg < kMinParallelMacs) pool = nullptr;
  const int threads = pool ? pool->num_threads() : 1;
  plan.prefetch_input = threads > 1 && isa == Isa::Avx512;
  plan.stream_weights = isa == Isa::Avx512 &&
                        outvec_packed_floats(s, isa) * sizeof(float) > kStreamedWeightBytes;
  if (outvec_splits_k(s, isa)) {
    // Several threads: the halves run on their own cores; one: each tile sums the halves
    // apart and adds them, the same bits.
    if (threads > 1) return split_k_conv(s, plan, packed, x, ep, residual, y, pool);
    plan.ksplit = s.C / 2;
  }

  // Items: (image, group, row chunk, panel-group chunk); a row chunk's input rows fit in L2.
  const int64_t in_row_bytes = plan.cg * s.stride_h * plan.sw_cols * 4;
  const int64_t chunk_rows =
      std::clamp<int64_t>(kRowChunkBytes / std::max<int64_t>(1, in_row_bytes), 1, out_h);
  int64_t row_chunks = (out_h + chunk_rows - 1) / chunk_rows, co_chunks = 1;
  const int64_t outer = s.N * s.group;
  if (threads > 1) {
    // Split the bigger operand: rows (down to 2 per chunk) when the group's input outweighs
    // its weights, else channel panels, so each thread streams only its share of it; then
    // the item count is rounded up to a multiple of the threads where panels allow.
    const int64_t want = 4 * threads;
    const bool weights_heavy = plan.mg * plan.kg > plan.cg * s.H * s.W;
    if (!weights_heavy && outer * row_chunks < want) {
      row_chunks = std::min(std::max(row_chunks, out_h / 2), (want + outer - 1) / outer);
    }
    if (outer * row_chunks < want) {
      co_chunks = std::min(plan.co_groups, (want + outer * row_chunks - 1) / (outer * row_chunks));
    }
    if (outer * row_chunks * co_chunks < want) {
      row_chunks = std::min(out_h, (want + outer * co_chunks - 1) / (outer * co_chunks));
    }
    while ((outer * row_chunks * co_chunks) % threads && co_chunks < plan.co_groups) ++co_chunks;
  }
  const int64_t items = outer * row_chunks * co_chunks;
  const int64_t in_image = s.C * s.H * s.W;

  // The source: the input itself when unpadded; else zero-bordered rows, built by each thread
  // for the rows its item reads while they stay in cache, and kept for its next item when
  // that only has other panels (items run panel chunks fastest). Only when every item reads
  // all rows (one row chunk, split by panels) is one copy built for all, each thread filling
  // a share: with row chunks too, such a copy holds rows no thread needs twice and leaves half
  // of each thread's rows in the other core's cache (2 threads, ResNet-50's 3x3/2 512 -> 512
  // and 256 -> 256: 0.81 vs 0.92 and 0.62 vs 0.67 ms; with one row chunk the shared copy is
  // the faster, 0.73 vs 0.76 on 3x3 512 -> 512 at 7x7).
  const bool per_item = plan.padded && (co_chunks == 1 || row_chunks > 1);
  const bool shared = plan.padded && !per_item;
  const int64_t sh_rows = s.H + s.pad_top + s.pad_bottom;
  const int64_t item_rows = plan.source_rows(0, (out_h + row_chunks - 1) / row_chunks);
  // Copied planes are an odd number of cache lines apart, so a tile's lines spread over all
  // L1 sets.
  const int64_t item_stride = ((item_rows * plan.sw_cols + 15) / 16 | 1) * 16;
  plan.set_channel_stride(per_item ? item_stride
                                   : (plan.padded ? sh_rows * plan.sw_cols : s.H * s.W));
  const float* src = x;
  if (shared) {
    float* buf = t_padded.floats(static_cast<size_t>(s.N * s.C * plan.chan_stride));
    auto fill = [&](int64_t b, int64_t e) {
      for (int64_t pl = b; pl < e; ++pl) {
        fill_padded(s, plan.sw_cols, x + pl / s.C * in_image, pl % s.C, 1, 0, sh_rows,
                    plan.chan_stride, buf + pl * plan.chan_stride);
      }
    };
    if (threads > 1 && s.N * s.C > 1) {
      pool->parallel_for(s.N * s.C, fill);
    } else {
      fill(0, s.N * s.C);
    }
    src = buf;
  }

  // Item -> (image, group, rows [r0, r1), panel groups [c0, c1)).
  struct Item {
    int64_t n, g, r0, r1, c0, c1;
  };
  auto item_at = [&](int64_t item) {
    const int64_t ci = item % co_chunks, ri = item / co_chunks % row_chunks;
    const int64_t o = item / (co_chunks * row_chunks);
    return Item{o / s.group, o % s.group, out_h * ri / row_chunks, out_h * (ri + 1) / row_chunks,
                plan.co_groups * ci / co_chunks, plan.co_groups * (ci + 1) / co_chunks};
  };
  auto run = [&](int64_t begin, int64_t end) {
    int64_t filled = -1;  // item / co_chunks of the rows in this thread's buffer
    for (int64_t item = begin; item < end; ++item) {
      const auto [n, g, r0, r1, c0, c1] = item_at(item);
      if (r1 == r0 || c1 == c0) continue;
      // The next item's first panel group, when it has other weights than this item's first.
      const float* after = nullptr;
      int64_t after_panels = 0;
      if (co_chunks > 1 && item + 1 < end && isa == Isa::Avx512) {
        const Item nx = item_at(item + 1);
        if (nx.c0 < nx.c1 && (nx.c0 != c0 || nx.g != g)) {
          after = packed + (nx.g * plan.panels + nx.c0 * plan.blk.co) * plan.kg * plan.L;
          after_panels = std::min<int64_t>(plan.blk.co, plan.panels - nx.c0 * plan.blk.co);
        }
      }
      const float* sg = src + (n * s.C + g * plan.cg) * plan.chan_stride;
      int64_t row0 = 0;
      if (per_item) {
        row0 = r0 * s.stride_h;
        float* buf = t_padded.floats(static_cast<size_t>(plan.cg * plan.chan_stride));
        if (item / co_chunks != filled) {
          fill_padded(s, plan.sw_cols, x + n * in_image, g * plan.cg, plan.cg, row0,
                      plan.source_rows(r0, r1), plan.chan_stride, buf);
          filled = item / co_chunks;
        }
        sg = buf;
      }
      plan.run(packed, sg, row0, n, g, c0, c1, r0, r1, ep, residual, y, after, after_panels);
    }
  };
  if (threads > 1 && items > 1) {
    pool->parallel_for(items, run);
  } else {
    run(0, items);
  }
}

}  // namespace kiln::cpu
