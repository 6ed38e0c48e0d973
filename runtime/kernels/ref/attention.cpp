// Reference Attention (opset 23/24) and RotaryEmbedding (opset 23). Attention computes in
// double: softmax(softcap(Q·Kᵀ·scale) + bias)·V, with bias from attn_mask, is_causal and
// nonpad_kv_seqlen, K/V heads shared across groups of Q heads (GQA), and past K/V prepended.
#include <cmath>
#include <limits>

#include "runtime/kernels/ref/kernel.h"
#include "runtime/kernels/ref/ref_util.h"

namespace kiln {
namespace {

constexpr double kNegInf = -std::numeric_limits<double>::infinity();

std::vector<double> to_doubles(const Tensor& t) {
  std::vector<double> v(static_cast<size_t>(t.numel()));
  for (int64_t i = 0; i < t.numel(); ++i) v[static_cast<size_t>(i)] = t.as_double(i);
  return v;
}

void store(Tensor& t, const std::vector<double>& v) {
  dispatch_dtype(t.dtype(), "Attention output", [&]<typename T>() {
    T* p = t.data<T>();
    for (size_t i = 0; i < v.size(); ++i) p[i] = T(static_cast<ref::compute_t<T>>(v[i]));
  });
}

// A (batch, heads, seq, head_size) view of a 4-D tensor or of a 3-D (batch, seq, heads*size) one.
struct HeadView {
  std::vector<double> data;
  int64_t batch = 0, heads = 0, seq = 0, size = 0;
  bool packed = false;  // 3-D layout
  double at(int64_t b, int64_t h, int64_t s, int64_t d) const {
    const int64_t i = packed ? ((b * seq + s) * heads + h) * size + d
                             : ((b * heads + h) * seq + s) * size + d;
    return data[static_cast<size_t>(i)];
  }
};

HeadView view(const KernelContext& ctx, const Tensor& t, int64_t heads, const char* what) {
  HeadView v;
  v.data = to_doubles(t);
  v.batch = t.dim(0);
  if (t.rank() == 3) {
    ctx.check(heads > 0 && t.dim(2) % heads == 0, what, " hidden size ", t.dim(2),
              " is not divisible by ", heads, " heads");
    v.packed = true;
    v.heads = heads;
    v.seq = t.dim(1);
    v.size = t.dim(2) / heads;
  } else {
    v.heads = t.dim(1);
    v.seq = t.dim(2);
    v.size = t.dim(3);
  }
  return v;
}

// Concatenates past (4-D, may be null) and current along the sequence: (B, H, P+S, D).
std::vector<double> present(const Tensor* past, const HeadView& cur, int64_t* total) {
  const int64_t p = past ? past->dim(2) : 0;
  *total = p + cur.seq;
  std::vector<double> out(static_cast<size_t>(cur.batch * cur.heads * *total * cur.size));
  const std::vector<double> pd = past ? to_doubles(*past) : std::vector<double>{};
  size_t o = 0;
  for (int64_t b = 0; b < cur.batch; ++b) {
    for (int64_t h = 0; h < cur.heads; ++h) {
      for (int64_t s = 0; s < *total; ++s) {
        for (int64_t d = 0; d < cur.size; ++d) {
          out[o++] = s < p ? pd[static_cast<size_t>(((b * cur.heads + h) * p + s) * cur.size + d)]
                           : cur.at(b, h, s - p, d);
        }
      }
    }
  }
  return out;
}

}  // namespace

void ref_Attention(KernelContext& ctx) {
  const Attributes& a = ctx.attr();
  const Tensor &tq = ctx.input(0), &tk = ctx.input(1), &tv = ctx.input(2);
  const HeadView q = view(ctx, tq, a.get_int("q_num_heads", 0), "Q");
  const HeadView k = view(ctx, tk, a.get_int("kv_num_heads", 0), "K");
  const HeadView v = view(ctx, tv, a.get_int("kv_num_heads", 0), "V");
  ctx.check(q.batch == k.batch && k.batch == v.batch, "Q, K, V batch sizes differ");
  ctx.check(k.heads == v.heads && k.seq == v.seq, "K and V disagree on heads or sequence length");
  ctx.check(q.size == k.size, "Q head size ", q.size, " differs from K head size ", k.size);
  ctx.check(k.heads > 0 && q.heads % k.heads == 0, "q heads (", q.heads,
            ") must be a multiple of kv heads (", k.heads, ")");
  const Tensor* past_k = ctx.has_input(4) ? &ctx.input(4) : nullptr;
  const Tensor* past_v = ctx.has_input(5) ? &ctx.input(5) : nullptr;
  for (const Tensor* p : {past_k, past_v}) {
    if (!p) continue;
    ctx.check(p->rank() == 4 && p->dim(0) == q.batch && p->dim(1) == k.heads &&
                  p->dim(3) == (p == past_k ? k.size : v.size) && p->dim(2) == past_k->dim(2) &&
                  (!past_v || p->dim(2) == past_v->dim(2)),
              "past key/value shape ", dims_to_string(p->dims()), " does not fit K/V");
  }
  int64_t total = 0;
  const std::vector<double> kk = present(past_k, k, &total);
  const std::vector<double> vv = present(past_v, v, &total);
  const int64_t past_len = past_k ? past_k->dim(2) : 0;
  const int64_t B = q.batch, HQ = q.heads, HKV = k.heads, SQ = q.seq, D = q.size, DV = v.size;
  const int64_t group = HQ / HKV;

  const double scale = a.has("scale") ? a.get_float("scale", 0) : 1.0 / std::sqrt(static_cast<double>(D));
  const double softcap = a.get_float("softcap", 0.0f);
  const bool causal = a.get_int("is_causal", 0) != 0;
  const int64_t mode = a.get_int("qk_matmul_output_mode", 0);

  // Mask, broadcast right-aligned against (B, HQ, SQ, mask_len).
  const Tensor* mask = ctx.has_input(3) ? &ctx.input(3) : nullptr;
  std::vector<double> mvals;
  std::vector<int64_t> mstride(4, 0);
  int64_t mlen = 0;
  if (mask) {
    ctx.check(mask->rank() <= 4, "attn_mask rank must be <= 4, got ", mask->rank());
    mvals = to_doubles(*mask);
    const Dims full = {B, HQ, SQ, -1};
    const std::vector<int64_t> own = ref::strides_of(mask->dims());
    const size_t off = 4 - static_cast<size_t>(mask->rank());
    for (size_t i = 0; i < static_cast<size_t>(mask->rank()); ++i) {
      const int64_t d = mask->dim(static_cast<int64_t>(i));
      if (off + i == 3) {
        mlen = d;
        ctx.check(d <= total, "attn_mask last dim ", d, " exceeds total sequence length ", total);
        mstride[3] = own[i];
      } else {
        ctx.check(d == 1 || d == full[off + i], "attn_mask shape ", dims_to_string(mask->dims()),
                  " does not broadcast to ", B, "x", HQ, "x", SQ, "x", total);
        mstride[off + i] = d == 1 ? 0 : own[i];
      }
    }
    if (mask->rank() == 0) mlen = 1;
  }
  const bool bool_mask = mask && mask->dtype() == DType::Bool;
  std::vector<int64_t> nonpad;
  if (ctx.has_input(6)) {
    nonpad = ctx.input(6).to_int64_vector();
    ctx.check(static_cast<int64_t>(nonpad.size()) == B, "nonpad_kv_seqlen has ", nonpad.size(),
              " values for batch ", B);
  }

  std::vector<double> y(static_cast<size_t>(B * HQ * SQ * DV), 0.0);
  std::vector<double> qk_out(static_cast<size_t>(B * HQ * SQ * total), 0.0);
  std::vector<double> raw(static_cast<size_t>(total)), capped(raw), biased(raw), prob(raw);
  for (int64_t b = 0; b < B; ++b) {
    for (int64_t h = 0; h < HQ; ++h) {
      const int64_t hk = h / group;
      for (int64_t i = 0; i < SQ; ++i) {
        for (int64_t j = 0; j < total; ++j) {
          const size_t ju = static_cast<size_t>(j);
          double s = 0;
          for (int64_t d = 0; d < D; ++d) {
            s += q.at(b, h, i, d) * kk[static_cast<size_t>(((b * HKV + hk) * total + j) * D + d)];
          }
          raw[ju] = s * scale;
          capped[ju] = softcap > 0 ? softcap * std::tanh(raw[ju] / softcap) : raw[ju];
          double bias = 0;
          if (mask) {
            if (j >= mlen) {
              bias = kNegInf;  // a short mask is padded with -inf / false
            } else {
              const double m = mvals[static_cast<size_t>(b * mstride[0] + h * mstride[1] +
                                                         i * mstride[2] + j * mstride[3])];
              bias = bool_mask ? (m != 0 ? 0.0 : kNegInf) : m;
            }
          }
          if (causal && j > i + past_len) bias = kNegInf;
          if (!nonpad.empty() && j >= nonpad[static_cast<size_t>(b)]) bias = kNegInf;
          biased[ju] = capped[ju] + bias;
        }
        double mx = kNegInf;
        for (double x : biased) mx = std::max(mx, x);
        double sum = 0;
        for (size_t j = 0; j < prob.size(); ++j) {
          prob[j] = std::exp(biased[j] - mx);  // an all -inf row gives NaN, as the spec's softmax
          sum += prob[j];
        }
        for (double& p : prob) p /= sum;
        double* yr = &y[static_cast<size_t>(((b * HQ + h) * SQ + i) * DV)];
        for (int64_t j = 0; j < total; ++j) {
          const double p = prob[static_cast<size_t>(j)];
          for (int64_t d = 0; d < DV; ++d) {
            yr[d] += p * vv[static_cast<size_t>(((b * HKV + hk) * total + j) * DV + d)];
          }
        }
        const std::vector<double>& qk = mode == 0 ? raw : mode == 1 ? capped : mode == 2 ? biased : prob;
        std::copy(qk.begin(), qk.end(), qk_out.begin() + ((b * HQ + h) * SQ + i) * total);
      }
    }
  }
  if (tq.rank() == 3) {  // (B, HQ, SQ, DV) -> (B, SQ, HQ*DV)
    std::vector<double> packed(y.size());
    for (int64_t b = 0; b < B; ++b)
      for (int64_t h = 0; h < HQ; ++h)
        for (int64_t i = 0; i < SQ; ++i)
          for (int64_t d = 0; d < DV; ++d)
            packed[static_cast<size_t>(((b * SQ + i) * HQ + h) * DV + d)] =
                y[static_cast<size_t>(((b * HQ + h) * SQ + i) * DV + d)];
    y = std::move(packed);
  }
  store(ctx.output(0), y);
  if (ctx.wants_output(1)) store(ctx.output(1, {B, HKV, total, D}), kk);
  if (ctx.wants_output(2)) store(ctx.output(2, {B, HKV, total, DV}), vv);
  if (ctx.wants_output(3)) store(ctx.output(3, {B, HQ, SQ, total}), qk_out);
}

void ref_RotaryEmbedding(KernelContext& ctx) {
  const Tensor &x = ctx.input(0), &cosc = ctx.input(1), &sinc = ctx.input(2);
  const Attributes& a = ctx.attr();
  const bool interleaved = a.get_int("interleaved", 0) != 0;
  const int64_t heads_attr = a.get_int("num_heads", 0);
  ctx.check(x.rank() == 3 || x.rank() == 4, "X must be 3-D or 4-D, got ", x.describe());
  const bool packed = x.rank() == 3;
  const int64_t B = x.dim(0);
  int64_t H, S, D;
  if (packed) {
    ctx.check(heads_attr > 0 && x.dim(2) % heads_attr == 0, "3-D X needs num_heads dividing ",
              x.dim(2));
    H = heads_attr;
    S = x.dim(1);
    D = x.dim(2) / H;
  } else {
    H = x.dim(1);
    S = x.dim(2);
    D = x.dim(3);
  }
  const int64_t rot = a.get_int("rotary_embedding_dim", 0) == 0 ? D : a.get_int("rotary_embedding_dim", 0);
  ctx.check(rot % 2 == 0 && rot <= D, "rotary dim ", rot, " must be even and <= head size ", D);
  const int64_t half = rot / 2;
  std::vector<int64_t> pos;
  if (ctx.has_input(3)) {
    const Tensor& p = ctx.input(3);
    ctx.check(p.rank() == 2 && p.dim(0) == B && p.dim(1) == S, "position_ids must be ", B, "x", S,
              ", got ", p.describe());
    ctx.check(cosc.rank() == 2 && sinc.dims() == cosc.dims() && cosc.dim(1) == half,
              "caches must be (max_position, ", half, "), got ", cosc.describe());
    pos = p.to_int64_vector();
    for (int64_t v : pos) {
      ctx.check(v >= 0 && v < cosc.dim(0), "position id ", v, " is out of range [0, ", cosc.dim(0), ")");
    }
  } else {
    ctx.check(cosc.rank() == 3 && sinc.dims() == cosc.dims() && cosc.dim(0) == B &&
                  cosc.dim(1) == S && cosc.dim(2) == half,
              "caches must be ", B, "x", S, "x", half, " without position_ids, got ", cosc.describe());
  }
  Tensor& y = ctx.output(0);
  dispatch_dtype(x.dtype(), "RotaryEmbedding", [&]<typename T>() {
    if constexpr (std::is_floating_point_v<ref::compute_t<T>>) {
      using C = ref::compute_t<T>;
      const T* xs = x.data<T>();
      const T* cs = cosc.data<T>();
      const T* ss = sinc.data<T>();
      T* ys = y.data<T>();
      for (int64_t b = 0; b < B; ++b) {
        for (int64_t s = 0; s < S; ++s) {
          // Row of the caches for this token.
          const int64_t row = pos.empty() ? b * S + s : pos[static_cast<size_t>(b * S + s)];
          for (int64_t h = 0; h < H; ++h) {
            const int64_t base = packed ? ((b * S + s) * H + h) * D : ((b * H + h) * S + s) * D;
            for (int64_t d = rot; d < D; ++d) ys[base + d] = xs[base + d];
            for (int64_t i = 0; i < half; ++i) {
              const int64_t i1 = interleaved ? 2 * i : i, i2 = interleaved ? 2 * i + 1 : i + half;
              const C c = static_cast<C>(cs[row * half + i]), sn = static_cast<C>(ss[row * half + i]);
              const C x1 = static_cast<C>(xs[base + i1]), x2 = static_cast<C>(xs[base + i2]);
              ys[base + i1] = T(c * x1 - sn * x2);
              ys[base + i2] = T(sn * x1 + c * x2);
            }
          }
        }
      }
    } else {
      ctx.fail("X must be a float tensor, got ", x.describe());
    }
  });
}

}  // namespace kiln
