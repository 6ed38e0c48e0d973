// int8 2-D convolution (qgemm.h): Y_g[M_g, OH*OW] = W_g[M_g, K] x im2col(q(X))_g[K, OH*OW] per
// image and group. K runs over (kh, kw, channel) with the group's channels padded to Cp, a
// multiple of 4, so that one 4-byte group of K is 4 channels of one pixel at one tap:
//  1. X is quantized once per call, then laid out as a zero-point-padded, channels-last copy
//     [N][group][H + pads][W + pads][Cp] (padding reads x_zero_point, so it contributes exactly
//     0 after the zero-point correction; padded channels meet zero weights);
//  2. each task packs one 32-pixel im2col panel with one 4-byte load per pixel and K-group (no
//     bounds checks, thanks to the padding) and multiplies it by a range of output channels'
//     weight rows. Output rows are channels, so the result lands in NCHW directly.
#include <algorithm>
#include <climits>
#include <cstring>
#include <stdexcept>
#include <vector>
#if defined(__SSE2__)
#include <emmintrin.h>
#endif

#include "runtime/kernels/cpu/cpu_isa.h"
#include "runtime/kernels/cpu/qconv_dw.h"
#include "runtime/kernels/cpu/qconv_im2col.h"
#include "runtime/kernels/cpu/qgemm.h"
#include "runtime/kernels/cpu/qgemm_kernel.h"
#include "runtime/kernels/cpu/qgemm_util.h"
#include "runtime/kernels/cpu/sgemm_pack.h"
#include "runtime/threadpool/thread_pool.h"

namespace {

using namespace kiln::cpu;

constexpr uint32_t kPackedConvMagic = 0x43384951;  // "QI8C"

// Packed weights: header, scales[M] and weight sums[M] (each padded to 64 bytes), then the s8
// rows [M][K], K = KH * KW * Cp in (kh, kw, c) order, zero for the padded channels.
struct PackedConvHeader {
  uint32_t magic;
  uint32_t reserved;
  int64_t M, K, Cp, group, C, KH, KW;
};
static_assert(sizeof(PackedConvHeader) == 64);

int64_t round64(int64_t bytes) { return (bytes + 63) / 64 * 64; }

struct Layout {
  int64_t Cg, Cp, K, scales_off, sums_off, rows_off, total;
};

Layout layout_of(const KilnConv2dShape& s) {
  if (s.group <= 0 || s.C % s.group != 0 || s.M % s.group != 0)
    throw std::invalid_argument("kiln_qconv2d: channels must divide by group");
  Layout l;
  l.Cg = s.C / s.group;
  l.Cp = (l.Cg + 3) / 4 * 4;
  l.K = s.KH * s.KW * l.Cp;
  l.scales_off = 64;
  l.sums_off = l.scales_off + round64(s.M * 4);
  l.rows_off = l.sums_off + round64(s.M * 4);
  l.total = l.rows_off + round64(s.M * l.K);
  return l;
}

// Interleaves four n-byte rows into n 4-byte words: out[j * 4 + r] = rows[r][j].
void interleave4(const uint8_t* r0, const uint8_t* r1, const uint8_t* r2, const uint8_t* r3,
                 int64_t n, uint8_t* out) {
  if (active_isa() >= Isa::Avx512) return qconv_interleave4_avx512(r0, r1, r2, r3, n, out);
  int64_t j = 0;
#if defined(__SSE2__)
  for (; j + 16 <= n; j += 16) {
    const __m128i a = _mm_loadu_si128(reinterpret_cast<const __m128i*>(r0 + j));
    const __m128i b = _mm_loadu_si128(reinterpret_cast<const __m128i*>(r1 + j));
    const __m128i c = _mm_loadu_si128(reinterpret_cast<const __m128i*>(r2 + j));
    const __m128i d = _mm_loadu_si128(reinterpret_cast<const __m128i*>(r3 + j));
    const __m128i ab_lo = _mm_unpacklo_epi8(a, b), ab_hi = _mm_unpackhi_epi8(a, b);
    const __m128i cd_lo = _mm_unpacklo_epi8(c, d), cd_hi = _mm_unpackhi_epi8(c, d);
    auto* o = reinterpret_cast<__m128i*>(out + j * 4);
    _mm_storeu_si128(o + 0, _mm_unpacklo_epi16(ab_lo, cd_lo));
    _mm_storeu_si128(o + 1, _mm_unpackhi_epi16(ab_lo, cd_lo));
    _mm_storeu_si128(o + 2, _mm_unpacklo_epi16(ab_hi, cd_hi));
    _mm_storeu_si128(o + 3, _mm_unpackhi_epi16(ab_hi, cd_hi));
  }
#endif
  for (; j < n; ++j) {
    out[j * 4 + 0] = r0[j];
    out[j * 4 + 1] = r1[j];
    out[j * 4 + 2] = r2[j];
    out[j * 4 + 3] = r3[j];
  }
}

}  // namespace

extern "C" {

size_t kiln_qconv2d_packed_weights_size(const KilnConv2dShape* shape) {
  return static_cast<size_t>(layout_of(*shape).total);
}

void kiln_qconv2d_pack_weights(const KilnConv2dShape* shape, const int8_t* W, const float* scales,
                               void* packed) {
  const KilnConv2dShape& s = *shape;
  const Layout l = layout_of(s);
  auto* base = static_cast<uint8_t*>(packed);
  std::memset(base, 0, static_cast<size_t>(l.total));
  *reinterpret_cast<PackedConvHeader*>(base) =
      PackedConvHeader{kPackedConvMagic, 0, s.M, l.K, l.Cp, s.group, s.C, s.KH, s.KW};
  auto* sc = reinterpret_cast<float*>(base + l.scales_off);
  auto* sums = reinterpret_cast<int32_t*>(base + l.sums_off);
  auto* rows = reinterpret_cast<int8_t*>(base + l.rows_off);
  for (int64_t m = 0; m < s.M; ++m) {
    sc[m] = scales[m];
    int32_t sum = 0;
    for (int64_t c = 0; c < l.Cg; ++c)
      for (int64_t kh = 0; kh < s.KH; ++kh)
        for (int64_t kw = 0; kw < s.KW; ++kw) {
          const int8_t v = W[((m * l.Cg + c) * s.KH + kh) * s.KW + kw];
          rows[m * l.K + (kh * s.KW + kw) * l.Cp + c] = v;
          sum += v;
        }
    sums[m] = sum;
  }
}

}  // extern "C"

namespace {

// The shared body: X is f32 (x_u8 false, quantized here) or u8; Y (f32) is unused when e.fin
// finishes the tiles.
void qconv2d_impl(const KilnConv2dShape* shape, const void* packed_weights, const void* Xv,
                  bool x_u8, float x_scale, int32_t x_zero_point, QEpilogue e, float* Y,
                  kiln::ThreadPool* pool) {
  const KilnConv2dShape& s = *shape;
  const Layout l = layout_of(s);
  const auto* base = static_cast<const uint8_t*>(packed_weights);
  const auto* h = reinterpret_cast<const PackedConvHeader*>(base);
  if (h->magic != kPackedConvMagic || h->M != s.M || h->K != l.K || h->group != s.group ||
      h->C != s.C || h->KH != s.KH || h->KW != s.KW)
    throw std::invalid_argument("kiln_qconv2d: weights were packed for another shape");
  if (!(x_scale > 0.0f) || x_zero_point < 0 || x_zero_point > 255)
    throw std::invalid_argument("kiln_qconv2d: x_scale must be > 0 and x_zero_point in [0, 255]");
  const int64_t OH = kiln_conv2d_output_height(shape), OW = kiln_conv2d_output_width(shape);
  const int64_t P = OH * OW, Mg = s.M / s.group, Cp = l.Cp;
  if (s.N <= 0 || P <= 0 || s.M <= 0) return;
  e.x_scale = x_scale;
  e.zero_point = x_zero_point;
  e.w_scale = reinterpret_cast<const float*>(base + l.scales_off);
  e.wsum = reinterpret_cast<const int32_t*>(base + l.sums_off);
  e.per_row = true;
  const auto* wrows = base + l.rows_off;
  const uint8_t zx = static_cast<uint8_t>(x_zero_point);
  const float zpf = static_cast<float>(x_zero_point);

  // 1. X quantized once into plain u8 (long contiguous runs vectorize) unless it comes as u8,
  // then rearranged into the padded channels-last copy, one task per (image, group, row).
  const int64_t xsz = s.N * s.C * s.H * s.W;
  const uint8_t* plain = static_cast<const uint8_t*>(Xv);
  if (!x_u8) {
    const auto* X = static_cast<const float*>(Xv);
    thread_local ScratchBuffer t_plain;
    auto* q = reinterpret_cast<uint8_t*>(t_plain.floats(static_cast<size_t>(xsz + 3) / 4));
    const int64_t qchunk = 16384, qchunks = (xsz + qchunk - 1) / qchunk;
    const auto quantize_chunks = [&](int64_t c0, int64_t c1) {
      for (int64_t c = c0; c < c1; ++c) {
        const int64_t b = c * qchunk;
        quantize_u8(X + b, std::min(qchunk, xsz - b), x_scale, zpf, q + b);
      }
    };
    if (pool && qchunks > 1) pool->parallel_for(qchunks, quantize_chunks);
    else quantize_chunks(0, qchunks);
    plain = q;
  }
  if (qconv_dw_applies(s)) {
    qconv_dw(s, plain, x_zero_point, reinterpret_cast<const int8_t*>(wrows), l.K, Cp, e, Y, pool);
    return;
  }

  const int64_t Hp = s.H + s.pad_top + s.pad_bottom, Wp = s.W + s.pad_left + s.pad_right;
  if (s.group == 1 && s.stride_h == 1 && s.stride_w == 1 && active_qtile() == &qtile_amx) {
    // AMX: planes of 4-channel words, read in place by the tile loads (qgemm_kernel.h).
    QConvAmxArgs a;
    a.N = s.N;
    a.G = Cp / 4;
    a.Wp = Wp;
    a.OH = OH;
    a.OW = OW;
    a.KH = s.KH;
    a.KW = s.KW;
    a.dil_h = s.dilation_h;
    a.dil_w = s.dilation_w;
    a.plane_words = (OH * Wp + kQNR - 1) / kQNR * kQNR + (s.KH - 1) * s.dilation_h * Wp +
                    (s.KW - 1) * s.dilation_w;
    a.weights = wrows;
    a.M = s.M;
    a.K = l.K;
    thread_local ScratchBuffer t_planes;
    const int64_t plane_bytes = a.plane_words * 4, planes = s.N * a.G;
    auto* pl = reinterpret_cast<uint8_t*>(t_planes.floats(static_cast<size_t>(planes * a.plane_words)));
    const auto fill_planes = [&](int64_t p0, int64_t p1) {
      thread_local ScratchBuffer t_zrow;
      // x_zero_point for channels past C: a whole plane of it, for the one-run case below.
      auto* zrow = reinterpret_cast<uint8_t*>(t_zrow.floats(static_cast<size_t>(s.H * s.W + 3) / 4));
      std::memset(zrow, zx, static_cast<size_t>(s.H * s.W));
      for (int64_t p = p0; p < p1; ++p) {
        const int64_t g = p % a.G, n = p / a.G;
        uint8_t* plane = pl + p * plane_bytes;
        const auto channel = [&](int64_t i, int64_t y) {
          return 4 * g + i < s.C ? plain + ((n * s.C + 4 * g + i) * s.H + y) * s.W : zrow;
        };
        // Border rows/columns and the slack read x_zero_point (see step 1 below).
        if (Wp == s.W) {  // no column padding: the image is one run of words
          const int64_t head = s.pad_top * Wp * 4, body = s.H * s.W * 4;
          std::memset(plane, zx, static_cast<size_t>(head));
          interleave4(channel(0, 0), channel(1, 0), channel(2, 0), channel(3, 0), s.H * s.W,
                      plane + head);
          std::memset(plane + head + body, zx, static_cast<size_t>(plane_bytes - head - body));
          continue;
        }
        std::memset(plane, zx, static_cast<size_t>(plane_bytes));
        for (int64_t y = 0; y < s.H; ++y)
          interleave4(channel(0, y), channel(1, y), channel(2, y), channel(3, y), s.W,
                      plane + ((y + s.pad_top) * Wp + s.pad_left) * 4);
      }
    };
    if (pool && planes > 1) pool->parallel_for(planes, fill_planes);
    else fill_planes(0, planes);
    a.planes = pl;
    qconv_direct_amx(a, e, Y, pool);
    return;
  }
  const int64_t image = Hp * Wp * Cp;  // bytes per (image, group)
  const int64_t xn = s.N * s.group * image;
  thread_local ScratchBuffer t_x;
  auto* qx = reinterpret_cast<uint8_t*>(t_x.floats(static_cast<size_t>(xn + 3) / 4));
  std::memset(qx, zx, static_cast<size_t>(xn));
  const auto rearrange_rows = [&](int64_t r0, int64_t r1) {
    thread_local ScratchBuffer t_rows;
    auto* tmp = reinterpret_cast<uint8_t*>(t_rows.floats(static_cast<size_t>(5 * s.W + 3) / 4));
    uint8_t* words = tmp;              // W words of 4 bytes
    uint8_t* zrow = tmp + 4 * s.W;     // W bytes of x_zero_point (padded channels)
    std::memset(zrow, zx, static_cast<size_t>(s.W));
    for (int64_t r = r0; r < r1; ++r) {
      const int64_t y = r % s.H, ng = r / s.H, g = ng % s.group, n = ng / s.group;
      uint8_t* dst = qx + ng * image + ((y + s.pad_top) * Wp + s.pad_left) * Cp;
      for (int64_t c0 = 0; c0 < l.Cg; c0 += 4) {
        const uint8_t* rows[4];
        for (int64_t i = 0; i < 4; ++i)
          rows[i] = c0 + i < l.Cg ? plain + ((n * s.C + g * l.Cg + c0 + i) * s.H + y) * s.W : zrow;
        interleave4(rows[0], rows[1], rows[2], rows[3], s.W, Cp == 4 ? dst : words);
        if (Cp != 4)
          for (int64_t x = 0; x < s.W; ++x) std::memcpy(dst + x * Cp + c0, words + x * 4, 4);
      }
    }
  };
  const int64_t nrows = s.N * s.group * s.H;
  if (pool && nrows > 1 && xn > 16384) pool->parallel_for(nrows, rearrange_rows);
  else rearrange_rows(0, nrows);

  // 2. Tasks: (image, group, pixel panel, channel range). Enough of them to feed every thread;
  // splitting channels re-packs the panel, so only when there are few panels.
  const int64_t panels = (P + kQNR - 1) / kQNR;
  const QTileFn tile = active_qtile();
  const int mr = active_qtile_rows();
  const int64_t row_blocks = (Mg + mr - 1) / mr;
  const int threads = pool ? pool->num_threads() : 1;
  const int64_t base_tasks = s.N * s.group * panels;
  const int64_t mchunks =
      std::clamp<int64_t>((4 * threads + base_tasks - 1) / base_tasks, 1, row_blocks);
  const int64_t blocks_per_chunk = (row_blocks + mchunks - 1) / mchunks;
  const int64_t kq = l.K / 4, cq = Cp / 4, taps = s.KH * s.KW;
  std::vector<int64_t> tap_off(static_cast<size_t>(taps));
  for (int64_t kh = 0; kh < s.KH; ++kh)
    for (int64_t kw = 0; kw < s.KW; ++kw)
      tap_off[kh * s.KW + kw] = (kh * s.dilation_h * Wp + kw * s.dilation_w) * Cp;
  // Every output pixel's input offset, in one pass (no division or wrap test per pixel and
  // panel); the tail of the last panel repeats the last pixel.
  std::vector<int64_t> pix_all(static_cast<size_t>(panels * kQNR));
  for (int64_t oh = 0; oh < OH; ++oh)
    for (int64_t ow = 0; ow < OW; ++ow)
      pix_all[oh * OW + ow] = (oh * s.stride_h * Wp + ow * s.stride_w) * Cp;
  std::fill(pix_all.begin() + P, pix_all.end(), pix_all[static_cast<size_t>(P - 1)]);
  // AVX-512: panels packed by dword gathers (32-bit offsets) and tiles finished in registers.
  const bool avx512 = active_isa() >= Isa::Avx512;
  const bool gather = avx512 && image <= INT32_MAX;
  const auto run_tasks = [&](int64_t t0, int64_t t1) {
    thread_local ScratchBuffer t_panel;
    auto* panel = reinterpret_cast<uint8_t*>(t_panel.floats(static_cast<size_t>(kq * 32)));
    alignas(64) int32_t acc[kQMRMax * kQNR];
    int64_t packed_for = -1;
    for (int64_t t = t0; t < t1; ++t) {
      const int64_t mc = t % mchunks, rest = t / mchunks;
      const int64_t p = rest % panels, ng = rest / panels;
      const int64_t g = ng % s.group, n = ng / s.group;
      const int64_t p0 = p * kQNR;
      const int cols = static_cast<int>(std::min<int64_t>(kQNR, P - p0));
      if (packed_for != rest) {  // [kq][32 pixels][4 bytes]: one word per pixel and K-group
        packed_for = rest;
        const int64_t* pix = pix_all.data() + p0;
        const uint8_t* img = qx + ng * image;
        if (gather) {
          alignas(64) int32_t pix32[kQNR];
          for (int j = 0; j < kQNR; ++j) pix32[j] = static_cast<int32_t>(pix[j]);
          qconv_pack_panel_avx512(img, pix32, tap_off.data(), taps, cq, panel);
        } else {
          uint8_t* dst = panel;
          for (int64_t tp = 0; tp < taps; ++tp) {
            const uint8_t* tap = img + tap_off[tp];
            for (int64_t c = 0; c < cq; ++c, dst += 128)
              for (int j = 0; j < kQNR; ++j) std::memcpy(dst + j * 4, tap + pix[j] + c * 4, 4);
          }
        }
      }
      const int64_t rb1 = std::min(row_blocks, (mc + 1) * blocks_per_chunk);
      for (int64_t rb = mc * blocks_per_chunk; rb < rb1; ++rb) {
        const int64_t m0 = g * Mg + rb * mr;
        const int rows = static_cast<int>(std::min<int64_t>(mr, Mg - rb * mr));
        tile(wrows + m0 * l.K, l.K, rows, panel, kq, true, acc);
        const int64_t off = (n * s.M + m0) * P + p0;
        if (avx512) {
          qconv_finish_tile_avx512(acc, rows, cols, e, m0, Y, off, P);
        } else if (e.fin) {
          alignas(64) float tmp[kQMRMax * kQNR];
          dequantize_tile(acc, rows, cols, e, m0, 0, tmp, kQNR);
          finish_rows(tmp, kQNR, rows, cols, *e.fin, off, P);
        } else {
          dequantize_tile(acc, rows, cols, e, m0, 0, Y + off, P);
        }
      }
    }
  };
  const int64_t tasks = base_tasks * mchunks;
  if (pool && tasks > 1) pool->parallel_for(tasks, run_tasks);
  else run_tasks(0, tasks);
}

}  // namespace

extern "C" {

void kiln_qconv2d(const KilnConv2dShape* shape, const void* packed_weights, const float* X,
                  float x_scale, int32_t x_zero_point, const KilnGemmEpilogue* epilogue, float* Y,
                  kiln::ThreadPool* pool) {
  QEpilogue e;
  if (epilogue) {
    if (epilogue->column_bias) throw std::invalid_argument("kiln_qconv2d: column_bias unsupported");
    e.bias = epilogue->row_bias;
    e.relu = epilogue->relu != 0;
    e.post = epilogue->post;
    e.post_closure = epilogue->post_closure;
  }
  qconv2d_impl(shape, packed_weights, X, false, x_scale, x_zero_point, e, Y, pool);
}

void kiln_qconv2d_io(const KilnConv2dShape* shape, const void* packed_weights,
                     const KilnQConvIO* io, const KilnGemmEpilogue* epilogue,
                     kiln::ThreadPool* pool) {
  QEpilogue e;
  if (epilogue) {
    if (epilogue->column_bias || epilogue->relu || epilogue->post)
      throw std::invalid_argument("kiln_qconv2d_io: only row_bias may be set in the epilogue");
    e.bias = epilogue->row_bias;
  }
  if (io->y_u8 && (!(io->y_scale > 0.0f) || io->y_zero_point < 0 || io->y_zero_point > 255))
    throw std::invalid_argument("kiln_qconv2d_io: y_scale must be > 0 and y_zero_point in [0, 255]");
  if (io->z && io->z_u8 &&
      (!(io->z_scale > 0.0f) || io->z_zero_point < 0 || io->z_zero_point > 255))
    throw std::invalid_argument("kiln_qconv2d_io: z_scale must be > 0 and z_zero_point in [0, 255]");
  QFinish f;
  f.y = io->y;
  f.y_u8 = io->y_u8 != 0;
  f.y_scale = io->y_scale;
  f.y_zero_point = static_cast<float>(io->y_zero_point);
  f.z = io->z;
  f.z_u8 = io->z_u8 != 0;
  f.z_scale = io->z_scale;
  f.z_zero_point = io->z_zero_point;
  f.lo = io->act_lo;
  f.hi = io->act_hi;
  e.fin = &f;
  qconv2d_impl(shape, packed_weights, io->x, io->x_u8 != 0, io->x_scale, io->x_zero_point, e,
               nullptr, pool);
}

}  // extern "C"
