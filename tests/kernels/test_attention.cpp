// Attention (opset 23/24) and RotaryEmbedding (opset 23). Expected values come from the ONNX
// reference implementation (onnx 1.22) unless marked as hand-checked.
#include <gtest/gtest.h>

#include <cmath>

#include "ir/infer.h"
#include "tests/test_util.h"

namespace kiln::test {
namespace {

Attributes attrs(std::initializer_list<std::pair<const char*, Attribute>> kv) {
  Attributes a;
  for (auto& [k, v] : kv) a.set(k, v);
  return a;
}
Attribute i(int64_t v) { return Attribute::of_int(v); }
Attribute f(float v) { return Attribute::of_float(v); }

// Q: 2 heads, 2 queries, head size 2; K/V: 1 shared kv head (GQA), 3 keys.
const Tensor kQ = make<float>({1, 2, 2, 2}, {0.27f, -0.46f, -0.92f, -0.97f, 0.63f, 0.83f, 0.21f, 0.46f});
const Tensor kK = make<float>({1, 1, 3, 2}, {0.09f, 0.87f, 0.63f, -0.99f, 0.71f, -0.93f});
const Tensor kV = make<float>({1, 1, 3, 2}, {0.46f, -0.65f, 0.73f, 0.08f, -0.4f, -0.15f});

TEST(Attention, GroupedQueryHeads) {
  expect_close(run_op1(OpKind::Attention, {&kQ, &kK, &kV}, {}, 23),
               make<float>({1, 2, 2, 2}, {0.224358f, -0.1565467f, 0.2375014f, -0.1362943f,
                                          0.3120822f, -0.3631271f, 0.2941155f, -0.3152516f}));
}

TEST(Attention, CausalMask) {
  // Hand-checked first row: query 0 sees only key 0, so it returns V[0] exactly.
  expect_close(run_op1(OpKind::Attention, {&kQ, &kK, &kV}, attrs({{"is_causal", i(1)}}), 23),
               make<float>({1, 2, 2, 2}, {0.46f, -0.65f, 0.6533071f, -0.1273548f, 0.46f, -0.65f,
                                          0.5603663f, -0.3786392f}));
}

TEST(Attention, BoolMaskSoftcapAndScale) {
  const Tensor m = make<bool>({2, 3}, {true, false, true, true, true, false});
  expect_close(run_op1(OpKind::Attention, {&kQ, &kK, &kV, &m},
                       attrs({{"softcap", f(0.5f)}, {"scale", f(2.0f)}}), 23),
               make<float>({1, 2, 2, 2}, {-0.1594504f, -0.2898544f, 0.6549175f, -0.1230007f,
                                          0.2164562f, -0.5084048f, 0.5382617f, -0.4384036f}));
}

TEST(Attention, PastKeyValuePresentAndQkOutput) {
  const Tensor pk = make<float>({1, 1, 1, 2}, {-0.94f, -0.75f});
  const Tensor pv = make<float>({1, 1, 1, 2}, {0.34f, 0.29f});
  const Tensor m = make<float>({2, 4}, {0.23f, -0.23f, 0.99f, 0.96f, 0.37f, 0.3f, 0.38f, -0.22f});
  const auto out = run_op(OpKind::Attention, {&kQ, &kK, &kV, &m, &pk, &pv},
                          attrs({{"qk_matmul_output_mode", i(2)}, {"is_causal", i(1)}}), 4, 23);
  expect_close(out[0], make<float>({1, 2, 2, 2}, {0.3774528f, -0.003380101f, 0.457339f, 0.140128f,
                                                  0.4265246f, -0.3877759f, 0.5093715f, -0.2019516f}));
  expect_close(out[1], make<float>({1, 1, 4, 2}, {-0.94f, -0.75f, 0.09f, 0.87f, 0.63f, -0.99f, 0.71f, -0.93f}));
  expect_close(out[2], make<float>({1, 1, 4, 2}, {0.34f, 0.29f, 0.46f, -0.65f, 0.73f, 0.08f, -0.4f, -0.15f}));
  const float inf = INFINITY;
  const std::vector<float> qk = {0.2944881f, -0.4958014f, -inf, -inf, 1.495926f, -0.3552759f,
                                 0.6491956f, -inf, -0.6289226f, 0.3206947f, -inf, -inf,
                                 -0.01353471f, 0.5963485f, 0.1515338f, -inf};
  ASSERT_EQ(out[3].dims(), (Dims{1, 2, 2, 4}));
  for (size_t k = 0; k < qk.size(); ++k) {
    if (std::isinf(qk[k])) EXPECT_EQ(out[3].data<float>()[k], qk[k]) << k;
    else EXPECT_NEAR(out[3].data<float>()[k], qk[k], 1e-5) << k;
  }
}

TEST(Attention, ThreeDimensionalInputs) {
  const Tensor q = make<float>({1, 2, 4}, {0.27f, -0.46f, 0.63f, 0.83f, -0.92f, -0.97f, 0.21f, 0.46f});
  const Tensor k = make<float>({1, 3, 2}, {0.09f, 0.87f, 0.63f, -0.99f, 0.71f, -0.93f});
  const Tensor v = make<float>({1, 3, 2}, {0.46f, -0.65f, 0.73f, 0.08f, -0.4f, -0.15f});
  expect_close(run_op1(OpKind::Attention, {&q, &k, &v},
                       attrs({{"q_num_heads", i(2)}, {"kv_num_heads", i(1)}}), 23),
               make<float>({1, 2, 4}, {0.224358f, -0.1565467f, 0.3120822f, -0.3631271f, 0.2375014f,
                                       -0.1362943f, 0.2941155f, -0.3152516f}));
}

TEST(Attention, NonpadKvSeqlenOpset24) {
  // Hand-checked: with only the first key valid, every query returns V[0].
  const Tensor n = make<int64_t>({1}, {1});
  const auto y = run_op1(OpKind::Attention, {&kQ, &kK, &kV, nullptr, nullptr, nullptr, &n}, {}, 24);
  for (int64_t k = 0; k < 8; k += 2) {
    EXPECT_NEAR(y.data<float>()[k], 0.46f, 1e-6);
    EXPECT_NEAR(y.data<float>()[k + 1], -0.65f, 1e-6);
  }
}

TEST(Attention, HalfPrecisionRoundsOutput) {
  std::vector<half> q, k, v;
  for (float x : kQ.span<float>()) q.push_back(half(x));
  for (float x : kK.span<float>()) k.push_back(half(x));
  for (float x : kV.span<float>()) v.push_back(half(x));
  const Tensor tq = make<half>({1, 2, 2, 2}, q), tk = make<half>({1, 1, 3, 2}, k), tv = make<half>({1, 1, 3, 2}, v);
  const Tensor y = run_op1(OpKind::Attention, {&tq, &tk, &tv}, {}, 23);
  ASSERT_EQ(y.dtype(), DType::F16);
  EXPECT_NEAR(static_cast<float>(y.data<half>()[0]), 0.224358f, 2e-3);
}

TEST(Attention, SymbolicInference) {
  InferContext ctx;
  ctx.op = OpKind::Attention;
  ctx.opset = 23;
  const Attributes a;
  ctx.attrs = &a;
  ValueType q{DType::F32, Shape::of_rank(4), {}}, k = q, v = q, pk = q, pv = q;
  q.shape.dims = {Dim::sym("B"), Dim::of(8), Dim::sym("S"), Dim::of(64)};
  k.shape.dims = {Dim::sym("B"), Dim::of(2), Dim::sym("S"), Dim::of(64)};
  v.shape.dims = {Dim::sym("B"), Dim::of(2), Dim::sym("S"), Dim::of(32)};
  pk.shape.dims = {Dim::sym("B"), Dim::of(2), Dim::of(5), Dim::of(64)};
  pv.shape.dims = {Dim::sym("B"), Dim::of(2), Dim::of(5), Dim::of(32)};
  ctx.input_types = {&q, &k, &v, nullptr, &pk, &pv};
  ctx.input_values.assign(6, nullptr);
  ctx.outputs.resize(4);
  infer_node(ctx);
  EXPECT_EQ(ctx.outputs[0].shape.to_string(), "[B,8,S,32]");
  EXPECT_EQ(ctx.outputs[1].shape.to_string(), "[B,2,?,64]");
  EXPECT_EQ(ctx.outputs[3].shape.to_string(), "[B,8,S,?]");
  k.shape.dims[1] = Dim::of(3);  // 8 q heads cannot share 3 kv heads
  EXPECT_THROW(infer_node(ctx), Error);
}

TEST(Attention, BadInputFails) {
  const Tensor q3 = make<float>({1, 2, 4}, std::vector<float>(8, 0.1f));
  EXPECT_THROW(run_op1(OpKind::Attention, {&q3, &q3, &q3}, {}, 23), Error);  // 3-D needs heads
  EXPECT_THROW(run_op1(OpKind::Attention, {&q3, &q3, &q3}, attrs({{"q_num_heads", i(3)}, {"kv_num_heads", i(3)}}), 23), Error);
  const Tensor m = make<float>({2, 5}, std::vector<float>(10, 0));  // longer than the 3 keys
  EXPECT_THROW(run_op1(OpKind::Attention, {&kQ, &kK, &kV, &m}, {}, 23), Error);
  const Tensor pk = make<float>({1, 1, 1, 2}, {0, 0});
  EXPECT_THROW(run_op1(OpKind::Attention, {&kQ, &kK, &kV, nullptr, &pk}, {}, 23), Error);  // no past_value
  const Tensor qi = make<int32_t>({1, 1, 1, 1}, {1});
  EXPECT_THROW(run_op1(OpKind::Attention, {&qi, &qi, &qi}, {}, 23), Error);
  EXPECT_THROW(run_op1(OpKind::Attention, {&kQ, &kK, &kV}, attrs({{"qk_matmul_output_mode", i(4)}}), 23), Error);
}

// ---- RotaryEmbedding: X (B=1, H=2, S=3, D=4), caches (3 positions, 2)
const Tensor kX = make<float>({1, 2, 3, 4}, {-0.73f, 0.44f, 0.05f, -0.38f, -0.03f, 0.78f, 0.87f, -0.28f,
                                             0.14f, -0.36f, 0.19f, -0.32f, -0.22f, 0.78f, -0.55f, 0.25f,
                                             -0.83f, 0.67f, 0.57f, -0.52f, 0.75f, -0.88f, -0.33f, -0.7f});
const Tensor kCos = make<float>({3, 2}, {-0.1f, 0.59f, -0.54f, -0.9f, -0.19f, -0.6f});
const Tensor kSin = make<float>({3, 2}, {-0.82f, 0.16f, -0.4f, 0.34f, -0.6f, 0.88f});
const Tensor kPos = make<int64_t>({1, 3}, {2, 0, 1});

TEST(RotaryEmbedding, HalvesWithPositionIds) {
  expect_close(run_op1(OpKind::RotaryEmbedding, {&kX, &kCos, &kSin, &kPos}, {}, 23),
               make<float>({1, 2, 3, 4}, {0.1687f, 0.0704f, 0.4285f, 0.6152f, 0.7164f, 0.505f,
                                          -0.0624f, -0.0404f, 0.0004f, 0.4328f, -0.1586f, 0.1656f,
                                          -0.2882f, -0.688f, 0.2365f, 0.5364f, 0.5504f, 0.4785f,
                                          0.6236f, -0.1996f, -0.537f, 1.03f, -0.1218f, 0.3308f}),
               1e-5, 1e-6);
}

TEST(RotaryEmbedding, InterleavedAndPartialRotation) {
  expect_close(run_op1(OpKind::RotaryEmbedding, {&kX, &kCos, &kSin, &kPos}, attrs({{"interleaved", i(1)}}), 23),
               make<float>({1, 2, 3, 4}, {0.4027f, 0.3544f, 0.3044f, 0.272f, 0.6426f, -0.0534f,
                                          0.5581f, -0.026f, -0.2196f, 0.1384f, -0.0622f, 0.3526f,
                                          0.5098f, -0.0162f, 0.11f, -0.634f, 0.6324f, 0.6136f,
                                          0.4195f, -0.2156f, -0.757f, 0.1752f, 0.535f, 0.5178f}),
               1e-5, 1e-6);
  const Tensor c1 = make<float>({3, 1}, {-0.1f, -0.54f, -0.19f});
  const Tensor s1 = make<float>({3, 1}, {-0.82f, -0.4f, -0.6f});
  const Tensor y = run_op1(OpKind::RotaryEmbedding, {&kX, &c1, &s1, &kPos}, attrs({{"rotary_embedding_dim", i(2)}}), 23);
  EXPECT_NEAR(y.data<float>()[0], 0.4027f, 1e-6);
  EXPECT_FLOAT_EQ(y.data<float>()[2], 0.05f);  // beyond the rotary dim: copied
  EXPECT_FLOAT_EQ(y.data<float>()[3], -0.38f);
}

TEST(RotaryEmbedding, ThreeDimensionalWithoutPositionIds) {
  // Caches indexed by (batch, sequence) directly.
  const Tensor x3 = make<float>({1, 3, 8}, {-0.73f, 0.44f, 0.05f, -0.38f, -0.22f, 0.78f, -0.55f, 0.25f,
                                            -0.03f, 0.78f, 0.87f, -0.28f, -0.83f, 0.67f, 0.57f, -0.52f,
                                            0.14f, -0.36f, 0.19f, -0.32f, 0.75f, -0.88f, -0.33f, -0.7f});
  const Tensor c = kCos.reshaped({1, 3, 2}), sn = kSin.reshaped({1, 3, 2});
  const Tensor y = run_op1(OpKind::RotaryEmbedding, {&x3, &c, &sn}, attrs({{"num_heads", i(2)}}), 23);
  const std::vector<float> want = {0.114f, 0.3204f, 0.5936f, -0.1538f, -0.429f, 0.4202f, 0.2354f, 0.2723f};
  for (size_t k = 0; k < want.size(); ++k) EXPECT_NEAR(y.data<float>()[k], want[k], 1e-5);
}

TEST(RotaryEmbedding, BadInputFails) {
  const Tensor bad_pos = make<int64_t>({1, 3}, {0, 3, 1});  // 3 is past the cache
  EXPECT_THROW(run_op1(OpKind::RotaryEmbedding, {&kX, &kCos, &kSin, &bad_pos}, {}, 23), Error);
  EXPECT_THROW(run_op1(OpKind::RotaryEmbedding, {&kX, &kCos, &kSin, &kPos}, attrs({{"rotary_embedding_dim", i(3)}}), 23), Error);
  const Tensor x3 = make<float>({1, 3, 8}, std::vector<float>(24, 0));
  EXPECT_THROW(run_op1(OpKind::RotaryEmbedding, {&x3, &kCos, &kSin, &kPos}, {}, 23), Error);  // num_heads
  const Tensor c3 = make<float>({3, 3}, std::vector<float>(9, 0));
  EXPECT_THROW(run_op1(OpKind::RotaryEmbedding, {&kX, &c3, &c3, &kPos}, {}, 23), Error);
}

}  // namespace
}  // namespace kiln::test
