// import-qdq: models that arrive already quantized run on Kiln's int8 ops.
//  - QDQ form (onnxruntime quantize_static's default): Conv / MatMul / Gemm whose activation
//    input is DequantizeLinear(x_q, scale, zero_point) and whose weights are DequantizeLinear of
//    a constant (bias optionally DequantizeLinear of an int32 constant) become KilnQConv /
//    KilnQMatMul reading the dequantized activation with the same scale and zero point.
//  - QLinearConv / QLinearMatMul become DequantizeLinear -> KilnQ* -> QuantizeLinear.
//  - ConvInteger / MatMulInteger become DequantizeLinear (scale 1) -> KilnQ* (scales 1) -> Cast
//    to int32, when every sum is exact in f32 (K * 255 * 128 < 2^24); others stay as they are.
// Then a QuantizeLinear -> DequantizeLinear pair in front of a KilnQ op with the same scale and
// zero point is skipped: the op quantizes its f32 input identically (q(dq(q(y))) == q(y)).
// s8 activations map to u8 with the zero point moved by 128 (exact). Weights become s8 per
// output channel: q - zero_point when it fits in s8, else they are dequantized and requantized
// symmetrically (noted). Scales must be finite and > 0 and zero points must have the quantized
// dtype and fit their tensors: anything else fails with one line naming the node.
#include <algorithm>
#include <cmath>
#include <cstring>

#include "passes/pass.h"
#include "passes/pattern_util.h"
#include "passes/quantize_rewrite.h"
#include "passes/registry.h"

namespace kiln {
namespace {

Node* producer_of(const Value* v, OpKind op) {
  Node* p = v ? v->producer() : nullptr;
  return p && p->op == op ? p : nullptr;
}

bool is_q8(DType t) { return t == DType::U8 || t == DType::I8; }

// Checks a scale tensor: f32, finite and > 0 everywhere, `want` entries (or one).
void check_scales(const Tensor& s, int64_t want, const std::string& where) {
  if (s.dtype() != DType::F32) fail(where, ": scale must be f32, got ", dtype_name(s.dtype()));
  if (s.numel() != 1 && s.numel() != want)
    fail(where, ": scale has ", s.numel(), " values, expected 1 or ", want);
  for (int64_t i = 0; i < s.numel(); ++i) {
    const float v = s.data<float>()[i];
    if (!(v > 0.0f) || !std::isfinite(v))
      fail(where, ": scale[", i, "] is ", v, "; quantization scales must be finite and > 0");
  }
}

// A zero point's dtype must match its quantized tensor; returns entry i (broadcast).
int64_t zero_point_at(const Tensor* zp, int64_t i) {
  if (!zp) return 0;
  return zp->as_int64(zp->numel() == 1 ? 0 : i);
}

void check_zero_point(const Tensor* zp, DType q, int64_t want, const std::string& where) {
  if (!zp) return;
  if (zp->dtype() != q)
    fail(where, ": zero point is ", dtype_name(zp->dtype()), " but the quantized tensor is ",
         dtype_name(q), "; they must match");
  if (zp->numel() != 1 && zp->numel() != want)
    fail(where, ": zero point has ", zp->numel(), " values, expected 1 or ", want);
}

struct ActivationQ {
  float scale = 1;
  int64_t zero_point = 0;  // as u8 (s8 shifted by 128)
};

// Scalar scale / zero point of an activation quantized as `q` (u8 or s8); nullopt when the
// parameters are not per-tensor constants.
std::optional<ActivationQ> activation_q(const Graph& g, DType q, const Value* scale,
                                        const Value* zp, const std::string& where) {
  const Tensor* s = constant_tensor(g, scale);
  const Tensor* z = zp ? constant_tensor(g, zp) : nullptr;
  if (!s || (zp && !z) || s->numel() != 1 || (z && z->numel() != 1) || !is_q8(q))
    return std::nullopt;
  check_scales(*s, 1, where);
  check_zero_point(z, q, 1, where);
  ActivationQ a;
  a.scale = s->data<float>()[0];
  a.zero_point = zero_point_at(z, 0) + (q == DType::I8 ? 128 : 0);
  return a;
}

struct Weights {
  Tensor q;       // i8, conv [M, ...] or matmul [K, N]
  Tensor scales;  // f32 [channels]
  bool requantized = false;
};

// Integer weights w (u8 / s8) with per-tensor or per-channel scale / zero point as s8 weights
// with one scale per channel (axis 0 for conv, the last axis for matmul).
Weights to_s8_weights(const Tensor& w, const Tensor& scale, const Tensor* zp, bool channel_last,
                      const std::string& where) {
  if (!is_q8(w.dtype())) fail(where, ": weights must be u8 or s8, got ", dtype_name(w.dtype()));
  const int64_t channels = channel_last ? w.dims().back() : w.dims()[0];
  const int64_t inner = w.numel() / std::max<int64_t>(channels, 1);
  check_scales(scale, channels, where);
  check_zero_point(zp, w.dtype(), channels, where);
  auto channel = [&](int64_t e) { return channel_last ? e % channels : e / inner; };
  Weights r{Tensor(DType::I8, w.dims()), Tensor(DType::F32, {channels})};
  for (int64_t c = 0; c < channels; ++c)
    r.scales.data<float>()[c] = scale.data<float>()[scale.numel() == 1 ? 0 : c];
  bool fits = true;
  for (int64_t e = 0; e < w.numel() && fits; ++e) {
    const int64_t v = w.as_int64(e) - zero_point_at(zp, channel(e));
    fits = v >= -128 && v <= 127;
    r.q.data<int8_t>()[e] = static_cast<int8_t>(v);
  }
  if (fits) return r;
  Tensor f(DType::F32, w.dims());
  for (int64_t e = 0; e < w.numel(); ++e)
    f.data<float>()[e] = static_cast<float>(w.as_int64(e) - zero_point_at(zp, channel(e))) *
                         r.scales.data<float>()[channel(e)];
  QuantizedWeights q = quantize_weights(f, channel_last);
  return {std::move(q.q), std::move(q.scales), true};
}

Tensor transposed_2d(const Tensor& t) {
  const int64_t r = t.dims()[0], c = t.dims()[1];
  Tensor out(t.dtype(), {c, r});
  const size_t es = dtype_size(t.dtype());
  const auto* s = static_cast<const uint8_t*>(t.raw());
  auto* d = static_cast<uint8_t*>(out.raw());
  for (int64_t i = 0; i < r; ++i)
    for (int64_t j = 0; j < c; ++j)
      std::memcpy(d + (j * r + i) * es, s + (i * c + j) * es, es);
  return out;
}

class ImportQdq : public Pass {
 public:
  std::string_view name() const override { return "import-qdq"; }

  bool run(Graph& g, PassContext& ctx) override {
    g_ = &g;
    int qdq = 0, qlinear = 0, integer = 0, skipped = 0, folded = 0;
    requantized_ = 0;
    std::vector<Node*> nodes;
    for (const auto& n : g.nodes()) nodes.push_back(n.get());
    for (Node* n : nodes) {
      switch (n->op) {
        case OpKind::Conv:
        case OpKind::MatMul:
        case OpKind::Gemm:
          qdq += import_qdq(n);
          break;
        case OpKind::QLinearConv:
        case OpKind::QLinearMatMul:
          if (import_qlinear(n)) ++qlinear; else ++skipped;
          break;
        case OpKind::ConvInteger:
        case OpKind::MatMulInteger:
          if (import_integer(n)) ++integer; else ++skipped;
          break;
        default:
          break;
      }
    }
    if (qdq + qlinear + integer) folded = fold_qdq_pairs();
    if (!(qdq + qlinear + integer)) {
      if (skipped) ctx.note(name(), cat(skipped, " quantized nodes left on the runtime's kernels"));
      return false;
    }
    // Weight DequantizeLinear nodes (and any other leftovers) lose their readers.
    for (bool again = true; again;) {
      again = false;
      std::vector<Node*> all;
      for (const auto& n : g.nodes()) all.push_back(n.get());
      for (Node* n : all) again |= remove_if_unused(g, n);
    }
    g.topo_sort();
    g.remove_dead_values();
    ctx.note(name(), cat(qdq, " QDQ patterns, ", qlinear, " QLinear ops and ", integer,
                         " integer ops imported as int8 ops; ", folded,
                         " Quantize/Dequantize pairs skipped"));
    if (requantized_) ctx.note(name(), cat(requantized_, " weight tensors requantized to s8"));
    if (skipped) ctx.note(name(), cat(skipped, " quantized nodes left on the runtime's kernels"));
    return true;
  }

 private:
  const Tensor* constant(const Value* v) const { return v ? constant_tensor(*g_, v) : nullptr; }

  // Weights as DequantizeLinear(constant, scale, zero point) along the channel axis.
  std::optional<Weights> dq_weights(const Value* w, bool channel_last, bool transpose,
                                    const std::string& where) {
    Node* dq = producer_of(w, OpKind::DequantizeLinear);
    if (!dq) return std::nullopt;
    const Tensor* q = constant(dq->input(0));
    const Tensor* s = constant(dq->input(1));
    const Tensor* z = dq->input(2) ? constant(dq->input(2)) : nullptr;
    if (!q || !s || (dq->input(2) && !z)) return std::nullopt;
    const std::string at = cat(where, " weights ", dq->label());
    if (s->numel() > 1) {
      const int64_t axis = dq->attrs.get_int("axis", 1);
      const int64_t want = channel_last ? (transpose ? 0 : q->rank() - 1) : 0;
      // Scales along another axis than the output channels: not an int8 op's layout; the
      // node stays as it is.
      if ((axis < 0 ? axis + q->rank() : axis) != want) return std::nullopt;
    }
    const Tensor qt = transpose ? transposed_2d(*q) : *q;
    Weights r = to_s8_weights(qt, *s, z, channel_last, at);
    requantized_ += r.requantized;
    return r;
  }

  // A bias given as f32 constant or DequantizeLinear of an int32 constant.
  std::optional<Tensor> bias_of(const Value* b, int64_t channels, float beta) {
    Tensor f;
    if (const Tensor* c = constant(b)) {
      if (c->dtype() != DType::F32) return std::nullopt;
      f = *c;
    } else if (Node* dq = producer_of(b, OpKind::DequantizeLinear)) {
      const Tensor* q = constant(dq->input(0));
      const Tensor* s = constant(dq->input(1));
      if (!q || !s || q->dtype() != DType::I32 || s->dtype() != DType::F32) return std::nullopt;
      check_scales(*s, q->numel(), cat("bias ", dq->label()));
      f = Tensor(DType::F32, q->dims());
      for (int64_t i = 0; i < q->numel(); ++i)
        f.data<float>()[i] = static_cast<float>(q->as_int64(i)) *
                             s->data<float>()[s->numel() == 1 ? 0 : i];
    } else {
      return std::nullopt;
    }
    if (f.numel() != 1 && f.numel() != channels) return std::nullopt;
    Tensor out(DType::F32, {channels});
    for (int64_t i = 0; i < channels; ++i)
      out.data<float>()[i] = beta * f.data<float>()[f.numel() == 1 ? 0 : i];
    return out;
  }

  Value* new_value(const std::string& base, DType dtype, const Shape& shape) {
    ValueType t;
    t.dtype = dtype;
    t.shape = shape;
    return g_->add_value(g_->unique_name(base), t);
  }

  Node* add_int8_node(const std::string& name, int opset, bool conv, Value* x, Weights w,
                      std::optional<Tensor> bias, Attributes attrs, const ActivationQ& a,
                      Value* out) {
    const std::string base = name.empty() ? out->name() : name;
    std::vector<Value*> in = {x, add_constant_named(*g_, base + "_w_s8", std::move(w.q)),
                              add_constant_named(*g_, base + "_w_scale", std::move(w.scales))};
    if (bias) in.push_back(add_constant_named(*g_, base + "_bias", std::move(*bias)));
    attrs.set("x_scale", Attribute::of_float(a.scale));
    attrs.set("x_zero_point", Attribute::of_int(a.zero_point));
    return g_->add_node(conv ? OpKind::KilnQConv : OpKind::KilnQMatMul, std::move(in), {out},
                        std::move(attrs), name, opset);
  }

  // Conv / MatMul / Gemm between DequantizeLinear inputs. Returns 1 when imported.
  int import_qdq(Node* n) {
    Node* xdq = producer_of(n->input(0), OpKind::DequantizeLinear);
    if (!xdq || !producer_of(n->input(1), OpKind::DequantizeLinear)) return 0;
    const bool conv = n->op == OpKind::Conv;
    const Shape& xs = n->input(0)->type.shape;
    if (!xs.rank_known || (conv ? xs.rank() != 4 : xs.rank() < 2)) return 0;
    const auto a = activation_q(*g_, xdq->input(0)->type.dtype, xdq->input(1), xdq->input(2),
                                xdq->label());
    if (!a) return 0;
    bool trans_b = false;
    float alpha = 1, beta = 1;
    if (n->op == OpKind::Gemm) {
      if (n->attrs.get_int("transA", 0) != 0) return 0;
      trans_b = n->attrs.get_int("transB", 0) != 0;
      alpha = n->attrs.get_float("alpha", 1.0f);
      beta = n->attrs.get_float("beta", 1.0f);
    }
    const Shape& ws = n->input(1)->type.shape;
    if (!ws.rank_known || ws.rank() != (conv ? 4u : 2u)) return 0;
    std::optional<Weights> w = dq_weights(n->input(1), !conv, trans_b, n->label());
    if (!w) return 0;
    for (int64_t c = 0; c < w->scales.numel(); ++c) w->scales.data<float>()[c] *= alpha;
    const int64_t channels = w->scales.numel();
    std::optional<Tensor> bias;
    if (n->input(2)) {
      bias = bias_of(n->input(2), channels, beta);
      if (!bias) return 0;
    }
    Value* out = n->output(0);
    Attributes attrs = conv ? n->attrs : Attributes{};
    Value* x = n->input(0);
    const std::string name = n->name;
    const int opset = n->opset;
    g_->remove_node(n);
    add_int8_node(name, opset, conv, x, std::move(*w), std::move(bias), std::move(attrs), *a, out);
    return 1;
  }

  // Replaces single-output `n` by DequantizeLinear(x, xs, xz) -> KilnQ* -> `finish` op.
  void replace_with_int8(Node* n, bool conv, Value* x, std::vector<Value*> dq_in, Weights w,
                         std::optional<Tensor> bias, const ActivationQ& a, OpKind finish_op,
                         std::vector<Value*> finish_in, Attributes finish_attrs) {
    Value* out = n->output(0);
    Value* xf = new_value(x->name() + "_f32", DType::F32, x->type.shape);
    Value* yf = new_value(out->name() + "_f32", DType::F32, out->type.shape);
    finish_in.insert(finish_in.begin(), yf);
    Attributes attrs = conv ? n->attrs : Attributes{};
    const std::string name = n->name;
    const int opset = n->opset;
    g_->remove_node(n);
    g_->add_node(OpKind::DequantizeLinear, std::move(dq_in), {xf}, {}, name + "_dq", 21);
    add_int8_node(name, opset, conv, xf, std::move(w), std::move(bias), std::move(attrs), a, yf);
    g_->add_node(finish_op, std::move(finish_in), {out}, std::move(finish_attrs), name + "_out",
                 21);
  }

  bool import_qlinear(Node* n) {
    const bool conv = n->op == OpKind::QLinearConv;
    Value* x = n->input(0);
    const Shape& xs = x->type.shape;
    if (!xs.rank_known || (conv ? xs.rank() != 4 : xs.rank() < 2)) return false;
    const auto a = activation_q(*g_, x->type.dtype, n->input(1), n->input(2), n->label());
    const Tensor* wq = constant(n->input(3));
    const Tensor* ws = constant(n->input(4));
    const Tensor* wz = n->input(5) ? constant(n->input(5)) : nullptr;
    const Tensor* ys = constant(n->input(6));
    if (!a || !wq || !ws || (n->input(5) && !wz) || !ys || wq->rank() != (conv ? 4 : 2))
      return false;
    check_scales(*ys, 1, cat(n->label(), " y_scale"));
    Weights w = to_s8_weights(*wq, *ws, wz, !conv, cat(n->label(), " weights"));
    requantized_ += w.requantized;
    std::optional<Tensor> bias;
    if (conv && n->input(8)) {
      const Tensor* b = constant(n->input(8));
      if (!b || b->dtype() != DType::I32 || b->numel() != w.scales.numel()) return false;
      // The int32 bias has scale x_scale * w_scale[m] of the original weight scales.
      Tensor f(DType::F32, {b->numel()});
      for (int64_t m = 0; m < b->numel(); ++m)
        f.data<float>()[m] = static_cast<float>(b->as_int64(m)) *
                             (a->scale * ws->data<float>()[ws->numel() == 1 ? 0 : m]);
      bias = std::move(f);
    }
    std::vector<Value*> dq_in = {x, n->input(1)};
    if (n->input(2)) dq_in.push_back(n->input(2));
    std::vector<Value*> q_in = {n->input(6)};
    if (n->input(7)) q_in.push_back(n->input(7));
    replace_with_int8(n, conv, x, std::move(dq_in), std::move(w), std::move(bias), *a,
                      OpKind::QuantizeLinear, std::move(q_in), {});
    return true;
  }

  // ConvInteger / MatMulInteger: (x - x_zp) * (w - w_zp) summed in int32. Imported only when
  // every sum is exact in f32 (|sum| <= K * 255 * 128 < 2^24).
  bool import_integer(Node* n) {
    const bool conv = n->op == OpKind::ConvInteger;
    Value* x = n->input(0);
    const Shape& xs = x->type.shape;
    const Tensor* wq = constant(n->input(1));
    if (!xs.rank_known || (conv ? xs.rank() != 4 : xs.rank() < 2) || !wq ||
        wq->rank() != (conv ? 4 : 2) || !is_q8(x->type.dtype))
      return false;
    const int64_t K = conv ? wq->numel() / wq->dims()[0] : wq->dims()[0];
    if (K * 255 * 128 >= (int64_t{1} << 24)) return false;
    const Tensor* xz = n->input(2) ? constant(n->input(2)) : nullptr;
    const Tensor* wz = n->input(3) ? constant(n->input(3)) : nullptr;
    if ((n->input(2) && (!xz || xz->numel() != 1)) || (n->input(3) && !wz)) return false;
    check_zero_point(xz, x->type.dtype, 1, cat(n->label(), " x_zero_point"));
    const int64_t channels = conv ? wq->dims()[0] : wq->dims()[1];
    Tensor ones(DType::F32, {channels});
    for (int64_t c = 0; c < channels; ++c) ones.data<float>()[c] = 1.0f;
    Weights w = to_s8_weights(*wq, ones, wz, !conv, cat(n->label(), " weights"));
    if (w.requantized) return false;  // not exact any more
    ActivationQ a;
    a.zero_point = zero_point_at(xz, 0) + (x->type.dtype == DType::I8 ? 128 : 0);
    Value* one = add_constant_named(*g_, x->name() + "_unit_scale", Tensor::scalar<float>(1.0f));
    std::vector<Value*> dq_in = {x, one};
    if (n->input(2)) dq_in.push_back(n->input(2));
    Attributes to;
    to.set("to", Attribute::of_int(static_cast<int64_t>(DType::I32)));
    replace_with_int8(n, conv, x, std::move(dq_in), std::move(w), std::nullopt, a, OpKind::Cast,
                      {}, std::move(to));
    return true;
  }

  // KilnQ*(DequantizeLinear(QuantizeLinear(y, s, z), s, z)) with the op's own x_scale = s and
  // x_zero_point = z reads y directly.
  int fold_qdq_pairs() {
    int folded = 0;
    for (const auto& up : g_->nodes()) {
      Node* n = up.get();
      if (n->op != OpKind::KilnQConv && n->op != OpKind::KilnQMatMul) continue;
      Node* dq = producer_of(n->input(0), OpKind::DequantizeLinear);
      Node* q = dq ? producer_of(dq->input(0), OpKind::QuantizeLinear) : nullptr;
      if (!q || q->input(0)->type.dtype != DType::F32 || is_graph_output(*g_, dq->input(0)))
        continue;
      const std::string where = q->label();
      const auto qa = activation_q(*g_, q->output(0)->type.dtype, q->input(1), q->input(2), where);
      const auto da =
          activation_q(*g_, dq->input(0)->type.dtype, dq->input(1), dq->input(2), dq->label());
      if (!qa || !da || qa->scale != da->scale || qa->zero_point != da->zero_point) continue;
      if (n->attrs.get_float("x_scale", 0.0f) != da->scale ||
          n->attrs.get_int("x_zero_point", -1) != da->zero_point)
        continue;
      g_->set_input(n, 0, q->input(0));
      ++folded;
    }
    return folded;
  }

  Graph* g_ = nullptr;
  int requantized_ = 0;
};

}  // namespace

std::unique_ptr<Pass> create_import_qdq() { return std::make_unique<ImportQdq>(); }

}  // namespace kiln
