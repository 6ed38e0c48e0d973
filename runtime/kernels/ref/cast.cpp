// Reference kernels for Cast and CastLike: every pair of Kiln dtypes, through ref::convert
// (round to nearest even into f16/bf16, truncation toward zero into integers, NaN -> 0,
// nonzero -> true). The `saturate` and `round_mode` attributes only affect float8 targets,
// which inference already rejects as unsupported.
#include "runtime/kernels/ref/elementwise_loops.h"

namespace kiln {

namespace {

void cast_into(KernelContext& ctx, const Tensor& x, DType to) {
  Tensor& y = ctx.output(0, x.dims());
  ctx.check(y.dtype() == to, "inferred output dtype ", dtype_name(y.dtype()), " differs from ",
            dtype_name(to));
  ref::dispatch_set<ref::kAnyType>(ctx, x.dtype(), [&]<typename From>() {
    ref::dispatch_set<ref::kAnyType>(ctx, to, [&]<typename To>() {
      const From* xs = x.data<From>();
      To* ys = y.data<To>();
      for (int64_t i = 0; i < x.numel(); ++i) ys[i] = ref::convert<To>(xs[i]);
    });
  });
}

}  // namespace

void ref_Cast(KernelContext& ctx) { cast_into(ctx, ctx.input(0), ctx.output_types.at(0).dtype); }

void ref_CastLike(KernelContext& ctx) { cast_into(ctx, ctx.input(0), ctx.input(1).dtype()); }

}  // namespace kiln
