// Shape inference for matrix products: MatMul, Gemm, Einsum, MatMulInteger, QLinearMatMul, Det.
#include <algorithm>

#include "ir/infer/einsum_equation.h"
#include "ir/infer_util.h"

namespace kiln {

namespace {

bool is_one_of(DType t, std::initializer_list<DType> allowed) {
  return std::find(allowed.begin(), allowed.end(), t) != allowed.end();
}

void require_dtype(const InferContext& ctx, size_t i, std::initializer_list<DType> allowed,
                   const char* what) {
  const DType t = ctx.dtype(i);
  if (!is_one_of(t, allowed))
    ctx.fail("input ", i, " has dtype ", dtype_name(t), ", expected ", what);
}

void require_same_dtype(const InferContext& ctx, size_t a, size_t b) {
  if (ctx.dtype(a) != ctx.dtype(b)) {
    ctx.fail("inputs ", a, " and ", b, " must have the same dtype, got ", dtype_name(ctx.dtype(a)),
             " and ", dtype_name(ctx.dtype(b)));
  }
}

// numpy matmul shape: 1-D operands are promoted (and the added axis removed), batch dims
// broadcast, inner dims must agree.
Shape matmul_shape(const InferContext& ctx, const Shape& a, const Shape& b) {
  if (a.rank_known && a.rank() == 0) ctx.fail("input A must have rank >= 1, got a scalar");
  if (b.rank_known && b.rank() == 0) ctx.fail("input B must have rank >= 1, got a scalar");
  if (!a.rank_known || !b.rank_known) return Shape::unknown_rank();
  Shape a2 = a, b2 = b;
  if (a.rank() == 1) a2.dims.insert(a2.dims.begin(), Dim::of(1));
  if (b.rank() == 1) b2.dims.push_back(Dim::of(1));
  const Dim& ka = a2.dims[a2.rank() - 1];
  const Dim& kb = b2.dims[b2.rank() - 2];
  if (ka.is_static() && kb.is_static() && ka.value != kb.value) {
    ctx.fail("inner dimensions differ: A ", a.to_string(), " and B ", b.to_string());
  }
  Shape ab = a2, bb = b2;
  ab.dims.resize(a2.rank() - 2);
  bb.dims.resize(b2.rank() - 2);
  Shape out = broadcast_shapes(ctx, ab, bb);
  if (a.rank() > 1) out.dims.push_back(a2.dims[a2.rank() - 2]);
  if (b.rank() > 1) out.dims.push_back(b2.dims[b2.rank() - 1]);
  return out;
}

// MatMulInteger's zero points: a scalar, a per-row vector (A) / per-column vector (B), or an
// N-D tensor broadcastable to the operand; the dtype must equal the operand's.
void check_zero_point(const InferContext& ctx, size_t zp, size_t of) {
  if (!ctx.has_input(zp)) return;
  if (ctx.dtype(zp) != ctx.dtype(of)) {
    ctx.fail("zero point (input ", zp, ") has dtype ", dtype_name(ctx.dtype(zp)),
             " but its operand (input ", of, ") is ", dtype_name(ctx.dtype(of)));
  }
}

// QLinear scales: float (f16/bf16 from opset 21); a scalar, per-row or per-column tensor
// (its shape is checked against the operand by the kernel).
void check_qscale(const InferContext& ctx, size_t i) {
  if (ctx.opset >= 21) {
    require_dtype(ctx, i, {DType::F32, DType::F16, DType::BF16}, "f32, f16 or bf16 (scale)");
  } else {
    require_dtype(ctx, i, {DType::F32}, "f32 (scale)");
  }
}

constexpr std::initializer_list<DType> kQuant8 = {DType::I8, DType::U8};

}  // namespace

void infer_MatMul(InferContext& ctx) {
  require_dtype(ctx, 0,
                {DType::F32, DType::F64, DType::F16, DType::BF16, DType::I32, DType::I64,
                 DType::U32, DType::U64},
                "a float or 32/64-bit integer type");
  require_same_dtype(ctx, 0, 1);
  ctx.output(0).dtype = ctx.dtype(0);
  ctx.output(0).shape = matmul_shape(ctx, ctx.shape(0), ctx.shape(1));
}

void infer_MatMulInteger(InferContext& ctx) {
  require_dtype(ctx, 0, kQuant8, "i8 or u8");
  require_dtype(ctx, 1, kQuant8, "i8 or u8");
  check_zero_point(ctx, 2, 0);
  check_zero_point(ctx, 3, 1);
  ctx.output(0).dtype = DType::I32;
  ctx.output(0).shape = matmul_shape(ctx, ctx.shape(0), ctx.shape(1));
}

void infer_QLinearMatMul(InferContext& ctx) {
  // a, a_scale, a_zero_point, b, b_scale, b_zero_point, y_scale, y_zero_point
  require_dtype(ctx, 0, kQuant8, "i8 or u8 (float8 is not supported)");
  require_dtype(ctx, 3, kQuant8, "i8 or u8 (float8 is not supported)");
  require_dtype(ctx, 7, kQuant8, "i8 or u8 (float8 is not supported)");
  check_zero_point(ctx, 2, 0);
  check_zero_point(ctx, 5, 3);
  for (size_t i : {1, 4, 6}) check_qscale(ctx, i);
  ctx.output(0).dtype = ctx.dtype(7);
  ctx.output(0).shape = matmul_shape(ctx, ctx.shape(0), ctx.shape(3));
}

void infer_Gemm(InferContext& ctx) {
  require_dtype(ctx, 0,
                {DType::F32, DType::F64, DType::F16, DType::BF16, DType::I32, DType::I64,
                 DType::U32, DType::U64},
                "a float or 32/64-bit integer type");
  require_same_dtype(ctx, 0, 1);
  if (ctx.has_input(2)) {
    require_same_dtype(ctx, 0, 2);
  } else if (ctx.opset < 11) {
    ctx.fail("input C is required before opset 11");
  }
  const bool ta = ctx.attr().get_int("transA", 0) != 0;
  const bool tb = ctx.attr().get_int("transB", 0) != 0;
  const Shape& a = ctx.shape(0);
  const Shape& b = ctx.shape(1);
  if (a.rank_known && a.rank() != 2) ctx.fail("A must be 2-D, got ", a.to_string());
  if (b.rank_known && b.rank() != 2) ctx.fail("B must be 2-D, got ", b.to_string());
  Shape out = Shape::of_rank(2);
  if (a.rank_known) out.dims[0] = a.dims[ta ? 1 : 0];
  if (b.rank_known) out.dims[1] = b.dims[tb ? 0 : 1];
  if (a.rank_known && b.rank_known) {
    const Dim& ka = a.dims[ta ? 0 : 1];
    const Dim& kb = b.dims[tb ? 1 : 0];
    if (ka.is_static() && kb.is_static() && ka.value != kb.value) {
      ctx.fail("inner dimensions differ: A ", a.to_string(), (ta ? "^T" : ""), " and B ",
               b.to_string(), (tb ? "^T" : ""));
    }
  }
  if (ctx.has_input(2)) {
    // C broadcasts one way onto [M, N].
    const Shape& c = ctx.shape(2);
    if (c.rank_known) {
      if (c.rank() > 2) ctx.fail("C must have rank <= 2, got ", c.to_string());
      for (size_t i = 0; i < c.rank(); ++i) {
        const Dim& cd = c.dims[i];
        Dim& od = out.dims[2 - c.rank() + i];
        if (!cd.is_static() || cd.value == 1) continue;
        if (od.is_static() && od.value != cd.value) {
          ctx.fail("C ", c.to_string(), " does not broadcast to the product's shape ",
                   out.to_string());
        }
        od = cd;
      }
    }
  }
  ctx.output(0).dtype = ctx.dtype(0);
  ctx.output(0).shape = out;
}

void infer_Einsum(InferContext& ctx) {
  const DType t = ctx.dtype(0);
  if (!is_one_of(t, {DType::F32, DType::F64, DType::F16, DType::BF16, DType::I8, DType::I16,
                     DType::I32, DType::I64, DType::U8, DType::U16, DType::U32, DType::U64})) {
    ctx.fail("input 0 has dtype ", dtype_name(t), ", expected a numeric type");
  }
  std::vector<int64_t> ranks;
  for (size_t i = 0; i < ctx.num_inputs(); ++i) {
    if (!ctx.has_input(i)) ctx.fail("input ", i, " is missing");
    require_same_dtype(ctx, 0, i);
    const Shape& s = ctx.shape(i);
    ranks.push_back(s.rank_known ? static_cast<int64_t>(s.rank()) : -1);
  }
  const EinsumEquation eq = parse_einsum(ctx.attr().get_string("equation", ""), ranks, ctx.where());
  // Size of each label: a known size wins over 1 (broadcast) and over unknowns.
  std::vector<Dim> size(static_cast<size_t>(eq.num_labels()));
  std::vector<bool> known(size.size(), false);
  for (size_t i = 0; i < eq.inputs.size(); ++i) {
    const Shape& s = ctx.shape(i);
    if (!s.rank_known) continue;
    for (size_t ax = 0; ax < eq.inputs[i].size(); ++ax) {
      const size_t l = static_cast<size_t>(eq.inputs[i][ax]);
      const Dim& d = s.dims[ax];
      if (!known[l]) {
        size[l] = d;
        known[l] = true;
      } else if (d.is_static() && size[l].is_static()) {
        if (d.value != size[l].value && d.value != 1 && size[l].value != 1) {
          ctx.fail("equation '", ctx.attr().get_string("equation", ""), "': a label has sizes ",
                   size[l].value, " and ", d.value);
        }
        if (size[l].value == 1) size[l] = d;
      } else if (d.is_static() && d.value != 1) {
        size[l] = d;
      } else if (!size[l].is_static() && !(size[l] == d)) {
        size[l] = Dim::unknown();
      }
    }
  }
  Shape out = Shape::of_rank(eq.output.size());
  for (size_t i = 0; i < eq.output.size(); ++i)
    out.dims[i] = size[static_cast<size_t>(eq.output[i])];
  ctx.output(0).dtype = t;
  ctx.output(0).shape = out;
}

void infer_Det(InferContext& ctx) {
  require_dtype(ctx, 0, {DType::F32, DType::F64, DType::F16, DType::BF16}, "a float type");
  const Shape& x = ctx.shape(0);
  ctx.output(0).dtype = ctx.dtype(0);
  if (!x.rank_known) {
    ctx.output(0).shape = Shape::unknown_rank();
    return;
  }
  if (x.rank() < 2) ctx.fail("input must have rank >= 2 ([..., M, M]), got ", x.to_string());
  const Dim& r = x.dims[x.rank() - 2];
  const Dim& c = x.dims[x.rank() - 1];
  if (r.is_static() && c.is_static() && r.value != c.value) {
    ctx.fail("input matrices must be square, got ", x.to_string());
  }
  Shape out = x;
  out.dims.resize(x.rank() - 2);
  ctx.output(0).shape = out;
}

}  // namespace kiln
