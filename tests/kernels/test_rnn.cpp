// RNN, GRU and LSTM. Forward cases use values from the ONNX reference implementation (onnx
// 1.22, which only runs forward, full-length sequences); reverse, bidirectional, sequence_lens
// and layout are checked through identities against those forward runs.
#include <gtest/gtest.h>

#include "ir/infer.h"
#include "tests/test_util.h"

namespace kiln::test {
namespace {

Attributes attrs(std::initializer_list<std::pair<const char*, Attribute>> kv) {
  Attributes a;
  for (auto& [k, v] : kv) a.set(k, v);
  return a;
}
Attribute s(const char* v) { return Attribute::of_string(v); }
Attribute i(int64_t v) { return Attribute::of_int(v); }

// X: seq 3, batch 2, input 2; hidden 2.
const Tensor kX = make<float>({3, 2, 2}, {0.02f, 0.9f, -0.71f, 0.9f, -0.38f, -0.15f, 0.66f, -0.18f,
                                          0.1f, -0.94f, 0.51f, 0.08f});
const Tensor kRnnW = make<float>({1, 2, 2}, {-0.34f, 0.58f, -0.39f, -0.09f});
const Tensor kRnnR = make<float>({1, 2, 2}, {-0.73f, -0.19f, -0.59f, -0.48f});
const Tensor kRnnB = make<float>({1, 4}, {0.5f, -0.44f, -0.03f, 0.96f});
const Tensor kRnnH0 = make<float>({1, 2, 2}, {0.92f, 0.45f, 0.08f, -0.45f});

const Tensor kGruW = make<float>({1, 6, 2}, {-0.68f, 0.94f, 0.03f, -0.77f, 0.25f, 0.55f, 0.23f, 0.83f,
                                             -0.92f, 0.06f, -0.08f, -0.88f});
const Tensor kGruR = make<float>({1, 6, 2}, {0.28f, 0.71f, 0.19f, -0.48f, 0.68f, 0.02f, 0.02f, 0.51f,
                                             -0.7f, 0.64f, 0.37f, 0.57f});
const Tensor kGruB = make<float>({1, 12}, {-0.62f, 0.6f, -0.62f, -0.84f, 0.71f, 0.72f, 0.75f, -0.06f,
                                           -0.45f, -0.99f, 0.29f, 0.44f});
const Tensor kGruH0 = make<float>({1, 2, 2}, {0.67f, -0.44f, -0.57f, 0.28f});

const Tensor kLstmW = make<float>({1, 8, 2}, {0.61f, 0.93f, -0.7f, -0.04f, 0.79f, -0.15f, 0.18f, -0.95f,
                                              0.35f, 0.84f, 0.65f, 0.77f, 0.32f, -0.51f, 0.54f, -0.58f});
const Tensor kLstmR = make<float>({1, 8, 2}, {0.66f, -0.87f, 0.65f, -0.67f, -0.25f, -0.37f, 0.38f, -0.64f,
                                              -0.21f, -0.99f, -0.48f, -0.16f, -0.79f, 0.27f, -0.24f, 0.45f});
const Tensor kLstmB = make<float>({1, 16}, {0.31f, -0.14f, 0.73f, 0.26f, 0.62f, -0.32f, 0.09f, -0.61f,
                                            0.99f, -0.51f, -0.49f, -0.85f, -0.48f, 0.53f, 0.4f, -0.74f});
const Tensor kLstmH0 = make<float>({1, 2, 2}, {-0.25f, -0.16f, 0.33f, -0.09f});
const Tensor kLstmC0 = make<float>({1, 2, 2}, {0.17f, 0.68f, 0.45f, -0.27f});
const Tensor kLstmP = make<float>({1, 6}, {-0.1f, -0.26f, -0.78f, -0.59f, -0.43f, -0.37f});

const Attributes kHidden2 = attrs({{"hidden_size", i(2)}});

TEST(RNN, ForwardWithBiasAndInitialState) {
  const auto out = run_op(OpKind::RNN, {&kX, &kRnnW, &kRnnR, &kRnnB, nullptr, &kRnnH0}, kHidden2, 2, 22);
  expect_close(out[0], make<float>({3, 1, 2, 2}, {0.2242246f, -0.3163626f, 0.8512019f, 0.708766f,
                                                  0.3873045f, 0.6051679f, -0.5475272f, -0.510656f,
                                                  -0.4675375f, 0.04657597f, 0.6856605f, 0.7074477f}));
  expect_close(out[1], make<float>({1, 2, 2}, {-0.4675375f, 0.04657597f, 0.6856605f, 0.7074477f}));
}

TEST(RNN, ActivationAttributesAndClip) {
  // Hand-checked, hidden 1: h1 = relu(clip(2)) = 1.5; h2 = leaky... uses Relu: relu(-1 + 1.5) = 0.5.
  const Tensor x = make<float>({2, 1, 1}, {2, -1});
  const Tensor one = make<float>({1, 1, 1}, {1});
  const auto y = run_op1(OpKind::RNN, {&x, &one, &one},
                         attrs({{"hidden_size", i(1)}, {"activations", Attribute::of_strings({"Relu"})},
                                {"clip", Attribute::of_float(1.5f)}}), 22);
  expect_close(y, make<float>({2, 1, 1, 1}, {1.5f, 0.5f}));
  // LeakyRelu with alpha 0.1: h1 = 2, h2 = leaky(-3 + 2) = -0.1 (X = [2, -3]).
  const Tensor x2 = make<float>({2, 1, 1}, {2, -3});
  const auto y2 = run_op1(OpKind::RNN, {&x2, &one, &one},
                          attrs({{"hidden_size", i(1)}, {"activations", Attribute::of_strings({"LeakyRelu"})},
                                 {"activation_alpha", Attribute::of_floats({0.1f})}}), 22);
  expect_close(y2, make<float>({2, 1, 1, 1}, {2.0f, -0.1f}));
}

TEST(GRU, DefaultAndLinearBeforeReset) {
  const auto out = run_op(OpKind::GRU, {&kX, &kGruW, &kGruR, &kGruB, nullptr, &kGruH0}, kHidden2, 2, 22);
  expect_close(out[0], make<float>({3, 1, 2, 2}, {0.6603205f, -0.05709986f, -0.2919655f, 0.346864f,
                                                  0.7293746f, 0.235323f, 0.1293238f, 0.5412947f,
                                                  0.6653055f, 0.3931684f, 0.2980699f, 0.6582679f}));
  const Attributes lbr = attrs({{"hidden_size", i(2)}, {"linear_before_reset", i(1)}});
  const auto out2 = run_op(OpKind::GRU, {&kX, &kGruW, &kGruR, &kGruB, nullptr, &kGruH0}, lbr, 2, 22);
  expect_close(out2[1], make<float>({1, 2, 2}, {0.5492569f, 0.2295367f, 0.1886343f, 0.4703205f}));
}

TEST(LSTM, PeepholesAndInitialStates) {
  const auto out = run_op(OpKind::LSTM,
                          {&kX, &kLstmW, &kLstmR, &kLstmB, nullptr, &kLstmH0, &kLstmC0, &kLstmP},
                          kHidden2, 3, 22);
  expect_close(out[0], make<float>({3, 1, 2, 2}, {0.1440399f, 0.0346765f, -0.04528538f, -0.1631469f,
                                                  0.1418349f, -0.1172908f, 0.2766734f, -0.332285f,
                                                  0.2626935f, -0.2425651f, 0.2842887f, -0.3775352f}));
  expect_close(out[1], make<float>({1, 2, 2}, {0.2626935f, -0.2425651f, 0.2842887f, -0.3775352f}));
  ASSERT_EQ(out[2].dims(), (Dims{1, 2, 2}));  // Y_c
}

// Reverses the sequence axis of a (seq, batch, features) tensor.
Tensor flip_seq(const Tensor& x) {
  const int64_t S = x.dim(0), rest = x.numel() / S;
  std::vector<float> v(static_cast<size_t>(x.numel()));
  for (int64_t t = 0; t < S; ++t)
    for (int64_t k = 0; k < rest; ++k)
      v[static_cast<size_t>(t * rest + k)] = x.data<float>()[(S - 1 - t) * rest + k];
  return make<float>(x.dims(), v);
}

TEST(LSTM, ReverseAndBidirectionalMatchForwardRuns) {
  const Tensor xr = flip_seq(kX);
  const auto fwd_on_flipped = run_op(OpKind::LSTM, {&xr, &kLstmW, &kLstmR, &kLstmB}, kHidden2, 3, 22);
  const auto rev = run_op(OpKind::LSTM, {&kX, &kLstmW, &kLstmR, &kLstmB},
                          attrs({{"hidden_size", i(2)}, {"direction", s("reverse")}}), 3, 22);
  expect_close(rev[0], flip_seq(fwd_on_flipped[0]));
  expect_close(rev[2], fwd_on_flipped[2]);
  // Bidirectional with the same weights in both directions: direction 0 = forward, 1 = reverse.
  const auto dup = [](const Tensor& t) {
    std::vector<float> v(t.span<float>().begin(), t.span<float>().end());
    v.insert(v.end(), v.begin(), v.end());
    Dims d = t.dims();
    d[0] = 2;
    return make<float>(d, v);
  };
  const Tensor w2 = dup(kLstmW), r2 = dup(kLstmR), b2 = dup(kLstmB);
  const auto bi = run_op(OpKind::LSTM, {&kX, &w2, &r2, &b2},
                         attrs({{"hidden_size", i(2)}, {"direction", s("bidirectional")}}), 2, 22);
  const auto fwd = run_op(OpKind::LSTM, {&kX, &kLstmW, &kLstmR, &kLstmB}, kHidden2, 2, 22);
  ASSERT_EQ(bi[0].dims(), (Dims{3, 2, 2, 2}));
  for (int64_t t = 0; t < 3; ++t) {
    for (int64_t k = 0; k < 4; ++k) {
      EXPECT_NEAR(bi[0].data<float>()[(t * 2 + 0) * 4 + k], fwd[0].data<float>()[t * 4 + k], 1e-6);
      EXPECT_NEAR(bi[0].data<float>()[(t * 2 + 1) * 4 + k], rev[0].data<float>()[t * 4 + k], 1e-6);
    }
  }
}

TEST(GRU, SequenceLensStopEachBatchRow) {
  // Batch row 1 only has 2 steps: its output past step 2 is zero and Y_h is its step-2 state,
  // which equals a run over the first two steps alone.
  const Tensor lens = make<int32_t>({2}, {3, 2});
  const auto out = run_op(OpKind::GRU, {&kX, &kGruW, &kGruR, &kGruB, &lens, &kGruH0}, kHidden2, 2, 22);
  const Tensor x2 = make<float>({2, 2, 2}, std::vector<float>(kX.span<float>().begin(), kX.span<float>().begin() + 8));
  const auto short_run = run_op(OpKind::GRU, {&x2, &kGruW, &kGruR, &kGruB, nullptr, &kGruH0}, kHidden2, 2, 22);
  EXPECT_EQ(out[0].data<float>()[2 * 4 + 2], 0.0f);
  EXPECT_EQ(out[0].data<float>()[2 * 4 + 3], 0.0f);
  EXPECT_NEAR(out[1].data<float>()[2], short_run[1].data<float>()[2], 1e-6);
  EXPECT_NEAR(out[1].data<float>()[3], short_run[1].data<float>()[3], 1e-6);
  EXPECT_NEAR(out[1].data<float>()[0], 0.6653055f, 1e-6);  // row 0 unchanged
}

TEST(RNN, BatchFirstLayout) {
  // layout = 1: X (batch, seq, in), Y (batch, seq, dirs, hidden), Y_h (batch, dirs, hidden).
  std::vector<float> xt(12);
  for (int64_t t = 0; t < 3; ++t)
    for (int64_t b = 0; b < 2; ++b)
      for (int64_t k = 0; k < 2; ++k) xt[static_cast<size_t>((b * 3 + t) * 2 + k)] = kX.data<float>()[(t * 2 + b) * 2 + k];
  const Tensor xb = make<float>({2, 3, 2}, xt);
  const Tensor h0 = kRnnH0.reshaped({2, 1, 2});
  const auto out = run_op(OpKind::RNN, {&xb, &kRnnW, &kRnnR, &kRnnB, nullptr, &h0},
                          attrs({{"hidden_size", i(2)}, {"layout", i(1)}}), 2, 22);
  ASSERT_EQ(out[0].dims(), (Dims{2, 3, 1, 2}));
  EXPECT_NEAR(out[0].data<float>()[0], 0.2242246f, 1e-6);       // b0 t0
  EXPECT_NEAR(out[0].data<float>()[3 * 2], 0.8512019f, 1e-6);   // b1 t0
  expect_close(out[1], make<float>({2, 1, 2}, {-0.4675375f, 0.04657597f, 0.6856605f, 0.7074477f}));
}

TEST(LSTM, SymbolicInference) {
  InferContext ctx;
  ctx.op = OpKind::LSTM;
  ctx.opset = 22;
  const Attributes a = attrs({{"hidden_size", i(8)}, {"direction", s("bidirectional")}});
  ctx.attrs = &a;
  ValueType x{DType::F32, Shape::of_rank(3), {}};
  x.shape.dims = {Dim::sym("S"), Dim::sym("B"), Dim::of(4)};
  const ValueType w = ValueType::of(DType::F32, {2, 32, 4}), r = ValueType::of(DType::F32, {2, 32, 8});
  ctx.input_types = {&x, &w, &r};
  ctx.input_values = {nullptr, nullptr, nullptr};
  ctx.outputs.resize(3);
  infer_node(ctx);
  EXPECT_EQ(ctx.outputs[0].shape.to_string(), "[S,2,B,8]");
  EXPECT_EQ(ctx.outputs[2].shape.to_string(), "[2,B,8]");
  const ValueType w_bad = ValueType::of(DType::F32, {2, 24, 4});
  ctx.input_types[1] = &w_bad;
  EXPECT_THROW(infer_node(ctx), Error);
}

TEST(RNN, BadInputFails) {
  EXPECT_THROW(run_op1(OpKind::RNN, {&kX, &kRnnW, &kRnnR}, attrs({{"direction", s("sideways")}}), 22), Error);
  EXPECT_THROW(run_op1(OpKind::RNN, {&kX, &kGruW, &kRnnR}, kHidden2, 22), Error);  // W rows
  const Tensor lens = make<int32_t>({2}, {4, 1});
  EXPECT_THROW(run_op1(OpKind::RNN, {&kX, &kRnnW, &kRnnR, nullptr, &lens}, kHidden2, 22), Error);
  EXPECT_THROW(run_op1(OpKind::RNN, {&kX, &kRnnW, &kRnnR},
                       attrs({{"activations", Attribute::of_strings({"Swish"})}}), 22), Error);
  EXPECT_THROW(run_op1(OpKind::GRU, {&kX, &kGruW, &kGruR},
                       attrs({{"activations", Attribute::of_strings({"Sigmoid"})}}), 22), Error);
  const Tensor xi = make<int32_t>({1, 1, 1}, {1});
  EXPECT_THROW(run_op1(OpKind::RNN, {&xi, &xi, &xi}, {}, 22), Error);
}

}  // namespace
}  // namespace kiln::test
