#include "runtime/kernels/cpu/conv_grad_weight.h"

#include <algorithm>
#include <vector>

#include "runtime/kernels/cpu/cpu_isa.h"
#include "runtime/kernels/cpu/im2col_row.h"
#include "runtime/kernels/cpu/sgemm_pack.h"
#include "runtime/threadpool/thread_pool.h"

namespace kiln::cpu {

namespace {

constexpr int kMr = 4, kJr = 6;        // the register tile (grad_weight_tile_avx512)
constexpr int64_t kBlockImages = 2;    // images whose planes and dY stay in L2 together

thread_local ScratchBuffer t_planes;

// The rearranged input of one channel (see conv_grad_weight.h).
struct Planes {
  const GradWeightShape& s;
  bool per_kw;   // stride 1 along H: one plane per kw, shared by the taps kh at row offsets
  int64_t rows;  // rows of OW floats per plane

  int64_t plane_floats() const { return rows * s.OW; }
  int64_t per_channel() const { return per_kw ? s.KW : s.KH * s.KW; }
  int64_t channel_floats() const { return per_channel() * plane_floats(); }
  // Where tap (kh, kw) of output pixel 0 lies in a channel's planes.
  const float* tap(const float* channel, int64_t kh, int64_t kw) const {
    if (per_kw) return channel + kw * plane_floats() + kh * s.dh * s.OW;
    return channel + (kh * s.KW + kw) * plane_floats();
  }
};

// First output column ow >= 0 with ow * stride + offset >= limit (offset + ow*stride grows).
int64_t first_at_least(int64_t limit, int64_t offset, int64_t stride, int64_t out) {
  if (offset >= limit) return 0;
  return std::min(out, (limit - offset + stride - 1) / stride);
}

// Fills one channel's planes from its H x W input plane `xc` (zeros in the padding).
void fill_channel(const Planes& pl, const float* xc, float* dst) {
  const GradWeightShape& s = pl.s;
  for (int64_t q = 0; q < pl.per_channel(); ++q) {
    const int64_t kh = pl.per_kw ? 0 : q / s.KW, kw = pl.per_kw ? q : q % s.KW;
    const int64_t shift = kw * s.dw - s.pw;  // iw = ow * sw + shift
    const int64_t lo = first_at_least(0, shift, s.sw, s.OW);
    const int64_t hi = std::max(lo, first_at_least(s.W, shift, s.sw, s.OW));
    float* plane = dst + q * pl.plane_floats();
    for (int64_t r = 0; r < pl.rows; ++r) {
      const int64_t ih = pl.per_kw ? r - s.ph : r * s.sh + kh * s.dh - s.ph;
      float* out = plane + r * s.OW;
      im2col_row(ih < 0 || ih >= s.H ? nullptr : xc + ih * s.W, out, s.OW, lo, hi, s.sw, shift);
    }
  }
}

}  // namespace

bool conv_grad_weight_dot_available() { return active_isa() == Isa::Avx512; }

void conv_grad_weight_dot(const GradWeightShape& s, const float* x, const float* dy, float* dw,
                          ThreadPool* pool) {
  const int64_t cg = s.C / s.group, mg = s.M / s.group, taps = s.KH * s.KW;
  const int64_t J = cg * taps, P = s.OH * s.OW;
  const Planes pl{s, s.sh == 1, s.sh == 1 ? s.OH + (s.KH - 1) * s.dh : s.OH};
  const int64_t chan_floats = pl.channel_floats();
  // Input channels [c_begin, c_end), every image: the dW rows' columns of those channels.
  auto work = [&](int64_t c_begin, int64_t c_end) {
    const int64_t nch = c_end - c_begin;
    float* planes = t_planes.floats(static_cast<size_t>(kBlockImages * nch * chan_floats));
    const float* a[kBlockImages * kMr];
    const float* b[kBlockImages * kJr];
    for (int64_t n0 = 0; n0 < s.N; n0 += kBlockImages) {
      const int64_t nb = std::min(kBlockImages, s.N - n0);
      for (int64_t i = 0; i < nb; ++i) {
        for (int64_t c = c_begin; c < c_end; ++c) {
          fill_channel(pl, x + ((n0 + i) * s.C + c) * s.H * s.W,
                       planes + (i * nch + c - c_begin) * chan_floats);
        }
      }
      for (int64_t g = c_begin / cg; g * cg < c_end; ++g) {
        const int64_t j0 = (std::max(c_begin, g * cg) - g * cg) * taps;
        const int64_t j1 = (std::min(c_end, (g + 1) * cg) - g * cg) * taps;
        for (int64_t j = j0; j < j1; j += kJr) {
          const int jr = static_cast<int>(std::min<int64_t>(kJr, j1 - j));
          for (int64_t i = 0; i < nb; ++i) {
            for (int q = 0; q < jr; ++q) {
              const int64_t c = g * cg + (j + q) / taps, t = (j + q) % taps;
              b[i * jr + q] = pl.tap(planes + (i * nch + c - c_begin) * chan_floats, t / s.KW, t % s.KW);
            }
          }
          for (int64_t m = 0; m < mg; m += kMr) {
            const int mr = static_cast<int>(std::min<int64_t>(kMr, mg - m));
            for (int64_t i = 0; i < nb; ++i)
              for (int r = 0; r < mr; ++r) a[i * mr + r] = dy + ((n0 + i) * s.M + g * mg + m + r) * P;
            grad_weight_tile_avx512(mr, jr, static_cast<int>(nb), P, a, b, dw + (g * mg + m) * J + j,
                                    J, n0 > 0);
          }
        }
      }
    }
  };
  if (pool && pool->num_threads() > 1 && s.C > 1) {
    pool->parallel_for(s.C, work);
  } else {
    work(0, s.C);
  }
}

}  // namespace kiln::cpu
