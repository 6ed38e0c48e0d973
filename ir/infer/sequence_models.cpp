// Shape inference for sequence-model ops: Attention, RotaryEmbedding, RNN, GRU, LSTM.
#include <string>

#include "ir/infer_util.h"

namespace kiln {

namespace {

// Two dims that must agree: fails when both are known and differ, else returns the known one.
Dim unify(const InferContext& ctx, const Dim& a, const Dim& b, const char* what) {
  if (a.is_static() && b.is_static() && a.value != b.value) {
    ctx.fail(what, " mismatch: ", a.value, " vs ", b.value);
  }
  if (a.is_static()) return a;
  if (b.is_static()) return b;
  return a.symbol.empty() ? b : a;
}

Dim dim_of(const Shape& s, size_t i) { return s.rank_known ? s.dims[i] : Dim::unknown(); }

// dim / n when known and divisible (fails otherwise); unknown when dim is unknown.
Dim dim_div(const InferContext& ctx, const Dim& d, int64_t n, const char* what) {
  if (!d.is_static()) return Dim::unknown();
  if (d.value % n != 0) ctx.fail(what, " ", d.value, " is not divisible by ", n);
  return Dim::of(d.value / n);
}

void require_float_input(const InferContext& ctx, size_t i, const char* what) {
  if (!is_float(ctx.dtype(i))) {
    ctx.fail(what, " (input ", i, ") must be f16, bf16, f32 or f64, got ", dtype_name(ctx.dtype(i)));
  }
}

void require_rank(const InferContext& ctx, size_t i, size_t lo, size_t hi, const char* what) {
  const Shape& s = ctx.shape(i);
  if (s.rank_known && (s.rank() < lo || s.rank() > hi)) {
    if (lo == hi) ctx.fail(what, " must have rank ", lo, ", got ", s.to_string());
    ctx.fail(what, " must have rank ", lo, " to ", hi, ", got ", s.to_string());
  }
}

}  // namespace

// ---- Attention (opset 23, 24)

void infer_Attention(InferContext& ctx) {
  for (size_t i = 0; i < 3; ++i) require_float_input(ctx, i, i == 0 ? "Q" : i == 1 ? "K" : "V");
  if (ctx.dtype(0) != ctx.dtype(1)) ctx.fail("Q and K must have the same dtype");
  const DType t1 = ctx.dtype(0), t2 = ctx.dtype(2);
  const Attributes& a = ctx.attr();
  const int64_t mode = a.get_int("qk_matmul_output_mode", 0);
  ctx.check(mode >= 0 && mode <= 3, "qk_matmul_output_mode must be 0..3, got ", mode);
  const int64_t causal = a.get_int("is_causal", 0);
  ctx.check(causal == 0 || causal == 1, "is_causal must be 0 or 1, got ", causal);
  if (a.has("softmax_precision")) {
    const int64_t p = a.get_int("softmax_precision");
    ctx.check(p == 1 || p == 10 || p == 11 || p == 16,
              "softmax_precision must be a float dtype code (1, 10, 11, 16), got ", p);
  }
  const bool has_past = ctx.has_input(4) || ctx.has_input(5);
  ctx.check(ctx.has_input(4) == ctx.has_input(5), "past_key and past_value must be given together");
  ctx.check(!(ctx.has_input(6) && has_past), "nonpad_kv_seqlen cannot be used with past_key/value");
  if (has_past) {
    if (ctx.dtype(4) != t1) ctx.fail("past_key must have Q's dtype");
    if (ctx.dtype(5) != t2) ctx.fail("past_value must have V's dtype");
  }
  if (ctx.has_input(6) && ctx.dtype(6) != DType::I64) ctx.fail("nonpad_kv_seqlen must be int64");
  if (ctx.has_input(3)) {
    const DType m = ctx.dtype(3);
    ctx.check(m == DType::Bool || is_float(m) || is_int(m), "attn_mask has unsupported dtype ",
              dtype_name(m));
    require_rank(ctx, 3, 0, 4, "attn_mask");
  }

  ctx.output(0).dtype = t1;
  if (ctx.num_outputs() > 1) ctx.output(1).dtype = t1;
  if (ctx.num_outputs() > 2) ctx.output(2).dtype = t2;
  if (ctx.num_outputs() > 3) ctx.output(3).dtype = t1;

  const Shape &q = ctx.shape(0), &k = ctx.shape(1), &v = ctx.shape(2);
  size_t rank = 0;
  for (const Shape* s : {&q, &k, &v}) {
    if (!s->rank_known) continue;
    if (s->rank() != 3 && s->rank() != 4) ctx.fail("Q, K and V must be 3-D or 4-D, got ", s->to_string());
    if (rank != 0 && s->rank() != rank) ctx.fail("Q, K and V must have the same rank");
    rank = s->rank();
  }
  const bool has_qh = a.has("q_num_heads"), has_kvh = a.has("kv_num_heads");
  if (rank == 0) {
    for (size_t i = 0; i < ctx.num_outputs(); ++i) {
      ctx.output(i).shape = i == 0 ? Shape::unknown_rank() : Shape::of_rank(4);
    }
    return;
  }
  // Bring everything to (batch, heads, seq, head_size) dims.
  Dim batch, hq, hkv, sq, skv, dq, dv;
  if (rank == 3) {
    ctx.check(has_qh && has_kvh, "3-D Q/K/V need the q_num_heads and kv_num_heads attributes");
    const int64_t nq = a.get_int("q_num_heads"), nkv = a.get_int("kv_num_heads");
    ctx.check(nq > 0 && nkv > 0, "q_num_heads and kv_num_heads must be positive, got ", nq, " and ", nkv);
    hq = Dim::of(nq);
    hkv = Dim::of(nkv);
    batch = unify(ctx, unify(ctx, dim_of(q, 0), dim_of(k, 0), "batch size"), dim_of(v, 0), "batch size");
    sq = dim_of(q, 1);
    skv = unify(ctx, dim_of(k, 1), dim_of(v, 1), "K/V sequence length");
    dq = dim_div(ctx, dim_of(q, 2), nq, "Q hidden size");
    const Dim dk = dim_div(ctx, dim_of(k, 2), nkv, "K hidden size");
    dq = unify(ctx, dq, dk, "Q/K head size");
    dv = dim_div(ctx, dim_of(v, 2), nkv, "V hidden size");
  } else {
    batch = unify(ctx, unify(ctx, dim_of(q, 0), dim_of(k, 0), "batch size"), dim_of(v, 0), "batch size");
    hq = dim_of(q, 1);
    hkv = unify(ctx, dim_of(k, 1), dim_of(v, 1), "K/V head count");
    sq = dim_of(q, 2);
    skv = unify(ctx, dim_of(k, 2), dim_of(v, 2), "K/V sequence length");
    dq = unify(ctx, dim_of(q, 3), dim_of(k, 3), "Q/K head size");
    dv = dim_of(v, 3);
  }
  if (hq.is_static() && hkv.is_static()) {
    ctx.check(hkv.value > 0 && hq.value % hkv.value == 0, "q heads (", hq.value,
              ") must be a multiple of kv heads (", hkv.value, ")");
  }
  Dim past = Dim::of(0);
  if (has_past) {
    require_rank(ctx, 4, 4, 4, "past_key");
    require_rank(ctx, 5, 4, 4, "past_value");
    const Shape &pk = ctx.shape(4), &pv = ctx.shape(5);
    batch = unify(ctx, batch, unify(ctx, dim_of(pk, 0), dim_of(pv, 0), "past batch"), "batch size");
    hkv = unify(ctx, hkv, unify(ctx, dim_of(pk, 1), dim_of(pv, 1), "past heads"), "kv head count");
    past = unify(ctx, dim_of(pk, 2), dim_of(pv, 2), "past sequence length");
    dq = unify(ctx, dq, dim_of(pk, 3), "past_key head size");
    dv = unify(ctx, dv, dim_of(pv, 3), "past_value head size");
  }
  const Dim total = dim_add(past, skv);
  if (ctx.has_input(3)) {
    const Shape& m = ctx.shape(3);
    if (m.rank_known && m.rank() >= 1 && total.is_static()) {
      const Dim& last = m.dims.back();
      ctx.check(!last.is_static() || last.value <= total.value, "attn_mask last dim ", last.value,
                " exceeds the total sequence length ", total.value);
    }
  }
  if (ctx.has_input(6)) require_rank(ctx, 6, 1, 1, "nonpad_kv_seqlen");
  if (rank == 3) {
    ctx.output(0).shape.rank_known = true;
    ctx.output(0).shape.dims = {batch, sq, dim_mul(hq, dv)};
  } else {
    ctx.output(0).shape = Shape::of_rank(4);
    ctx.output(0).shape.dims = {batch, hq, sq, dv};
  }
  auto set4 = [&](size_t i, Dim d1, Dim d2, Dim d3, Dim d4) {
    if (ctx.num_outputs() <= i) return;
    ctx.output(i).shape = Shape::of_rank(4);
    ctx.output(i).shape.dims = {std::move(d1), std::move(d2), std::move(d3), std::move(d4)};
  };
  set4(1, batch, hkv, total, dq);
  set4(2, batch, hkv, total, dv);
  set4(3, batch, hq, sq, total);
}

// ---- RotaryEmbedding (opset 23)

void infer_RotaryEmbedding(InferContext& ctx) {
  require_float_input(ctx, 0, "X");
  const DType t = ctx.dtype(0);
  ctx.check(ctx.dtype(1) == t && ctx.dtype(2) == t, "cos_cache and sin_cache must have X's dtype");
  if (ctx.has_input(3)) ctx.check(ctx.dtype(3) == DType::I64, "position_ids must be int64");
  const Attributes& a = ctx.attr();
  const int64_t inter = a.get_int("interleaved", 0);
  ctx.check(inter == 0 || inter == 1, "interleaved must be 0 or 1, got ", inter);
  const int64_t rot = a.get_int("rotary_embedding_dim", 0);
  ctx.check(rot >= 0 && rot % 2 == 0, "rotary_embedding_dim must be even and >= 0, got ", rot);
  const int64_t heads = a.get_int("num_heads", 0);
  ctx.check(heads >= 0, "num_heads must be >= 0, got ", heads);
  require_rank(ctx, 0, 3, 4, "X");
  const Shape& x = ctx.shape(0);
  const size_t cache_rank = ctx.has_input(3) ? 2 : 3;
  require_rank(ctx, 1, cache_rank, cache_rank, "cos_cache");
  require_rank(ctx, 2, cache_rank, cache_rank, "sin_cache");
  if (ctx.has_input(3)) require_rank(ctx, 3, 2, 2, "position_ids");
  if (x.rank_known) {
    Dim head;
    if (x.rank() == 3) {
      ctx.check(heads > 0, "3-D input needs the num_heads attribute");
      head = dim_div(ctx, x.dims[2], heads, "hidden size");
    } else {
      head = x.dims[3];
    }
    if (head.is_static()) {
      const int64_t r = rot == 0 ? head.value : rot;
      ctx.check(r <= head.value, "rotary_embedding_dim ", r, " exceeds the head size ", head.value);
      ctx.check(r % 2 == 0, "rotary dim ", r, " must be even");
      for (size_t c = 1; c <= 2; ++c) {
        const Shape& cs = ctx.shape(c);
        if (cs.rank_known && cs.dims.back().is_static()) {
          ctx.check(cs.dims.back().value == r / 2, c == 1 ? "cos" : "sin", "_cache last dim ",
                    cs.dims.back().value, " must be rotary_dim/2 = ", r / 2);
        }
      }
    }
  }
  same_as_input(ctx, 0);
}

// ---- RNN, GRU, LSTM: Y (seq, dirs, batch, hidden), Y_h / Y_c (dirs, batch, hidden); layout=1
// puts batch first: X (batch, seq, in), Y (batch, seq, dirs, hidden), Y_h (batch, dirs, hidden).

namespace {

void infer_recurrent(InferContext& ctx, int64_t gates) {
  const Attributes& a = ctx.attr();
  require_float_input(ctx, 0, "X");
  const DType t = ctx.dtype(0);
  for (size_t i : {size_t{1}, size_t{2}, size_t{3}, size_t{5}, size_t{6}, size_t{7}}) {
    if (ctx.has_input(i) && ctx.dtype(i) != t) {
      ctx.fail("input ", i, " must have X's dtype ", dtype_name(t), ", got ", dtype_name(ctx.dtype(i)));
    }
  }
  if (ctx.has_input(4)) ctx.check(ctx.dtype(4) == DType::I32, "sequence_lens must be int32");
  const std::string dir = a.get_string("direction", "forward");
  ctx.check(dir == "forward" || dir == "reverse" || dir == "bidirectional", "direction '", dir,
            "' is not one of forward, reverse, bidirectional");
  const int64_t dirs = dir == "bidirectional" ? 2 : 1;
  const int64_t layout = ctx.opset >= 14 ? a.get_int("layout", 0) : 0;
  ctx.check(layout == 0 || layout == 1, "layout must be 0 or 1, got ", layout);
  if (a.has("clip")) ctx.check(a.get_float("clip", 0) > 0, "clip must be positive");
  require_rank(ctx, 0, 3, 3, "X");
  require_rank(ctx, 1, 3, 3, "W");
  require_rank(ctx, 2, 3, 3, "R");
  const Shape &x = ctx.shape(0), &w = ctx.shape(1), &r = ctx.shape(2);
  Dim hidden = a.has("hidden_size") ? Dim::of(a.get_int("hidden_size")) : dim_of(r, 2);
  if (hidden.is_static()) ctx.check(hidden.value > 0, "hidden_size must be positive, got ", hidden.value);
  hidden = unify(ctx, hidden, dim_of(r, 2), "hidden_size vs R");
  if (hidden.is_static()) {
    const Dim gh = Dim::of(gates * hidden.value);
    unify(ctx, gh, dim_of(w, 1), "W rows");
    unify(ctx, gh, dim_of(r, 1), "R rows");
  }
  unify(ctx, Dim::of(dirs), dim_of(w, 0), "W num_directions");
  unify(ctx, Dim::of(dirs), dim_of(r, 0), "R num_directions");
  const Dim seq = dim_of(x, layout ? 1 : 0), batch = dim_of(x, layout ? 0 : 1);
  unify(ctx, dim_of(x, 2), dim_of(w, 2), "input size (X vs W)");
  const Dim nd = Dim::of(dirs);
  for (size_t i = 0; i < ctx.num_outputs(); ++i) {
    ValueType& o = ctx.output(i);
    o.dtype = t;
    if (i == 0) {
      o.shape = Shape::of_rank(4);
      o.shape.dims = layout ? std::vector<Dim>{batch, seq, nd, hidden}
                            : std::vector<Dim>{seq, nd, batch, hidden};
    } else {
      o.shape = Shape::of_rank(3);
      o.shape.dims = layout ? std::vector<Dim>{batch, nd, hidden} : std::vector<Dim>{nd, batch, hidden};
    }
  }
}

}  // namespace

void infer_RNN(InferContext& ctx) { infer_recurrent(ctx, 1); }
void infer_GRU(InferContext& ctx) { infer_recurrent(ctx, 3); }
void infer_LSTM(InferContext& ctx) { infer_recurrent(ctx, 4); }

}  // namespace kiln
