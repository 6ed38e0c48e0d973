// Shape inference for the convolution family: Conv, ConvTranspose, ConvInteger, QLinearConv,
// and Col2Im (the adjoint of im2col, which shares the window arithmetic).
#include "ir/infer/conv_shape.h"
#include "ir/infer_util.h"

namespace kiln {

namespace {

bool is_quant8(DType t) { return t == DType::I8 || t == DType::U8; }

void require_float(const InferContext& ctx, size_t i) {
  if (!is_float(ctx.dtype(i))) {
    ctx.fail("input ", i, " has dtype ", dtype_name(ctx.dtype(i)),
             ", expected f32, f64, f16 or bf16");
  }
}

void require_quant8(const InferContext& ctx, size_t i) {
  if (!is_quant8(ctx.dtype(i))) {
    ctx.fail("input ", i, " has dtype ", dtype_name(ctx.dtype(i)), ", expected i8 or u8");
  }
}

void require_same(const InferContext& ctx, size_t a, size_t b) {
  if (ctx.dtype(a) != ctx.dtype(b)) {
    ctx.fail("inputs ", a, " and ", b, " must have the same dtype, got ", dtype_name(ctx.dtype(a)),
             " and ", dtype_name(ctx.dtype(b)));
  }
}

// A scalar, or a 1-D tensor of `count` elements (per output channel) when count is known.
void require_scalar_or_vector(const InferContext& ctx, size_t i, const Dim& count,
                              const char* what) {
  const Shape& s = ctx.shape(i);
  if (!s.rank_known) return;
  if (s.rank() > 1) ctx.fail(what, " (input ", i, ") must be a scalar or 1-D, got ", s.to_string());
  if (s.rank() == 1 && s.dims[0].is_static() && count.is_static() && s.dims[0].value != 1 &&
      s.dims[0].value != count.value) {
    ctx.fail(what, " (input ", i, ") has ", s.dims[0].value, " values but there are ", count.value,
             " output channels");
  }
}

// Bias: 1-D with one value per output channel.
void check_bias(const InferContext& ctx, size_t i, const Dim& m) {
  if (!ctx.has_input(i)) return;
  const Shape& s = ctx.shape(i);
  if (!s.rank_known) return;
  if (s.rank() != 1) ctx.fail("bias (input ", i, ") must be 1-D, got ", s.to_string());
  if (s.dims[0].is_static() && m.is_static() && s.dims[0].value != m.value) {
    ctx.fail("bias has ", s.dims[0].value, " values but there are ", m.value, " output channels");
  }
}

Dim out_channels(const Shape& out) { return out.rank_known ? out.dims[1] : Dim::unknown(); }

}  // namespace

void infer_Conv(InferContext& ctx) {
  require_float(ctx, 0);
  require_same(ctx, 0, 1);
  if (ctx.has_input(2)) require_same(ctx, 0, 2);
  const ConvShape cs = conv_shape(ctx.attr(), ctx.shape(0), ctx.shape(1), ctx.where());
  check_bias(ctx, 2, out_channels(cs.out));
  ctx.output(0).dtype = ctx.dtype(0);
  ctx.output(0).shape = cs.out;
}

void infer_ConvInteger(InferContext& ctx) {
  // x, w, x_zero_point, w_zero_point
  require_quant8(ctx, 0);
  require_quant8(ctx, 1);
  if (ctx.has_input(2)) require_same(ctx, 0, 2);
  if (ctx.has_input(3)) require_same(ctx, 1, 3);
  const ConvShape cs = conv_shape(ctx.attr(), ctx.shape(0), ctx.shape(1), ctx.where());
  if (ctx.has_input(2)) require_scalar_or_vector(ctx, 2, Dim::of(1), "x_zero_point");
  if (ctx.has_input(3)) require_scalar_or_vector(ctx, 3, out_channels(cs.out), "w_zero_point");
  ctx.output(0).dtype = DType::I32;
  ctx.output(0).shape = cs.out;
}

void infer_QLinearConv(InferContext& ctx) {
  // x, x_scale, x_zero_point, w, w_scale, w_zero_point, y_scale, y_zero_point, B
  require_quant8(ctx, 0);
  require_quant8(ctx, 3);
  require_quant8(ctx, 7);
  require_same(ctx, 0, 2);
  require_same(ctx, 3, 5);
  for (size_t i : {1, 4, 6}) {
    if (ctx.dtype(i) != DType::F32) {
      ctx.fail("scale (input ", i, ") has dtype ", dtype_name(ctx.dtype(i)), ", expected f32");
    }
  }
  const ConvShape cs = conv_shape(ctx.attr(), ctx.shape(0), ctx.shape(3), ctx.where());
  const Dim m = out_channels(cs.out);
  require_scalar_or_vector(ctx, 1, Dim::of(1), "x_scale");
  require_scalar_or_vector(ctx, 2, Dim::of(1), "x_zero_point");
  require_scalar_or_vector(ctx, 4, m, "w_scale");
  require_scalar_or_vector(ctx, 5, m, "w_zero_point");
  require_scalar_or_vector(ctx, 6, Dim::of(1), "y_scale");
  require_scalar_or_vector(ctx, 7, Dim::of(1), "y_zero_point");
  if (ctx.has_input(8)) {
    if (ctx.dtype(8) != DType::I32)
      ctx.fail("bias (input 8) must be i32, got ", dtype_name(ctx.dtype(8)));
    check_bias(ctx, 8, m);
  }
  ctx.output(0).dtype = ctx.dtype(7);
  ctx.output(0).shape = cs.out;
}

void infer_ConvTranspose(InferContext& ctx) {
  require_float(ctx, 0);
  require_same(ctx, 0, 1);
  if (ctx.has_input(2)) require_same(ctx, 0, 2);
  const ConvTransposeShape cs =
      conv_transpose_shape(ctx.attr(), ctx.shape(0), ctx.shape(1), ctx.where());
  check_bias(ctx, 2, out_channels(cs.out));
  ctx.output(0).dtype = ctx.dtype(0);
  ctx.output(0).shape = cs.out;
}

void infer_Col2Im(InferContext& ctx) {
  // input [N, C * prod(block_shape), L], image_shape, block_shape -> [N, C, image_shape...]
  const DType t = ctx.dtype(0);
  if (t == DType::String) ctx.fail("input 0 has dtype string, which is not supported");
  for (size_t i : {1, 2}) {
    if (ctx.dtype(i) != DType::I64)
      ctx.fail("input ", i, " must be i64, got ", dtype_name(ctx.dtype(i)));
    const Shape& s = ctx.shape(i);
    if (s.rank_known && s.rank() != 1) ctx.fail("input ", i, " must be 1-D, got ", s.to_string());
  }
  const Shape& x = ctx.shape(0);
  if (x.rank_known && x.rank() != 3)
    ctx.fail("input must be 3-D [N, C*prod(block), L], got ", x.to_string());
  ctx.output(0).dtype = t;

  const auto image = const_ints(ctx, 1);
  const auto block = const_ints(ctx, 2);
  int64_t n = -1;
  for (size_t i : {1, 2}) {
    const Shape& s = ctx.shape(i);
    if (s.rank_known && s.dims[0].is_static()) {
      if (n >= 0 && n != s.dims[0].value) {
        ctx.fail("image_shape and block_shape differ in length: ", ctx.shape(1).to_string(), " vs ",
                 ctx.shape(2).to_string());
      }
      n = s.dims[0].value;
    }
  }
  if (n < 0) {
    ctx.output(0).shape = Shape::unknown_rank();
    return;
  }
  if (n == 0) ctx.fail("image_shape and block_shape must not be empty");
  Shape out = Shape::of_rank(static_cast<size_t>(n) + 2);
  if (x.rank_known) out.dims[0] = x.dims[0];
  if (image) {
    for (size_t i = 0; i < image->size(); ++i) {
      if ((*image)[i] < 0) ctx.fail("image_shape has a negative size ", (*image)[i]);
      out.dims[i + 2] = Dim::of((*image)[i]);
    }
  }
  if (block) {
    int64_t prod = 1;
    for (int64_t b : *block) {
      if (b < 1) ctx.fail("block_shape has a size below 1: ", b);
      if (__builtin_mul_overflow(prod, b, &prod)) ctx.fail("block_shape is too large");
    }
    if (x.rank_known && x.dims[1].is_static()) {
      if (x.dims[1].value % prod != 0) {
        ctx.fail("input's dimension 1 (", x.dims[1].value, ") is not divisible by the block size ",
                 prod);
      }
      out.dims[1] = Dim::of(x.dims[1].value / prod);
    }
    if (image) {
      const Window w = read_window(ctx.attr(), *block, ctx.where());
      int64_t blocks = 1;
      for (size_t i = 0; i < w.rank(); ++i) {
        const int64_t count = window_axis(w, i, (*image)[i], ctx.where()).out;
        if (__builtin_mul_overflow(blocks, count, &blocks)) ctx.fail("too many blocks");
      }
      if (x.rank_known && x.dims[2].is_static() && x.dims[2].value != blocks) {
        ctx.fail("input has ", x.dims[2].value,
                 " blocks (dimension 2) but image_shape and block_shape give ", blocks);
      }
    }
  }
  ctx.output(0).shape = out;
}

}  // namespace kiln
