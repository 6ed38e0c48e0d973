// Transpose for any dtype of 1, 2, 4 or 8 bytes. The permutation is first simplified: size-1
// axes dropped, and output axes that stay adjacent and in order in the input merged. Then
//  - the innermost output axis is contiguous in the input (e.g. attention's head split,
//    [B, S, H, D] -> [B, H, S, D]): every output row is one memcpy;
//  - otherwise it is a batch of 2-D transposes between the output axis that is contiguous in
//    the input and the innermost output axis, copied in 16 x 16 tiles so both sides stay in
//    cache lines (e.g. K^T in attention, [S, H*D] -> [H*D, S]).
// A copy has no arithmetic, so any split over the pool gives identical bytes.
#include <cstring>
#include <vector>

#include "runtime/kernels/cpu/op_util.h"

namespace kiln::cpu {

namespace {

constexpr int64_t kTile = 16;

struct Layout {
  std::vector<int64_t> dims;     // output dims, simplified
  std::vector<int64_t> src;      // input stride (elements) of each output axis
  std::vector<int64_t> dst;      // output stride (elements) of each output axis
};

Layout simplify(const Dims& in_dims, const std::vector<int64_t>& perm) {
  const size_t r = in_dims.size();
  std::vector<int64_t> in_strides(r, 1);
  for (size_t i = r; i-- > 1;) in_strides[i - 1] = in_strides[i] * in_dims[i];
  Layout l;
  for (size_t i = 0; i < r; ++i) {
    const size_t a = static_cast<size_t>(perm[i]);
    if (in_dims[a] == 1) continue;
    if (!l.dims.empty() && l.src.back() == in_strides[a] * in_dims[a]) {
      l.dims.back() *= in_dims[a];  // adjacent in the input too: one axis
      l.src.back() = in_strides[a];
      continue;
    }
    l.dims.push_back(in_dims[a]);
    l.src.push_back(in_strides[a]);
  }
  if (l.dims.empty()) {
    l.dims.push_back(1);
    l.src.push_back(1);
  }
  l.dst.assign(l.dims.size(), 1);
  for (size_t i = l.dims.size(); i-- > 1;) l.dst[i - 1] = l.dst[i] * l.dims[i];
  return l;
}

// Source and destination offsets of the `index`-th combination of the axes in `axes`.
void offsets_of(const Layout& l, const std::vector<size_t>& axes, int64_t index, int64_t* src,
                int64_t* dst) {
  *src = *dst = 0;
  for (size_t k = axes.size(); k-- > 0;) {
    const size_t a = axes[k];
    const int64_t i = index % l.dims[a];
    index /= l.dims[a];
    *src += i * l.src[a];
    *dst += i * l.dst[a];
  }
}

template <typename T>
void transpose(const Layout& l, const T* x, T* y, ThreadPool* pool) {
  const size_t last = l.dims.size() - 1;
  if (l.src[last] == 1) {
    // Rows: every output row of dims[last] elements is contiguous in the input.
    std::vector<size_t> outer;
    for (size_t a = 0; a < last; ++a) outer.push_back(a);
    int64_t rows = 1;
    for (size_t a : outer) rows *= l.dims[a];
    const int64_t row = l.dims[last];
    parallel_ranges(pool, rows, row, [&](int64_t begin, int64_t end) {
      for (int64_t i = begin; i < end; ++i) {
        int64_t s = 0, d = 0;
        offsets_of(l, outer, i, &s, &d);
        std::memcpy(y + d, x + s, sizeof(T) * static_cast<size_t>(row));
      }
    });
    return;
  }
  // Tiles between axis j (the smallest input stride) and the innermost output axis.
  size_t j = 0;
  for (size_t a = 1; a < last; ++a)
    if (l.src[a] < l.src[j]) j = a;
  std::vector<size_t> outer;
  for (size_t a = 0; a < last; ++a)
    if (a != j) outer.push_back(a);
  int64_t batches = 1;
  for (size_t a : outer) batches *= l.dims[a];
  const int64_t nj = l.dims[j], nl = l.dims[last];
  const int64_t sj = l.src[j], sl = l.src[last], dj = l.dst[j];
  const int64_t jblocks = (nj + kTile - 1) / kTile;
  parallel_ranges(pool, batches * jblocks, kTile * nl, [&](int64_t begin, int64_t end) {
    for (int64_t t = begin; t < end; ++t) {
      int64_t s = 0, d = 0;
      offsets_of(l, outer, t / jblocks, &s, &d);
      const int64_t j0 = (t % jblocks) * kTile, j1 = std::min(nj, j0 + kTile);
      for (int64_t l0 = 0; l0 < nl; l0 += kTile) {
        const int64_t l1 = std::min(nl, l0 + kTile);
        for (int64_t a = j0; a < j1; ++a) {
          const T* src = x + s + a * sj;
          T* dst = y + d + a * dj;
          for (int64_t b = l0; b < l1; ++b) dst[b] = src[b * sl];
        }
      }
    }
  });
}

}  // namespace

void fast_Transpose(KernelContext& ctx) {
  const Tensor& x = ctx.input(0);
  const size_t es = dtype_size(x.dtype());
  const int64_t r = x.rank();
  if (x.numel() == 0 || (es != 1 && es != 2 && es != 4 && es != 8)) return run_reference(ctx);
  std::vector<int64_t> perm = ctx.attr().get_ints("perm");
  if (!ctx.attr().has("perm")) {
    for (int64_t i = 0; i < r; ++i) perm.push_back(r - 1 - i);
  }
  if (static_cast<int64_t>(perm.size()) != r) return run_reference(ctx);  // it reports the error
  Dims out_dims(static_cast<size_t>(r));
  for (int64_t i = 0; i < r; ++i) {
    if (perm[static_cast<size_t>(i)] < 0 || perm[static_cast<size_t>(i)] >= r)
      return run_reference(ctx);
    out_dims[static_cast<size_t>(i)] = x.dim(perm[static_cast<size_t>(i)]);
  }
  const Layout l = simplify(x.dims(), perm);
  Tensor& y = uninit_output(ctx, 0, out_dims);
  switch (es) {
    case 1:
      return transpose(l, static_cast<const uint8_t*>(x.raw()), static_cast<uint8_t*>(y.raw()),
                       ctx.pool);
    case 2:
      return transpose(l, static_cast<const uint16_t*>(x.raw()), static_cast<uint16_t*>(y.raw()),
                       ctx.pool);
    case 4:
      return transpose(l, static_cast<const uint32_t*>(x.raw()), static_cast<uint32_t*>(y.raw()),
                       ctx.pool);
    default:
      return transpose(l, static_cast<const uint64_t*>(x.raw()), static_cast<uint64_t*>(y.raw()),
                       ctx.pool);
  }
}

}  // namespace kiln::cpu
