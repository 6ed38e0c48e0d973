// Direct convolution driver: the zero-bordered, stride-phase-split source images, the tap
// offsets, the flat-pixel tiles with their store masks, and the split over threads.
#include "runtime/kernels/cpu/conv_direct.h"

#include <algorithm>
#include <atomic>
#include <cstring>
#include <vector>

#include "runtime/kernels/cpu/sgemm_pack.h"
#include "runtime/threadpool/thread_pool.h"

namespace kiln::cpu {

namespace {

thread_local ScratchBuffer t_source;
constexpr int64_t kMinParallelMacs = int64_t{1} << 20;
std::atomic<bool> g_direct_enabled{true};

struct Geometry {
  int64_t hq, wq, plane;  // one phase plane of the source
  int64_t image;          // floats of one image's source (all C channels, all phases)
};

Geometry geometry(const KilnConv2dShape& s) {
  Geometry g{};
  const int64_t hp = s.H + s.pad_top + s.pad_bottom, wp = s.W + s.pad_left + s.pad_right;
  g.hq = (hp + s.stride_h - 1) / s.stride_h;
  g.wq = (wp + s.stride_w - 1) / s.stride_w;
  // Stride 1 with pad_right <= pad_left (and no wider than the kernel's reach): a row's right
  // pad can be the next row's left pad, one junk column fewer per output row.
  if (s.stride_w == 1 && s.pad_right <= s.pad_left && s.pad_right <= s.dilation_w * (s.KW - 1)) {
    g.wq = s.W + s.pad_left;
  }
  g.plane = g.hq * g.wq;
  g.image = s.C * s.stride_h * s.stride_w * g.plane;
  return g;
}

// Row i of phase (ph, pw) of channel plane `c` of one image.
void fill_source_row(const KilnConv2dShape& s, const Geometry& g, const float* x, int64_t row,
                     float* dst) {
  const int64_t i = row % g.hq, phase = row / g.hq;
  const int64_t pw = phase % s.stride_w, ph = (phase / s.stride_w) % s.stride_h;
  const int64_t c = phase / (s.stride_w * s.stride_h);
  const int64_t ih = i * s.stride_h + ph - s.pad_top;
  if (ih < 0 || ih >= s.H) {
    std::fill(dst, dst + g.wq, 0.0f);
    return;
  }
  const float* src = x + (c * s.H + ih) * s.W;
  if (s.stride_w == 1) {
    const int64_t lo = std::min<int64_t>(s.pad_left, g.wq);
    const int64_t hi = std::min<int64_t>(s.pad_left + s.W, g.wq);
    std::fill(dst, dst + lo, 0.0f);
    std::memcpy(dst + lo, src, sizeof(float) * static_cast<size_t>(hi - lo));
    std::fill(dst + hi, dst + g.wq, 0.0f);
    return;
  }
  // Columns j with 0 <= j * sw + pw - pad_left < W: [lo, hi).
  const int64_t first = s.pad_left - pw;
  const int64_t lo =
      std::clamp<int64_t>(first <= 0 ? 0 : (first + s.stride_w - 1) / s.stride_w, 0, g.wq);
  const int64_t last = s.W - 1 + first;  // j * sw <= last
  const int64_t hi = last < 0 ? lo : std::clamp<int64_t>(last / s.stride_w + 1, lo, g.wq);
  std::fill(dst, dst + lo, 0.0f);
  const float* from = src + lo * s.stride_w - first;
  if (s.stride_w == 2) {  // the stems' case: a constant stride lets the compiler vectorize
    for (int64_t j = lo; j < hi; ++j) dst[j] = from[(j - lo) * 2];
  } else {
    for (int64_t j = lo; j < hi; ++j) dst[j] = from[(j - lo) * s.stride_w];
  }
  std::fill(dst + hi, dst + g.wq, 0.0f);
}

// The first output index at or after flat pixel f.
int64_t first_output(int64_t f, int64_t out_h, int64_t out_w, int64_t wq) {
  const int64_t oh = f / wq, ow = f % wq;
  if (oh >= out_h) return out_h * out_w;
  return ow < out_w ? oh * out_w + ow : (oh + 1) * out_w;
}

// Vectors per tile: the fewest padded pixels, slightly preferring wide tiles (fewer B loads).
int pick_vecs(int64_t flat) {
  int best = 3;
  double best_cost = 1e300;
  const double factor[4] = {0, 1.35, 1.04, 1.0};
  for (int v = 3; v >= 1; --v) {
    const int64_t nr = 16 * v;
    const double cost = static_cast<double>((flat + nr - 1) / nr * nr) * factor[v];
    if (cost < best_cost) best = v, best_cost = cost;
  }
  return best;
}

}  // namespace

void set_direct_conv_enabled(bool on) { g_direct_enabled = on; }

bool direct_conv_preferred(const KilnConv2dShape& s) {
  // Measured against the im2col GEMM (kiln_bench_kernels --conv-ab): direct wins for stride 1
  // and for few input channels (stems); 1x1 convolutions stay with the SGEMM (their B rows
  // come from distant planes: packing them once per block and reusing the panel from L1 wins),
  // and so do strided convolutions over many channels (each tap reads another phase plane).
  if (!g_direct_enabled || (s.KH == 1 && s.KW == 1)) return false;
  return (s.stride_h == 1 && s.stride_w == 1) || s.C / s.group <= 16;
}

size_t direct_packed_floats(const KilnConv2dShape& s) {
  const int64_t mg = s.M / s.group, kg = (s.C / s.group) * s.KH * s.KW;
  return static_cast<size_t>(s.group * round_up(mg, kDirectRows) * kg);
}

// Per group, panels of 8 output channels, k-major: panel[k * 8 + r] = W[m0 + r, k].
void pack_direct_weights(const KilnConv2dShape& s, const float* weights, float* packed) {
  constexpr int64_t rows = kDirectRows;
  const int64_t mg = s.M / s.group, kg = (s.C / s.group) * s.KH * s.KW;
  const int64_t panels = (mg + rows - 1) / rows;
  for (int64_t g = 0; g < s.group; ++g) {
    for (int64_t p = 0; p < panels; ++p) {
      float* d = packed + (g * panels + p) * kg * rows;
      for (int64_t k = 0; k < kg; ++k) {
        for (int64_t r = 0; r < rows; ++r) {
          const int64_t m = p * rows + r;
          d[k * rows + r] = m < mg ? weights[(g * mg + m) * kg + k] : 0.0f;
        }
      }
    }
  }
}

namespace {

// Everything one call computes before the tiles run.
struct Plan {
  const KilnConv2dShape& s;
  Geometry geo;
  int64_t out_h, out_w, cg, mg, kg, flat, P;
  int64_t panels;              // weight panels per group
  int vecs;                    // vectors per tile
  int64_t nr, tiles;           // flat pixels per tile, tiles per image
  int64_t tail;                // floats read past the last plane of an image's source
  std::vector<int64_t> off;    // tap offsets from the group's first plane
  std::vector<uint16_t> mask;  // per tile and vector: the lanes that are output pixels
  std::vector<int64_t> dst;    // ... and the first such pixel's output index

  Plan(const KilnConv2dShape& shape, int64_t oh, int64_t ow);
  int64_t group_stride() const { return s.stride_h * s.stride_w * geo.plane * cg; }
  // Channel panels [p0, p1) x tiles [t0, t1) of group g; `src` is the group's source.
  void run(const float* packed, const float* src, int64_t g, int64_t p0, int64_t p1, int64_t t0,
           int64_t t1, const KilnGemmEpilogue& ep, float* yg) const;
};

Plan::Plan(const KilnConv2dShape& shape, int64_t oh, int64_t ow)
    : s(shape), geo(geometry(shape)), out_h(oh), out_w(ow) {
  cg = s.C / s.group;
  mg = s.M / s.group;
  kg = cg * s.KH * s.KW;
  flat = out_h * geo.wq;
  P = out_h * out_w;
  panels = (mg + kDirectRows - 1) / kDirectRows;

  off.resize(static_cast<size_t>(kg));
  int64_t max_in_plane = 0;
  for (int64_t c = 0; c < cg; ++c) {
    for (int64_t kh = 0; kh < s.KH; ++kh) {
      for (int64_t kw = 0; kw < s.KW; ++kw) {
        const int64_t h = kh * s.dilation_h, w = kw * s.dilation_w;
        const int64_t in_plane = (h / s.stride_h) * geo.wq + w / s.stride_w;
        max_in_plane = std::max(max_in_plane, in_plane);
        off[static_cast<size_t>((c * s.KH + kh) * s.KW + kw)] =
            ((c * s.stride_h + h % s.stride_h) * s.stride_w + w % s.stride_w) * geo.plane +
            in_plane;
      }
    }
  }

  vecs = pick_vecs(flat);
  nr = 16 * vecs;
  tiles = (flat + nr - 1) / nr;
  tail = std::max<int64_t>(0, tiles * nr + max_in_plane - geo.plane);
  mask.resize(static_cast<size_t>(tiles * vecs));
  dst.resize(static_cast<size_t>(tiles * vecs));
  for (int64_t t = 0; t < tiles; ++t) {
    for (int v = 0; v < vecs; ++v) {
      const int64_t f = t * nr + 16 * v;
      uint16_t m = 0;
      for (int64_t j = 0, col = f % geo.wq; j < 16 && f + j < flat; ++j) {
        if (col < out_w) m = static_cast<uint16_t>(m | (1u << j));
        if (++col == geo.wq) col = 0;
      }
      mask[static_cast<size_t>(t * vecs + v)] = m;
      dst[static_cast<size_t>(t * vecs + v)] = first_output(f, out_h, out_w, geo.wq);
    }
  }
}

// Panel-major: a weight panel stays in cache across the tiles, and each panel's output block
// is finished, and handed to `post`, while it is still in L2.
void Plan::run(const float* packed, const float* src, int64_t g, int64_t p0, int64_t p1, int64_t t0,
               int64_t t1, const KilnGemmEpilogue& ep, float* yg) const {
  const int64_t q0 = first_output(t0 * nr, out_h, out_w, geo.wq);
  const int64_t q1 = first_output(t1 * nr, out_h, out_w, geo.wq);
  for (int64_t p = p0; p < p1; ++p) {
    DirectTile dt{};
    dt.a = packed + (g * panels + p) * kg * kDirectRows;
    dt.off = off.data();
    dt.K = kg;
    dt.y = yg + p * kDirectRows * P;
    dt.ldy = P;
    dt.rows = static_cast<int>(std::min<int64_t>(kDirectRows, mg - p * kDirectRows));
    dt.bias = ep.row_bias ? ep.row_bias + g * mg + p * kDirectRows : nullptr;
    dt.relu = ep.relu != 0;
    for (int64_t t = t0; t < t1; ++t) {
      dt.mask = &mask[static_cast<size_t>(t * vecs)];
      dt.dst = &dst[static_cast<size_t>(t * vecs)];
      dt.x = src + t * nr;
      direct_tile_avx512(vecs, dt);
    }
    if (ep.post && q1 > q0) ep.post(ep.post_closure, dt.y + q0, P, dt.rows, q1 - q0);
  }
}

// Rows [begin, end) of the source rows of image x (all channels and phases) into buf.
void fill_source(const Plan& plan, const float* x, int64_t begin, int64_t end, float* buf) {
  for (int64_t r = begin; r < end; ++r) {
    fill_source_row(plan.s, plan.geo, x, r, buf + r * plan.geo.wq);
  }
}

}  // namespace

void direct_conv(const KilnConv2dShape& s, int64_t out_h, int64_t out_w, const float* packed,
                 const float* x, const KilnGemmEpilogue& ep, float* y, ThreadPool* pool) {
  const Plan plan(s, out_h, out_w);
  const Geometry& geo = plan.geo;
  // Below kMinParallelMacs the hand-over to other threads costs more than it saves.
  if (s.N * s.M * plan.P * plan.kg < kMinParallelMacs) pool = nullptr;
  const int threads = pool ? pool->num_threads() : 1;
  const int64_t x_image = s.C * s.H * s.W, y_image = s.M * plan.P;
  const int64_t source_rows = geo.image / geo.wq;

  if (s.N > 1 && (threads == 1 || s.N >= 4 * threads)) {
    // Many images: each thread builds one image's source and computes all of that image.
    auto run = [&](int64_t begin, int64_t end) {
      float* buf = t_source.floats(static_cast<size_t>(geo.image + plan.tail));
      std::fill(buf + geo.image, buf + geo.image + plan.tail, 0.0f);
      for (int64_t n = begin; n < end; ++n) {
        fill_source(plan, x + n * x_image, 0, source_rows, buf);
        for (int64_t g = 0; g < s.group; ++g) {
          plan.run(packed, buf + g * plan.group_stride(), g, 0, plan.panels, 0, plan.tiles, ep,
                   y + n * y_image + g * plan.mg * plan.P);
        }
      }
    };
    if (pool && threads > 1) {
      pool->parallel_for(s.N, run);
    } else {
      run(0, s.N);
    }
    return;
  }

  // Otherwise one shared source for all images, and the panels and tiles split over threads.
  float* source = t_source.floats(static_cast<size_t>(s.N * geo.image + plan.tail));
  std::fill(source + s.N * geo.image, source + s.N * geo.image + plan.tail, 0.0f);
  // Rows in (image, row, plane) order: each thread fills rows that its tiles read.
  const int64_t planes = source_rows / geo.hq;
  auto fill = [&](int64_t begin, int64_t end) {
    for (int64_t r = begin; r < end; ++r) {
      const int64_t n = r / source_rows, i = r % source_rows / planes, plane = r % planes;
      const int64_t row = plane * geo.hq + i;
      fill_source(plan, x + n * x_image, row, row + 1, source + n * geo.image);
    }
  };

  const int64_t rows = s.N * source_rows;
  if (pool && threads > 1 && rows * geo.wq >= (int64_t{1} << 15)) {
    pool->parallel_for(rows, fill);
  } else {
    fill(0, rows);
  }

  // Work items: (image, group, panel range, tile range). When the images and groups are too
  // few to feed the threads, the larger operand is split first, so that each thread reads
  // only its share of it: the weights (panel ranges) or the source (tile ranges).
  const int64_t outer = s.N * s.group;
  int64_t mgroups = 1, tgroups = 1;
  bool panels_first = false;
  if (threads > 1 && outer < 4 * threads) {
    panels_first = plan.mg * plan.kg > plan.cg * s.stride_h * s.stride_w * geo.plane;
    const int64_t want = (4 * threads + outer - 1) / outer;
    if (panels_first) {
      mgroups = std::min(plan.panels, want);
      tgroups = std::min(plan.tiles, (want + mgroups - 1) / mgroups);
    } else {
      tgroups = std::min(plan.tiles, want);
      mgroups = std::min(plan.panels, (want + tgroups - 1) / tgroups);
    }
  }
  auto run = [&](int64_t begin, int64_t end) {
    for (int64_t item = begin; item < end; ++item) {
      const int64_t inner = item % (tgroups * mgroups);
      const int64_t mgi = panels_first ? inner / tgroups : inner % mgroups;
      const int64_t tgi = panels_first ? inner % tgroups : inner / mgroups;
      const int64_t g = (item / (tgroups * mgroups)) % s.group;
      const int64_t n = item / (tgroups * mgroups * s.group);
      plan.run(packed, source + n * geo.image + g * plan.group_stride(), g,
               plan.panels * mgi / mgroups, plan.panels * (mgi + 1) / mgroups,
               plan.tiles * tgi / tgroups, plan.tiles * (tgi + 1) / tgroups, ep,
               y + n * y_image + g * plan.mg * plan.P);
    }
  };
  const int64_t items = outer * mgroups * tgroups;
  if (pool && threads > 1 && items > 1) {
    pool->parallel_for(items, run);
  } else {
    run(0, items);
  }
}

}  // namespace kiln::cpu
