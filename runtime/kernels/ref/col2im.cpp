// Col2Im: scatter-adds each column (one block position) back into the image; the inverse
// layout of im2col, with the same window arithmetic as Conv.
#include "ir/infer/window.h"
#include "runtime/kernels/ref/conv_util.h"

namespace kiln {

void ref_Col2Im(KernelContext& ctx) {
  const Tensor& x = ctx.input(0);
  const std::vector<int64_t> image = ctx.input(1).to_int64_vector();
  const std::vector<int64_t> block = ctx.input(2).to_int64_vector();
  const Window win = read_window(ctx.attr(), block, ctx.where());
  const size_t rank = win.rank();
  Dims counts;
  std::vector<int64_t> pad_begin;
  for (const WindowAxis& a : window_axes(win, image, ctx.where())) {
    counts.push_back(a.out);
    pad_begin.push_back(a.pad_begin);
  }
  const int64_t taps = checked_numel(block), blocks = checked_numel(counts);
  const int64_t image_size = checked_numel(image);
  ctx.check(x.rank() == 3 && x.dim(1) % taps == 0 && x.dim(2) == blocks, "input ", x.describe(),
            " does not match block_shape and image_shape (", taps, " taps, ", blocks, " blocks)");
  const int64_t N = x.dim(0), C = x.dim(1) / taps;
  const std::vector<int64_t> bc = ref::all_coords(counts);
  const std::vector<int64_t> kc = ref::all_coords(block);
  const std::vector<int64_t> is = ref::strides_of(image);
  Tensor& y = ctx.output(0);
  dispatch_dtype(x.dtype(), "Col2Im", [&]<typename T>() {
    const T* px = x.data<T>();
    T* py = y.data<T>();
    for (int64_t n = 0; n < N; ++n) {
      for (int64_t c = 0; c < C; ++c) {
        T* img = py + (n * C + c) * image_size;
        for (int64_t t = 0; t < taps; ++t) {
          const T* col = px + ((n * C + c) * taps + t) * blocks;
          for (int64_t l = 0; l < blocks; ++l) {
            int64_t off = 0;
            bool inside = true;
            for (size_t d = 0; d < rank && inside; ++d) {
              const int64_t p = bc[static_cast<size_t>(l) * rank + d] * win.strides[d] -
                                pad_begin[d] +
                                kc[static_cast<size_t>(t) * rank + d] * win.dilations[d];
              inside = p >= 0 && p < image[d];
              off += p * is[d];
            }
            if (!inside) continue;
            if constexpr (std::is_same_v<T, bool>) {
              img[off] = img[off] || col[l];
            } else if constexpr (std::is_integral_v<T>) {
              // Wrap like numpy instead of overflowing into UB.
              using U = std::make_unsigned_t<T>;
              img[off] =
                  static_cast<T>(static_cast<U>(static_cast<U>(img[off]) + static_cast<U>(col[l])));
            } else {
              img[off] = static_cast<T>(static_cast<ref::compute_t<T>>(img[off]) +
                                        static_cast<ref::compute_t<T>>(col[l]));
            }
          }
        }
      }
    }
  });
}

}  // namespace kiln
