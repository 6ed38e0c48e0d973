// A BERT-base encoder (Hugging Face BertModel's encoder: 12 layers, hidden 768, 12 heads, FFN
// 3072) as torch.onnx.export writes it at opset 17, taking input embeddings instead of token
// ids: nn.Linear on 3-D input is MatMul with the transposed weight plus Add of the bias,
// attention is MatMul / Div / Add mask / Softmax / MatMul with Reshape and Transpose around the
// heads, LayerNorm is LayerNormalization, and exact GELU is x * 0.5 * (1 + erf(x / sqrt 2)).
// The int64 attention mask [B, S] (1 = attend) becomes the additive mask (1 - m) * -10000.
#include <cmath>

#include "models/zoo/families.h"
#include "models/zoo/graph_builder.h"

namespace kiln::zoo {

namespace {

constexpr int64_t kLayers = 12, kHidden = 768, kHeads = 12, kHeadDim = 64, kFfn = 3072;

// BERT's initializer is N(0, 0.02); this is the uniform with the same spread, which is
// cheaper to draw for 85M weights and gives the same activation statistics.
constexpr float kWeightBound = 0.02f * 1.7320508f;

class BertBuilder {
 public:
  BertBuilder(int64_t batch, int64_t seq, uint64_t seed) : b_("bert_base_encoder", seed) {
    one_ = b_.scalar("const.one", 1.0f);
    half_ = b_.scalar("const.half", 0.5f);
    sqrt2_ = b_.scalar("const.sqrt2", static_cast<float>(std::sqrt(2.0)));
    score_scale_ = b_.scalar("const.sqrt_head_dim", static_cast<float>(std::sqrt(kHeadDim)));
    heads_shape_ = b_.ints("const.heads_shape", {batch, seq, kHeads, kHeadDim});
    hidden_shape_ = b_.ints("const.hidden_shape", {batch, seq, kHidden});
    embeds_ = b_.input("inputs_embeds", DType::F32, {batch, seq, kHidden});
    mask_ = extended_mask(b_.input("attention_mask", DType::I64, {batch, seq}));
  }

  std::unique_ptr<Graph> build() {
    Value* h = embeds_;
    for (int64_t i = 0; i < kLayers; ++i) {
      const std::string out = i + 1 == kLayers ? "last_hidden_state" : "";
      h = layer("encoder.layer." + std::to_string(i), h, out);
    }
    return b_.finish({h});
  }

 private:
  Value* extended_mask(Value* mask) {
    Value* m = b_.op(OpKind::Unsqueeze, {mask, b_.ints("const.mask_axes", {1, 2})},
                     "/Unsqueeze");
    Attributes cast;
    cast.set("to", Attribute::of_int(1));  // FLOAT
    m = b_.op(OpKind::Cast, {m}, "/Cast", std::move(cast));
    m = b_.op(OpKind::Sub, {one_, m}, "/Sub");
    return b_.op(OpKind::Mul, {m, b_.scalar("const.mask_value", -10000.0f)}, "/Mul");
  }

  // nn.Linear on [B, S, in]: MatMul by the [in, out] transposed weight, then Add the bias.
  Value* linear(const std::string& scope, Value* x, int64_t in, int64_t out) {
    Value* w = b_.uniform(scope + ".weight", {in, out}, -kWeightBound, kWeightBound);
    Value* bias = b_.uniform(scope + ".bias", {out}, -0.02f, 0.02f);
    const std::string s = torch_scope(scope);
    return b_.op(OpKind::Add, {b_.op(OpKind::MatMul, {x, w}, s + "/MatMul"), bias}, s + "/Add");
  }

  Value* layer_norm(const std::string& scope, Value* x, const std::string& out_name = {}) {
    Value* gamma = b_.uniform(scope + ".weight", {kHidden}, 0.8f, 1.2f);
    Value* beta = b_.uniform(scope + ".bias", {kHidden}, -0.1f, 0.1f);
    Attributes a;
    a.set("axis", Attribute::of_int(-1));
    a.set("epsilon", Attribute::of_float(1e-12f));
    return b_.op(OpKind::LayerNormalization, {x, gamma, beta},
                 torch_scope(scope) + "/LayerNormalization", std::move(a), out_name);
  }

  Value* transpose(const std::string& node, Value* x, std::vector<int64_t> perm) {
    Attributes a;
    a.set("perm", Attribute::of_ints(std::move(perm)));
    return b_.op(OpKind::Transpose, {x}, node, std::move(a));
  }

  // [B, S, 768] -> [B, 12, S, 64] (or [B, 12, 64, S] for the keys).
  Value* split_heads(const std::string& s, Value* x, bool keys) {
    Value* r = b_.op(OpKind::Reshape, {x, heads_shape_}, s + "/Reshape");
    return transpose(s + "/Transpose", r, keys ? std::vector<int64_t>{0, 2, 3, 1}
                                               : std::vector<int64_t>{0, 2, 1, 3});
  }

  Value* self_attention(const std::string& scope, Value* h) {
    const std::string s = torch_scope(scope);
    Value* q = split_heads(s + "/query", linear(scope + ".query", h, kHidden, kHidden), false);
    Value* k = split_heads(s + "/key", linear(scope + ".key", h, kHidden, kHidden), true);
    Value* v = split_heads(s + "/value", linear(scope + ".value", h, kHidden, kHidden), false);
    Value* scores = b_.op(OpKind::MatMul, {q, k}, s + "/MatMul");
    scores = b_.op(OpKind::Div, {scores, score_scale_}, s + "/Div");
    scores = b_.op(OpKind::Add, {scores, mask_}, s + "/Add");
    Attributes sm;
    sm.set("axis", Attribute::of_int(-1));
    Value* probs = b_.op(OpKind::Softmax, {scores}, s + "/Softmax", std::move(sm));
    Value* ctx = b_.op(OpKind::MatMul, {probs, v}, s + "/MatMul_1");
    ctx = transpose(s + "/Transpose", ctx, {0, 2, 1, 3});
    return b_.op(OpKind::Reshape, {ctx, hidden_shape_}, s + "/Reshape");
  }

  Value* gelu(const std::string& s, Value* x) {
    Value* e = b_.op(OpKind::Erf, {b_.op(OpKind::Div, {x, sqrt2_}, s + "/Div")}, s + "/Erf");
    e = b_.op(OpKind::Add, {e, one_}, s + "/Add");
    Value* m = b_.op(OpKind::Mul, {x, e}, s + "/Mul");
    return b_.op(OpKind::Mul, {m, half_}, s + "/Mul_1");
  }

  Value* layer(const std::string& scope, Value* h, const std::string& out_name) {
    Value* a = self_attention(scope + ".attention.self", h);
    a = linear(scope + ".attention.output.dense", a, kHidden, kHidden);
    a = b_.op(OpKind::Add, {a, h}, torch_scope(scope + ".attention.output") + "/Add");
    a = layer_norm(scope + ".attention.output.LayerNorm", a);
    Value* f = linear(scope + ".intermediate.dense", a, kHidden, kFfn);
    f = gelu(torch_scope(scope + ".intermediate.intermediate_act_fn"), f);
    f = linear(scope + ".output.dense", f, kFfn, kHidden);
    f = b_.op(OpKind::Add, {f, a}, torch_scope(scope + ".output") + "/Add");
    return layer_norm(scope + ".output.LayerNorm", f, out_name);
  }

  GraphBuilder b_;
  Value *one_, *half_, *sqrt2_, *score_scale_, *heads_shape_, *hidden_shape_;
  Value *embeds_, *mask_;
};

}  // namespace

std::unique_ptr<Graph> build_bert_encoder(int64_t batch, int64_t seq_len, uint64_t seed) {
  return BertBuilder(batch, seq_len, seed).build();
}

}  // namespace kiln::zoo
