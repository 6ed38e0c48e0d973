#include "passes/quantize_rewrite.h"

#include <algorithm>
#include <cmath>

#include "passes/pattern_util.h"

namespace kiln {
namespace {

bool f32(const Value* v) { return v && v->type.dtype == DType::F32; }

void copy_activation(const Attributes& from, Attributes& to) {
  for (const char* a : {"activation", "activation_alpha", "activation_beta"})
    if (const Attribute* v = from.find(a)) to.set(a, *v);
}

// [N, K] -> [K, N].
Tensor transposed(const Tensor& t) {
  const int64_t r = t.dims()[0], c = t.dims()[1];
  Tensor out(DType::F32, {c, r});
  const float* s = t.data<float>();
  float* d = out.data<float>();
  for (int64_t i = 0; i < r; ++i)
    for (int64_t j = 0; j < c; ++j) d[j * r + i] = s[i * c + j];
  return out;
}

// A depthwise conv the 3x3 int8 kernel takes (qconv_dw3_applies at run time): 3x3, the same
// stride (1 or 2) both ways, explicit padding 1 on every side, no dilation, M == group.
bool depthwise_3x3(const Attributes& a, const Tensor& w, int64_t group) {
  if (w.dims()[0] != group || w.dims()[2] != 3 || w.dims()[3] != 3) return false;
  if (a.get_string("auto_pad", "NOTSET") != "NOTSET") return false;
  const std::vector<int64_t> st = a.get_ints("strides", {1, 1});
  const std::vector<int64_t> pads = a.get_ints("pads", {0, 0, 0, 0});
  const std::vector<int64_t> dil = a.get_ints("dilations", {1, 1});
  return st.size() == 2 && st[0] == st[1] && (st[0] == 1 || st[0] == 2) &&
         pads == std::vector<int64_t>{1, 1, 1, 1} && dil == std::vector<int64_t>{1, 1};
}

std::optional<QuantizableNode> match_conv(const Graph& g, Node* n) {
  const Value* w = n->input(1);
  const Tensor* wt = constant_tensor(g, w);
  if (!f32(n->input(0)) || !wt || wt->dtype() != DType::F32 || wt->rank() != 4) return std::nullopt;
  const Shape& xs = n->input(0)->type.shape;
  if (!xs.rank_known || xs.rank() != 4) return std::nullopt;
  // Depthwise convolutions (one input channel per group): only 3x3, stride 1 or 2, padding 1,
  // which the VNNI kernel (runtime/kernels/cpu/qconv_dw3_avx512vbmi2.cpp) runs from u8 bytes
  // and then only when their input or output stays u8 (like the narrow convs below): measured
  // on MobileNetV2 with u8 in and out it is 1.1-2.7x faster than the f32 sliding-window kernel
  // (384x14x14: 18 vs 28 us) and keeps whole inverted-residual blocks u8 (int8 model 4.1 ->
  // 3.2 ms, 1 thread). Other depthwise shapes stay f32 (the general int8 depthwise kernel,
  // qconv_dw.h, widens to f32 and is 1.5-3x slower than the f32 kernel).
  const int64_t group = std::max<int64_t>(n->attrs.get_int("group", 1), 1);
  const bool depthwise = wt->dims()[1] == 1 && group > 1;
  if (depthwise && !depthwise_3x3(n->attrs, *wt, group)) return std::nullopt;
  // Where int8 pays (measured per layer on MobileNetV2, ResNet-18 and the MNIST CNN): quantizing
  // and packing an input value costs about what 64 int8 MACs save, and the requantizing or
  // dequantizing store of an output about what a 64-deep dot product saves. So a conv pays
  // alone when it does at least 64 MACs per input value (output channels per group x taps /
  // stride area) over a reduction of at least 64 (input channels per group x taps); otherwise
  // (1x1 expansions from 16..32 channels, projections to 24..32) only when its input or output
  // stays u8 (quantize_link.h decides). That includes convs with few input channels (MNIST's
  // first conv, RGB stems): their 4-channel words are mostly padding, but a u8 output is a
  // quarter of the bytes to store and spares the reader a quantization. MobileNetV2's stem
  // (3 -> 32, 3x3 stride 2 at 224x224) writing u8 for its depthwise reader: 156 us vs 211 us for
  // the f32 conv, and the reader 144 -> ~80 us (1 thread).
  const std::vector<int64_t> st = n->attrs.get_ints("strides", {1, 1});
  const int64_t stride_area = st.size() == 2 ? std::max<int64_t>(st[0] * st[1], 1) : 1;
  const int64_t taps = wt->dims()[2] * wt->dims()[3], reduction = wt->dims()[1] * taps;
  const bool pays =
      !depthwise && reduction >= 64 && wt->dims()[0] / group * taps / stride_area >= 64;
  QuantizableNode q;
  q.node = n;
  q.conv = true;
  q.pays_alone = pays;
  q.x = n->input(0);
  q.weights = *wt;
  if (n->input(2)) {
    const Tensor* b = constant_tensor(g, n->input(2));
    if (!b || b->dtype() != DType::F32) return std::nullopt;
    q.bias = *b;
  }
  if (n->op == OpKind::KilnFusedConv) {
    q.residual = n->input(3);
    if (q.residual && !f32(q.residual)) return std::nullopt;
  }
  q.attrs = n->attrs;
  return q;
}

std::optional<QuantizableNode> match_matmul(const Graph& g, Node* n) {
  const Tensor* bt = constant_tensor(g, n->input(1));
  const Value* a = n->input(0);
  if (!f32(a) || !bt || bt->dtype() != DType::F32 || bt->rank() != 2) return std::nullopt;
  if (!a->type.shape.rank_known || a->type.shape.rank() < 2) return std::nullopt;
  QuantizableNode q;
  q.node = n;
  q.x = n->input(0);
  bool trans_b = false;
  const Tensor* c = nullptr;
  float beta = 1;
  if (n->op == OpKind::Gemm) {
    if (n->attrs.get_int("transA", 0) != 0) return std::nullopt;
    trans_b = n->attrs.get_int("transB", 0) != 0;
    q.alpha = n->attrs.get_float("alpha", 1.0f);
    beta = n->attrs.get_float("beta", 1.0f);
    if (n->input(2) && !(c = constant_tensor(g, n->input(2)))) return std::nullopt;
  } else if (n->op == OpKind::KilnFusedMatMul) {
    trans_b = n->attrs.get_int("trans_b", 0) != 0;
    q.alpha = n->attrs.get_float("alpha", 1.0f);
    if (n->input(2) && !(c = constant_tensor(g, n->input(2)))) return std::nullopt;
    q.residual = n->input(3);
    if (q.residual && !f32(q.residual)) return std::nullopt;
    copy_activation(n->attrs, q.attrs);
  }
  q.weights = trans_b ? transposed(*bt) : *bt;
  const int64_t N = q.weights.dims()[1];
  if (c) {
    // A bias broadcast over rows: one value, or one per column ([N] or [1, N]).
    if (c->dtype() != DType::F32 || (c->numel() != 1 && c->numel() != N)) return std::nullopt;
    if (c->numel() == N && c->rank() == 2 && c->dims()[0] != 1) return std::nullopt;
    Tensor b(DType::F32, {N});
    for (int64_t j = 0; j < N; ++j)
      b.data<float>()[j] = beta * c->data<float>()[c->numel() == 1 ? 0 : j];
    q.bias = std::move(b);
  }
  return q;
}

}  // namespace

std::optional<QuantizableNode> match_quantizable(const Graph& g, Node* n) {
  switch (n->op) {
    case OpKind::Conv:
    case OpKind::KilnFusedConv:
      return match_conv(g, n);
    case OpKind::MatMul:
    case OpKind::Gemm:
    case OpKind::KilnFusedMatMul:
      return match_matmul(g, n);
    default:
      return std::nullopt;
  }
}

QuantizedWeights quantize_weights(const Tensor& w, bool channel_last) {
  const int64_t channels = channel_last ? w.dims().back() : w.dims()[0];
  const int64_t inner = w.numel() / std::max<int64_t>(channels, 1);
  QuantizedWeights r{Tensor(DType::I8, w.dims()), Tensor(DType::F32, {channels})};
  const float* src = w.data<float>();
  int8_t* dst = r.q.data<int8_t>();
  // Element e belongs to channel e % channels (last axis) or e / inner (axis 0).
  auto channel = [&](int64_t e) { return channel_last ? e % channels : e / inner; };
  std::vector<float> amax(static_cast<size_t>(channels), 0.0f);
  for (int64_t e = 0; e < w.numel(); ++e)
    amax[static_cast<size_t>(channel(e))] =
        std::max(amax[static_cast<size_t>(channel(e))], std::fabs(src[e]));
  float* scales = r.scales.data<float>();
  for (int64_t c = 0; c < channels; ++c) {
    const float a = amax[static_cast<size_t>(c)];
    scales[c] = a > 0 && std::isfinite(a) ? a / 127.0f : 1.0f;
  }
  for (int64_t e = 0; e < w.numel(); ++e) {
    const float v = std::nearbyint(src[e] / scales[channel(e)]);
    dst[e] = static_cast<int8_t>(std::clamp(std::isnan(v) ? 0.0f : v, -127.0f, 127.0f));
  }
  return r;
}

ActivationParams activation_params(Range r) {
  const float lo = std::min(r.lo, 0.0f), hi = std::max(r.hi, 0.0f);
  ActivationParams p;
  p.scale = (hi - lo) / 255.0f;
  if (!(p.scale > 0.0f) || !std::isfinite(p.scale)) p.scale = 1.0f;
  p.zero_point = static_cast<int64_t>(std::clamp(std::nearbyint(-lo / p.scale), 0.0f, 255.0f));
  return p;
}

void rewrite_quantized(Graph& g, const QuantizableNode& q, std::optional<ActivationParams> x) {
  Node* n = q.node;
  QuantizedWeights w = quantize_weights(q.weights, !q.conv);
  if (q.alpha != 1.0f)
    for (int64_t c = 0; c < w.scales.numel(); ++c) w.scales.data<float>()[c] *= q.alpha;
  const std::string base = n->name.empty() ? n->output(0)->name() : n->name;
  std::vector<Value*> inputs = {q.x, add_constant_named(g, base + "_w_s8", std::move(w.q)),
                                add_constant_named(g, base + "_w_scale", std::move(w.scales)),
                                nullptr, q.residual};
  if (q.bias) inputs[3] = add_constant_named(g, base + "_bias", *q.bias);
  while (!inputs.empty() && !inputs.back()) inputs.pop_back();
  Attributes attrs = q.attrs;
  if (x) {
    attrs.set("x_scale", Attribute::of_float(x->scale));
    attrs.set("x_zero_point", Attribute::of_int(x->zero_point));
  }
  replace_chain(g, {n}, q.conv ? OpKind::KilnQConv : OpKind::KilnQMatMul, std::move(inputs),
                n->output(0), std::move(attrs));
}

}  // namespace kiln
