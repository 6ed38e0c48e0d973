// ConvTranspose: every input element scatters x * W[c, m, k] to output position
// o = i*stride - pad_begin + k*dilation (dropped when outside the output), per group.
#include "ir/infer/conv_shape.h"
#include "runtime/kernels/ref/conv_util.h"

namespace kiln {

void ref_ConvTranspose(KernelContext& ctx) {
  const Tensor& x = ctx.input(0);
  const Tensor& w = ctx.input(1);
  const Tensor* b = ctx.has_input(2) ? &ctx.input(2) : nullptr;
  const ConvTransposeShape cs =
      conv_transpose_shape(ctx.attr(), Shape::of(x.dims()), Shape::of(w.dims()), ctx.where());
  const Window& win = *cs.window;
  const size_t rank = win.rank();
  const int64_t N = x.dim(0), C = x.dim(1), group = cs.group;
  const int64_t cg = C / group;  // input channels per group
  const int64_t mg = w.dim(1);   // output channels per group
  const int64_t M = mg * group;
  ctx.check(!b || b->numel() == M, "bias ", b ? b->describe() : "", " must have ", M, " values");
  const Dims in_sp(x.dims().begin() + 2, x.dims().end());
  Dims out_sp;
  std::vector<int64_t> pad_begin;
  for (const WindowAxis& a : cs.axes) {
    out_sp.push_back(a.out);
    pad_begin.push_back(a.pad_begin);
  }
  const int64_t in_size = checked_numel(in_sp), out_size = checked_numel(out_sp);
  const int64_t taps = checked_numel(win.kernel);
  const std::vector<int64_t> ic = ref::all_coords(in_sp);
  const std::vector<int64_t> kc = ref::all_coords(win.kernel);
  const std::vector<int64_t> os = ref::strides_of(out_sp);

  Tensor& y = ctx.output(0);
  dispatch_dtype(x.dtype(), "ConvTranspose", [&]<typename T>() {
    if constexpr (!std::is_floating_point_v<ref::compute_t<T>>) {
      ctx.fail("dtype ", dtype_name(x.dtype()), " is not supported");
    } else {
      using Acc = ref::compute_t<T>;
      const T* px = x.data<T>();
      const T* pw = w.data<T>();
      std::vector<Acc> acc(static_cast<size_t>(checked_numel({N, M, out_size})), Acc{0});
      for (int64_t n = 0; n < N; ++n) {
        for (int64_t c = 0; c < C; ++c) {
          const int64_t gi = c / cg;
          for (int64_t i = 0; i < in_size; ++i) {
            const Acc xv = static_cast<Acc>(px[(n * C + c) * in_size + i]);
            for (int64_t t = 0; t < taps; ++t) {
              int64_t off = 0;
              bool inside = true;
              for (size_t d = 0; d < rank && inside; ++d) {
                const int64_t o = ic[static_cast<size_t>(i) * rank + d] * win.strides[d] -
                                  pad_begin[d] +
                                  kc[static_cast<size_t>(t) * rank + d] * win.dilations[d];
                inside = o >= 0 && o < out_sp[d];
                off += o * os[d];
              }
              if (!inside) continue;
              for (int64_t m = 0; m < mg; ++m) {
                const int64_t om = gi * mg + m;
                acc[static_cast<size_t>((n * M + om) * out_size + off)] +=
                    xv * static_cast<Acc>(pw[(c * mg + m) * taps + t]);
              }
            }
          }
        }
      }
      T* py = y.data<T>();
      for (int64_t n = 0; n < N; ++n) {
        for (int64_t m = 0; m < M; ++m) {
          const Acc bias = b ? static_cast<Acc>(b->data<T>()[m]) : Acc{0};
          for (int64_t o = 0; o < out_size; ++o) {
            const size_t k = static_cast<size_t>((n * M + m) * out_size + o);
            py[k] = static_cast<T>(acc[k] + bias);
          }
        }
      }
    }
  });
}

}  // namespace kiln
