// Gradient rules of the matrix products, convolution and pooling.
//   MatMul / Gemm: products with transposed operands (Gemm's trans flags do the transposing).
//   Conv: input gradient = ConvTranspose with the same weights; weight gradient =
//         KilnConvGradWeight; bias gradient = ReduceSum over batch and space.
//   MaxPool: KilnMaxPoolGrad scatters dY to the argmax positions saved in MaxPool's Indices.
#include "ir/infer/conv_shape.h"
#include "train/gradient_rules.h"

namespace kiln::train {

namespace {
using enum OpKind;

// Transpose of the last two axes.
Value* transpose_last2(GradContext& ctx, Value* v) {
  const int64_t r = ctx.rank(v);
  std::vector<int64_t> perm;
  for (int64_t i = 0; i < r; ++i) perm.push_back(i);
  std::swap(perm[static_cast<size_t>(r - 2)], perm[static_cast<size_t>(r - 1)]);
  return ctx.op(Transpose, {v}, make_attrs({{"perm", Attribute::of_ints(perm)}}));
}

Value* gemm(GradContext& ctx, Value* a, Value* b, bool ta, bool tb, float alpha) {
  return ctx.op(Gemm, {a, b},
                make_attrs({{"alpha", Attribute::of_float(alpha)},
                            {"transA", Attribute::of_int(ta ? 1 : 0)},
                            {"transB", Attribute::of_int(tb ? 1 : 0)}}));
}

std::vector<int64_t> all_but_channel_axes(int64_t rank) {
  std::vector<int64_t> axes = {0};
  for (int64_t i = 2; i < rank; ++i) axes.push_back(i);
  return axes;
}
}  // namespace

// Y = A B (batched over leading axes, broadcast): dA = dY B^T, dB = A^T dY, summed over
// broadcast batch axes.
void grad_MatMul(GradContext& ctx) {
  ctx.check(ctx.rank(ctx.x(0)) >= 2 && ctx.rank(ctx.x(1)) >= 2,
            "1-D MatMul operands are not supported by the gradient; use rank >= 2");
  if (ctx.needs(0)) {
    Value* g = ctx.op(MatMul, {ctx.dy(0), transpose_last2(ctx, ctx.x(1))});
    ctx.set_dx(0, ctx.sum_to(g, ctx.x(0)));
  }
  if (ctx.needs(1)) {
    Value* g = ctx.op(MatMul, {transpose_last2(ctx, ctx.x(0)), ctx.dy(0)});
    ctx.set_dx(1, ctx.sum_to(g, ctx.x(1)));
  }
}

// Y = alpha op(A) op(B) + beta C, op = optional transpose.
void grad_Gemm(GradContext& ctx) {
  const bool ta = ctx.attr_int("transA", 0) != 0, tb = ctx.attr_int("transB", 0) != 0;
  const float alpha = ctx.node().attrs.get_float("alpha", 1.0f);
  const float beta = ctx.node().attrs.get_float("beta", 1.0f);
  Value* dy = ctx.dy(0);
  if (ctx.needs(0)) {
    // op(A) gradient is alpha dY op(B)^T; A^T's gradient is its transpose.
    ctx.set_dx(0, ta ? gemm(ctx, ctx.x(1), dy, tb, true, alpha)
                     : gemm(ctx, dy, ctx.x(1), false, !tb, alpha));
  }
  if (ctx.needs(1)) {
    ctx.set_dx(1, tb ? gemm(ctx, dy, ctx.x(0), true, ta, alpha)
                     : gemm(ctx, ctx.x(0), dy, !ta, false, alpha));
  }
  if (ctx.needs(2)) {
    Value* g = beta == 1.0f ? dy : ctx.op(Mul, {dy, ctx.scalar(beta, dy->type.dtype)});
    ctx.set_dx(2, ctx.sum_to(g, ctx.x(2)));
  }
}

void grad_Conv(GradContext& ctx) {
  Value* x = ctx.x(0);
  Value* w = ctx.x(1);
  Value* dy = ctx.dy(0);
  const Dims wd = ctx.static_dims(w);
  const std::vector<int64_t> kernel(wd.begin() + 2, wd.end());
  const kiln::Shape& xs = ctx.shape(x);
  const ConvShape cs = conv_shape(ctx.node().attrs, xs, w->type.shape, ctx.where());
  ctx.check(cs.window.has_value(), "the kernel shape is unknown");
  const Window& win = *cs.window;
  if (ctx.needs(0)) {
    // ConvTranspose with the forward's resolved pads; output_padding restores the rows a
    // strided convolution dropped at the end.
    std::vector<int64_t> in_sp, pads_begin, pads_end, out_pad;
    for (size_t i = 0; i < kernel.size(); ++i) {
      const Dim& d = xs.dims[i + 2];
      ctx.check(d.is_static(), "X needs static spatial dims, has ", xs.to_string());
      in_sp.push_back(d.value);
    }
    const std::vector<WindowAxis> axes = window_axes(win, in_sp, ctx.where());
    for (size_t i = 0; i < axes.size(); ++i) {
      pads_begin.push_back(axes[i].pad_begin);
      pads_end.push_back(axes[i].pad_end);
      const int64_t natural = (axes[i].out - 1) * win.strides[i] + win.effective_kernel(i) -
                              axes[i].pad_begin - axes[i].pad_end;
      out_pad.push_back(in_sp[i] - natural);
    }
    std::vector<int64_t> pads = pads_begin;
    pads.insert(pads.end(), pads_end.begin(), pads_end.end());
    ctx.set_dx(0, ctx.op(ConvTranspose, {dy, w},
                         make_attrs({{"kernel_shape", Attribute::of_ints(kernel)},
                                     {"strides", Attribute::of_ints(win.strides)},
                                     {"dilations", Attribute::of_ints(win.dilations)},
                                     {"pads", Attribute::of_ints(pads)},
                                     {"output_padding", Attribute::of_ints(out_pad)},
                                     {"group", Attribute::of_int(cs.group)}})));
  }
  if (ctx.needs(1)) {
    Attributes a = ctx.node().attrs;
    a.set("kernel_shape", Attribute::of_ints(kernel));
    ctx.set_dx(1, ctx.op(KilnConvGradWeight, {x, dy}, std::move(a)));
  }
  if (ctx.needs(2)) {
    ctx.set_dx(2, ctx.op(ReduceSum, {dy, ctx.ints(all_but_channel_axes(ctx.rank(dy)))},
                         make_attrs({{"keepdims", Attribute::of_int(0)}})));
  }
}

void grad_MaxPool(GradContext& ctx) {
  Value* indices = ctx.y(1);
  if (!indices || ctx.attr_int("storage_order", 0) != 0) {
    // No row-major indices saved: recompute them with a second MaxPool.
    Attributes a = ctx.node().attrs;
    a.erase("storage_order");
    indices = ctx.op_n(MaxPool, {ctx.x(0)}, 2, std::move(a))[1];
  }
  ctx.set_dx(0, ctx.op(KilnMaxPoolGrad, {ctx.dy(0), indices, ctx.x(0)}));
}

void grad_AveragePool(GradContext& ctx) {
  ctx.set_dx(0, ctx.op(KilnAveragePoolGrad, {ctx.dy(0), ctx.x(0)}, ctx.node().attrs));
}

// Every input element gets dY / (spatial size) of its (n, c) plane.
void grad_GlobalAveragePool(GradContext& ctx) {
  const kiln::Shape& xs = ctx.shape(ctx.x(0));
  int64_t plane = 1;
  for (size_t i = 2; i < xs.rank(); ++i) {
    ctx.check(xs.dims[i].is_static(), "X needs static spatial dims, has ", xs.to_string());
    plane *= xs.dims[i].value;
  }
  Value* dims = xs.is_static() ? ctx.ints(xs.static_dims()) : ctx.shape_of(ctx.x(0));
  Value* spread = ctx.op(Expand, {ctx.dy(0), dims});
  ctx.set_dx(0, ctx.op(Div, {spread, ctx.scalar(static_cast<double>(plane), ctx.x(0)->type.dtype)}));
}

}  // namespace kiln::train
