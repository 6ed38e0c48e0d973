// MaxUnpool reference kernel: scatters X into zeros at the flat positions given by I.
// As in the ONNX reference implementation, I indexes the unpooled tensor of the natural size
// [N, C, (in - 1) * stride - pads + kernel ...]; an output_shape input only enlarges the
// output, with that block placed at its origin and the rest zero.
#include <algorithm>

#include "ir/infer/window.h"
#include "runtime/kernels/ref/kernel.h"
#include "runtime/kernels/ref/ref_util.h"

namespace kiln {

void ref_MaxUnpool(KernelContext& ctx) {
  const Tensor& x = ctx.input(0);
  const Tensor& ind = ctx.input(1);
  ctx.check(ind.dims() == x.dims(), "indices shape ", dims_to_string(ind.dims()),
            " does not match X's shape ", dims_to_string(x.dims()));
  const Window w = read_window(ctx.attr(), ctx.attr().get_ints("kernel_shape"), ctx.where());
  const size_t rank = x.dims().size();
  ctx.check(rank == w.rank() + 2, "kernel_shape has ", w.rank(), " values for input rank ", rank);
  Dims natural = x.dims();
  for (size_t i = 0; i < w.rank(); ++i) {
    natural[i + 2] = (x.dims()[i + 2] - 1) * w.strides[i] - w.pads[i] - w.pads[i + w.rank()] +
                     w.kernel[i];
  }
  Tensor& y = ctx.output(0);
  const Dims& out = y.dims();
  ctx.check(out.size() == rank, "output rank ", out.size(), " does not match X's rank ", rank);
  for (size_t d = 0; d < rank; ++d) {
    ctx.check(out[d] >= natural[d], "output_shape ", dims_to_string(out),
              " is smaller than the unpooled shape ", dims_to_string(natural));
  }
  const int64_t natural_numel = checked_numel(natural);
  const std::vector<int64_t> natural_strides = ref::strides_of(natural);
  const std::vector<int64_t> out_strides = ref::strides_of(out);
  const int64_t* idx = ind.data<int64_t>();
  const size_t elem = dtype_size(x.dtype());
  const auto* src = static_cast<const unsigned char*>(x.raw());
  auto* dst = static_cast<unsigned char*>(y.raw());  // zero-filled at allocation
  for (int64_t i = 0; i < x.numel(); ++i) {
    int64_t flat = idx[i];
    ctx.check(flat >= 0 && flat < natural_numel, "index ", flat, " at position ", i,
              " is out of range [0, ", natural_numel, ")");
    // Natural-shape flat index -> output flat index (same multi-index).
    int64_t at = 0;
    for (size_t d = 0; d < rank; ++d) {
      at += (flat / natural_strides[d]) * out_strides[d];
      flat %= natural_strides[d];
    }
    std::copy(src + static_cast<size_t>(i) * elem, src + static_cast<size_t>(i + 1) * elem,
              dst + static_cast<size_t>(at) * elem);
  }
}

}  // namespace kiln
