// Reference kernels for data-movement ops: Transpose, Concat, Split, Slice, DepthToSpace,
// SpaceToDepth, Trilu, ReverseSequence, CenterCropPad, Dropout.
#include <cstring>
#include <random>

#include "runtime/kernels/ref/ref_util.h"
#include "runtime/kernels/ref/shape_kernel_util.h"

namespace kiln {

namespace {

// Product of dims[from, to).
int64_t prod(const Dims& dims, size_t from, size_t to) {
  int64_t p = 1;
  for (size_t i = from; i < to; ++i) p *= dims[i];
  return p;
}

}  // namespace

void ref_Transpose(KernelContext& ctx) {
  const Tensor& in = ctx.input(0);
  Tensor& out = ctx.output(0);
  const size_t r = static_cast<size_t>(in.rank());
  std::vector<int64_t> perm = ctx.attr().get_ints("perm");
  if (!ctx.attr().has("perm")) {
    for (size_t i = 0; i < r; ++i) perm.push_back(static_cast<int64_t>(r - 1 - i));
  }
  const std::vector<int64_t> in_strides = ref::strides_of(in.dims());
  std::vector<int64_t> src_strides(r);
  for (size_t i = 0; i < r; ++i) src_strides[i] = in_strides[static_cast<size_t>(perm[i])];
  ref::MultiIndex it(out.dims(), {src_strides});
  for (int64_t i = 0; i < out.numel(); ++i, it.next()) ref::copy_bytes(out, i, in, it.offset(0));
}

void ref_Concat(KernelContext& ctx) {
  Tensor& out = ctx.output(0);
  const size_t axis =
      static_cast<size_t>(norm_axis(ref::op_args(ctx), ctx.attr().get_int("axis"), out.rank()));
  const size_t es = dtype_size(out.dtype());
  const int64_t outer = prod(out.dims(), 0, axis);
  const int64_t out_row = prod(out.dims(), axis, out.dims().size());
  int64_t col = 0;  // elements of each output row filled so far
  for (size_t k = 0; k < ctx.num_inputs(); ++k) {
    const Tensor& in = ctx.input(k);
    const int64_t row = prod(in.dims(), axis, in.dims().size());
    for (int64_t o = 0; o < outer; ++o) {
      std::memcpy(static_cast<char*>(out.raw()) + static_cast<size_t>(o * out_row + col) * es,
                  static_cast<const char*>(in.raw()) + static_cast<size_t>(o * row) * es,
                  static_cast<size_t>(row) * es);
    }
    col += row;
  }
}

void ref_Split(KernelContext& ctx) {
  const Tensor& in = ctx.input(0);
  const size_t axis =
      static_cast<size_t>(norm_axis(ref::op_args(ctx), ctx.attr().get_int("axis", 0), in.rank()));
  const size_t es = dtype_size(in.dtype());
  const int64_t outer = prod(in.dims(), 0, axis);
  const int64_t in_row = prod(in.dims(), axis, in.dims().size());
  int64_t col = 0;
  for (size_t k = 0; k < ctx.num_outputs(); ++k) {
    Tensor& out = ctx.output(k);
    const int64_t row = prod(out.dims(), axis, out.dims().size());
    for (int64_t o = 0; o < outer; ++o) {
      std::memcpy(static_cast<char*>(out.raw()) + static_cast<size_t>(o * row) * es,
                  static_cast<const char*>(in.raw()) + static_cast<size_t>(o * in_row + col) * es,
                  static_cast<size_t>(row) * es);
    }
    col += row;
  }
}

void ref_Slice(KernelContext& ctx) {
  const Tensor& in = ctx.input(0);
  Tensor& out = ctx.output(0);
  const auto spec = slice_spec(ref::op_args(ctx), in.rank());
  const std::vector<int64_t> in_strides = ref::strides_of(in.dims());
  std::vector<int64_t> strides = in_strides;  // per output step, in input elements
  int64_t base = 0;
  for (const SliceAxisSpec& s : *spec) {
    const size_t ax = static_cast<size_t>(s.axis);
    const SliceRange r = clamp_slice(s.start, s.end, s.step, in.dims()[ax]);
    ctx.check(r.count == out.dims()[ax], "internal: slice size mismatch on axis ", ax);
    if (r.count == 0) return;  // empty output
    base += r.start * in_strides[ax];
    strides[ax] = r.step * in_strides[ax];
  }
  ref::MultiIndex it(out.dims(), {strides});
  for (int64_t i = 0; i < out.numel(); ++i, it.next()) {
    ref::copy_bytes(out, i, in, base + it.offset(0));
  }
}

void ref_DepthToSpace(KernelContext& ctx) {
  const Tensor& in = ctx.input(0);
  Tensor& out = ctx.output(0);
  const int64_t b = ctx.attr().get_int("blocksize");
  const bool crd = ctx.opset >= 11 && ctx.attr().get_string("mode", "DCR") == "CRD";
  const int64_t N = out.dim(0), C = out.dim(1), H = in.dim(2), W = in.dim(3);
  int64_t o = 0;
  for (int64_t n = 0; n < N; ++n)
    for (int64_t c = 0; c < C; ++c)
      for (int64_t h = 0; h < H; ++h)
        for (int64_t i = 0; i < b; ++i)
          for (int64_t w = 0; w < W; ++w)
            for (int64_t j = 0; j < b; ++j, ++o) {
              const int64_t ic = crd ? c * b * b + i * b + j : (i * b + j) * C + c;
              ref::copy_bytes(out, o, in, ((n * C * b * b + ic) * H + h) * W + w);
            }
}

void ref_SpaceToDepth(KernelContext& ctx) {
  const Tensor& in = ctx.input(0);
  Tensor& out = ctx.output(0);
  const int64_t b = ctx.attr().get_int("blocksize");
  const int64_t N = in.dim(0), C = in.dim(1), H = out.dim(2), W = out.dim(3);
  int64_t o = 0;
  for (int64_t n = 0; n < N; ++n)
    for (int64_t i = 0; i < b; ++i)
      for (int64_t j = 0; j < b; ++j)
        for (int64_t c = 0; c < C; ++c)
          for (int64_t h = 0; h < H; ++h)
            for (int64_t w = 0; w < W; ++w, ++o) {
              ref::copy_bytes(out, o, in, ((n * C + c) * H * b + h * b + i) * W * b + w * b + j);
            }
}

void ref_Trilu(KernelContext& ctx) {
  const Tensor& in = ctx.input(0);
  Tensor& out = ctx.output(0);
  const bool upper = ctx.attr().get_int("upper", 1) != 0;
  const int64_t k = ctx.has_input(1) ? *ref::op_args(ctx).int_scalar(1, "k") : 0;
  const int64_t rows = in.dim(in.rank() - 2), cols = in.dim(in.rank() - 1);
  int64_t o = 0;
  for (int64_t m = 0; m < in.numel() / std::max<int64_t>(rows * cols, 1); ++m)
    for (int64_t i = 0; i < rows; ++i)
      for (int64_t j = 0; j < cols; ++j, ++o) {
        // keep j - i >= k (upper) or j - i <= k (lower); compare in 128 bits for hostile k
        const __int128 diff = static_cast<__int128>(j) - i;
        if (upper ? diff >= k : diff <= k) ref::copy_bytes(out, o, in, o);
      }
}

void ref_ReverseSequence(KernelContext& ctx) {
  const Tensor& in = ctx.input(0);
  const Tensor& lens = ctx.input(1);
  Tensor& out = ctx.output(0);
  const size_t batch_axis = static_cast<size_t>(ctx.attr().get_int("batch_axis", 1));
  const size_t time_axis = static_cast<size_t>(ctx.attr().get_int("time_axis", 0));
  const int64_t B = in.dims()[batch_axis], T = in.dims()[time_axis];
  ctx.check(lens.numel() == B, "sequence_lens has ", lens.numel(), " entries for batch ", B);
  for (int64_t b = 0; b < B; ++b) {
    const int64_t l = lens.as_int64(b);
    ctx.check(l >= 0 && l <= T, "sequence length ", l, " is out of range [0, ", T, "]");
  }
  const std::vector<int64_t> st = ref::strides_of(in.dims());
  ref::MultiIndex it(in.dims(), {st});
  for (int64_t i = 0; i < in.numel(); ++i, it.next()) {
    const int64_t b = it.index()[batch_axis], t = it.index()[time_axis];
    const int64_t l = lens.as_int64(b);
    const int64_t src_t = t < l ? l - 1 - t : t;
    ref::copy_bytes(out, i, in, i + (src_t - t) * st[time_axis]);
  }
}

void ref_CenterCropPad(KernelContext& ctx) {
  const Tensor& in = ctx.input(0);
  Tensor& out = ctx.output(0);
  const size_t r = static_cast<size_t>(in.rank());
  // Per axis: output index o reads input index o + shift (crop: shift > 0, pad: shift < 0).
  std::vector<int64_t> shift(r, 0);
  for (size_t a = 0; a < r; ++a) {
    const int64_t dim = in.dims()[a], sh = out.dims()[a];
    shift[a] = dim >= sh ? (dim - sh) / 2 : -((sh - dim) / 2);
  }
  const std::vector<int64_t> st = ref::strides_of(in.dims());
  ref::MultiIndex it(out.dims(), {});
  for (int64_t i = 0; i < out.numel(); ++i, it.next()) {
    int64_t src = 0;
    bool inside = true;
    for (size_t a = 0; a < r && inside; ++a) {
      const int64_t p = it.index()[a] + shift[a];
      inside = p >= 0 && p < in.dims()[a];
      src += p * st[a];
    }
    if (inside) ref::copy_bytes(out, i, in, src);
  }
}

void ref_Dropout(KernelContext& ctx) {
  const Tensor& in = ctx.input(0);
  double ratio = 0.5;
  bool training = false;
  if (ctx.opset >= 12) {
    if (ctx.has_input(1)) ratio = ctx.input(1).as_double(0);
    if (ctx.has_input(2)) training = ctx.input(2).as_int64(0) != 0;
  } else {
    ratio = ctx.attr().get_float("ratio", 0.5f);
  }
  ctx.check(ratio >= 0 && ratio < 1, "ratio ", ratio, " must be in [0, 1)");
  Tensor& out = ctx.output(0);
  Tensor* mask = ctx.wants_output(1) ? &ctx.output(1) : nullptr;
  if (!training || ratio == 0) {
    if (in.nbytes()) std::memcpy(out.raw(), in.raw(), in.nbytes());
    if (mask) {
      dispatch_dtype(mask->dtype(), "Dropout mask", [&]<typename M>() {
        for (int64_t i = 0; i < mask->numel(); ++i) mask->data<M>()[i] = static_cast<M>(1.0f);
      });
    }
    return;
  }
  // Training: keep each element with probability 1 - ratio and scale by 1 / (1 - ratio).
  // The uniform draws reproduce numpy's legacy RandomState(seed).uniform (MT19937 seeded
  // with init_genrand, 53-bit doubles from two 32-bit words), as onnx.reference does, so
  // the conformance data matches. Without a seed attribute the stream uses seed 0.
  std::mt19937 rng(static_cast<uint32_t>(ctx.attr().get_int("seed", 0)));
  auto uni = [](std::mt19937& g) {
    const uint32_t hi = g() >> 5, lo = g() >> 6;
    return (hi * 67108864.0 + lo) / 9007199254740992.0;
  };
  const double scale = 1.0 / (1.0 - ratio);
  dispatch_dtype(in.dtype(), "Dropout", [&]<typename T>() {
    if constexpr (std::is_integral_v<T>) {
      ctx.fail("input must be a float tensor, got ", in.describe());
    } else {
      using C = ref::compute_t<T>;
      const T* x = in.data<T>();
      T* y = out.data<T>();
      for (int64_t i = 0; i < in.numel(); ++i) {
        const bool keep = uni(rng) >= ratio;
        y[i] = static_cast<T>(keep ? static_cast<C>(static_cast<C>(x[i]) * scale) : C(0));
        if (mask) mask->data<bool>()[i] = keep;
      }
    }
  });
}

}  // namespace kiln
