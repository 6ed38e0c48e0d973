// Normalization ops: BatchNormalization, InstanceNormalization, LayerNormalization,
// GroupNormalization, RMSNormalization, LpNormalization, MeanVarianceNormalization, LRN.
// Expected values are hand-computed or from the onnx 1.22 reference evaluator (numpy for LRN,
// whose reference implementation loops over the wrong axis).
#include <cmath>

#include "ir/infer.h"
#include "tests/test_util.h"

namespace kiln::test {
namespace {

Attributes attrs(std::initializer_list<std::pair<std::string, Attribute>> kv) {
  Attributes a;
  for (const auto& [k, v] : kv) a.set(k, v);
  return a;
}
Attribute I(int64_t v) { return Attribute::of_int(v); }
Attribute F(float v) { return Attribute::of_float(v); }
Attribute Is(std::vector<int64_t> v) { return Attribute::of_ints(std::move(v)); }

Tensor f32(Dims d, std::vector<float> v) { return make<float>(std::move(d), std::move(v)); }

// Inference alone on types (dtype Undefined = absent input), no values.
std::vector<ValueType> infer(OpKind op, const std::vector<ValueType>& ins, const Attributes& a,
                             size_t nout, int opset = 22) {
  InferContext ctx;
  ctx.op = op;
  ctx.opset = opset;
  ctx.attrs = &a;
  for (const ValueType& t : ins) {
    ctx.input_types.push_back(t.dtype == DType::Undefined ? nullptr : &t);
    ctx.input_values.push_back(nullptr);
  }
  ctx.outputs.resize(nout);
  infer_node(ctx);
  return ctx.outputs;
}
ValueType vt(DType t, std::vector<Dim> dims) {
  ValueType v;
  v.dtype = t;
  v.shape.rank_known = true;
  v.shape.dims = std::move(dims);
  return v;
}
Dim S(const char* name) { return Dim::sym(name); }
Dim D(int64_t v) { return Dim::of(v); }

// [2, 4, 2, 2], shared by several tests.
Tensor xb() {
  return f32({2, 4, 2, 2}, {1, 2, 3, 4, 5, 6, 7, 8, -1, 0, 2, 9, 4, 4, 4, 5,
                            -0.5, 0, 0.5, 1, 1.5, 2, 2.5, 3, -1.5, -1, 0, 3.5, 1, 1, 1, 1.5});
}
// [2, 3, 4], shared by the layer-style tests.
Tensor x234() {
  std::vector<float> v(24);
  for (int i = 0; i < 24; ++i) v[static_cast<size_t>(i)] = 0.5f * static_cast<float>(i) - 3;
  v[23] = 7;
  return f32({2, 3, 4}, v);
}

// ---------------------------------------------------------------- BatchNormalization

TEST(NormalizationBatchNorm, InferenceHandChecked) {
  const Tensor x = f32({1, 2, 1, 2}, {1, 3, -2, 4});
  const Tensor s = f32({2}, {2, 0.5}), b = f32({2}, {1, -1});
  const Tensor m = f32({2}, {1, 2}), v = f32({2}, {4, 0.25});
  const Attributes a = attrs({{"epsilon", F(0)}});
  // (x - mean) / sqrt(var) * scale + B
  expect_close(run_op1(OpKind::BatchNormalization, {&x, &s, &b, &m, &v}, a),
               f32({1, 2, 1, 2}, {1, 3, -5, 1}));
}

TEST(NormalizationBatchNorm, TrainingOpset15) {
  const Tensor x = xb();
  const Tensor s = f32({4}, {1, 2, 3, 4}), b = f32({4}, {0, 1, 0, -1});
  const Tensor m = f32({4}, {0.5, 0, 1, 2}), v = f32({4}, {1, 2, 0.5, 1});
  const Attributes a = attrs({{"training_mode", I(1)}, {"momentum", F(0.8f)}});
  const auto out = run_op(OpKind::BatchNormalization, {&x, &s, &b, &m, &v}, a, 3, 15);
  expect_close(out[0], f32({2, 4, 2, 2}, {-0.2621106, 0.436851, 1.135813, 1.834774, 1.543125,
                                          2.412125, 3.281125, 4.150125, -2.168381, -1.255379,
                                          0.5706267, 6.961645, 2.282145, 2.282145, 2.282145,
                                          4.782827, -1.310553, -0.9610721, -0.6115913,
                                          -0.2621106, -1.498375, -1.063875, -0.6293747,
                                          -0.1948749, -2.624883, -2.168381, -1.255379, 1.940131,
                                          -5.219901, -5.219901, -5.219901, -3.96956}),
               1e-4, 1e-5);
  expect_close(out[1], f32({4}, {0.675, 0.875, 1.075, 2.1375}), 1e-5);
  expect_close(out[2], f32({4}, {1.209375, 2.659375, 2.559375, 1.311719}), 1e-5);
}

TEST(NormalizationBatchNorm, LegacyTrainingFiveOutputs) {
  // Opset 9: asking for the statistics outputs means training; 3 and 4 are the batch's own.
  const Tensor x = f32({2, 1, 2}, {1, 3, 5, 7});
  const Tensor one = f32({1}, {1}), zero = f32({1}, {0}), var = f32({1}, {1});
  const Attributes a = attrs({{"momentum", F(0.5f)}, {"epsilon", F(0)}});
  const auto out = run_op(OpKind::BatchNormalization, {&x, &one, &zero, &zero, &var}, a, 5, 9);
  // batch mean 4, population var 5
  const float r5 = 1 / std::sqrt(5.0f);
  expect_close(out[0], f32({2, 1, 2}, {-3 * r5, -r5, r5, 3 * r5}));
  expect_close(out[1], f32({1}, {2}));    // 0 * 0.5 + 4 * 0.5
  expect_close(out[2], f32({1}, {3}));    // 1 * 0.5 + 5 * 0.5
  expect_close(out[3], f32({1}, {4}));
  expect_close(out[4], f32({1}, {5}));
  // One output: inference with the given statistics.
  expect_close(run_op1(OpKind::BatchNormalization, {&x, &one, &zero, &zero, &var}, a, 9),
               f32({2, 1, 2}, {1, 3, 5, 7}));
}

TEST(NormalizationBatchNorm, Opset7NonSpatial) {
  // spatial=0: one statistic per (C x D) element.
  const Tensor x = f32({2, 1, 2}, {1, 2, 3, 4});
  const Tensor s = f32({1, 2}, {1, 2}), b = f32({1, 2}, {0, 1});
  const Tensor m = f32({1, 2}, {1, 0}), v = f32({1, 2}, {1, 4});
  const Attributes a = attrs({{"spatial", I(0)}, {"epsilon", F(0)}});
  expect_close(run_op1(OpKind::BatchNormalization, {&x, &s, &b, &m, &v}, a, 7),
               f32({2, 1, 2}, {0, 3, 2, 5}));
}

TEST(NormalizationBatchNorm, MixedPrecisionAndHalf) {
  // Opset 15: X f16, scale/B f32, mean/var f64.
  const Tensor x = make<half>({1, 2, 1}, {half(1.0f), half(-2.0f)});
  const Tensor s = f32({2}, {2, 3}), b = f32({2}, {0.5, 0});
  const Tensor m = make<double>({2}, {0, -1}), v = make<double>({2}, {1, 4});
  const Attributes a = attrs({{"epsilon", F(0)}});
  const Tensor y = run_op1(OpKind::BatchNormalization, {&x, &s, &b, &m, &v}, a, 15);
  expect_close(y, make<half>({1, 2, 1}, {half(2.5f), half(-1.5f)}));
  // Opset 14 requires scale to match X.
  EXPECT_THROW(run_op1(OpKind::BatchNormalization, {&x, &s, &b, &m, &v}, a, 14), Error);
}

TEST(NormalizationBatchNorm, Errors) {
  const Tensor x = xb();
  const Tensor c4 = f32({4}, {1, 1, 1, 1}), c3 = f32({3}, {1, 1, 1});
  EXPECT_THROW(run_op1(OpKind::BatchNormalization, {&x, &c3, &c4, &c4, &c4}), Error);
  // Extra outputs without training_mode.
  EXPECT_THROW(run_op(OpKind::BatchNormalization, {&x, &c4, &c4, &c4, &c4}, {}, 3, 15), Error);
  EXPECT_THROW(run_op1(OpKind::BatchNormalization, {&x, &c4, &c4, &c4, &c4},
                       attrs({{"training_mode", I(2)}})),
               Error);
  const Tensor xi = make<int32_t>({1, 4}, {1, 2, 3, 4});
  EXPECT_THROW(run_op1(OpKind::BatchNormalization, {&xi, &c4, &c4, &c4, &c4}), Error);
  EXPECT_THROW(run_op1(OpKind::BatchNormalization, {&x, &c4, &c4, &c4}), Error);  // missing var
}

TEST(NormalizationBatchNorm, SymbolicInference) {
  const ValueType x = vt(DType::F32, {S("N"), D(8), S("H"), Dim::unknown()});
  const ValueType c = vt(DType::F32, {D(8)});
  const auto out = infer(OpKind::BatchNormalization, {x, c, c, c, c},
                         attrs({{"training_mode", I(1)}}), 3, 15);
  EXPECT_EQ(out[0].shape, x.shape);
  EXPECT_EQ(out[1].shape.to_string(), "[8]");
  const ValueType c5 = vt(DType::F32, {D(5)});
  EXPECT_THROW(infer(OpKind::BatchNormalization, {x, c5, c, c, c}, {}, 1), Error);
  ValueType unknown;
  unknown.dtype = DType::F32;
  EXPECT_FALSE(infer(OpKind::BatchNormalization, {unknown, c, c, c, c}, {}, 1)[0]
                   .shape.rank_known);
}

// ---------------------------------------------------------------- InstanceNormalization

TEST(NormalizationInstanceNorm, MatchesReference) {
  const Tensor x = x234();
  const Tensor s = f32({3}, {1, 2, -1}), b = f32({3}, {0, 0.5, 1});
  expect_close(run_op1(OpKind::InstanceNormalization, {&x, &s, &b},
                       attrs({{"epsilon", F(1e-3f)}})),
               f32({2, 3, 4}, {-1.339499, -0.4464998, 0.4464998, 1.339499, -2.178998, -0.3929995,
                               1.393, 3.178998, 2.339499, 1.4465, 0.5535002, -0.3394992,
                               -1.339499, -0.4464998, 0.4464998, 1.339499, -2.178998, -0.3929995,
                               1.393, 3.178998, 1.901914, 0.699362, -0.5031902, 1.901914}),
               1e-4, 1e-5);
}

TEST(NormalizationInstanceNorm, Errors) {
  const Tensor x = x234();
  const Tensor s2 = f32({2}, {1, 1}), s3 = f32({3}, {1, 1, 1});
  EXPECT_THROW(run_op1(OpKind::InstanceNormalization, {&x, &s2, &s3}), Error);
  const Tensor s3d = make<double>({3}, {1, 1, 1});
  EXPECT_THROW(run_op1(OpKind::InstanceNormalization, {&x, &s3d, &s3}), Error);
  const Tensor x1 = f32({3}, {1, 2, 3});
  EXPECT_THROW(run_op1(OpKind::InstanceNormalization, {&x1, &s3, &s3}), Error);
}

// ---------------------------------------------------------------- LayerNormalization

TEST(NormalizationLayerNorm, Axis1WithStatistics) {
  const Tensor x = x234();
  std::vector<float> sv(12);
  for (int i = 0; i < 12; ++i) sv[static_cast<size_t>(i)] = 0.5f * static_cast<float>(i % 4 + 1);
  const Tensor s = f32({3, 4}, sv), b = f32({4}, {0.1, 0.2, 0.3, 0.4});
  const auto out =
      run_op(OpKind::LayerNormalization, {&x, &s, &b}, attrs({{"axis", I(1)}}), 3, 17);
  expect_close(out[0], f32({2, 3, 4}, {-0.6966261, -1.10357, -1.220832, -1.048411, -0.1172617,
                                       0.05515888, 0.5172617, 1.269047, 0.4621028, 1.213888,
                                       2.255355, 3.586505, -0.736216, -1.153874, -1.252973,
                                       -1.033513, -0.09909905, 0.1203604, 0.6583783, 1.514955,
                                       0.5380179, 1.394594, 2.569729, 2.152072}),
               1e-4, 1e-5);
  expect_close(out[1], f32({2, 1, 1}, {-0.25, 5.625}), 1e-5);
  expect_close(out[2], f32({2, 1, 1}, {0.5793645, 0.637117}), 1e-5);
}

TEST(NormalizationLayerNorm, DefaultAxisNoBias) {
  const Tensor x = x234();
  const Tensor s = f32({4}, {1, -1, 2, 0.5});
  const Tensor y = run_op1(OpKind::LayerNormalization, {&x, &s}, {}, 17);
  EXPECT_NEAR(y.as_double(0), -1.341619, 1e-4);
  EXPECT_NEAR(y.as_double(20), -0.9045078, 1e-4);
  EXPECT_NEAR(y.as_double(22), 3.015026, 1e-4);
  // axis = -3 normalizes everything: the whole tensor has mean 0 after normalization.
  const Tensor one = f32({1}, {1});
  const Tensor all = run_op1(OpKind::LayerNormalization, {&x, &one}, attrs({{"axis", I(-3)}}), 17);
  double sum = 0;
  for (int64_t i = 0; i < all.numel(); ++i) sum += all.as_double(i);
  EXPECT_NEAR(sum, 0, 1e-4);
}

TEST(NormalizationLayerNorm, HalfInputStashTypes) {
  const Tensor x = make<half>({1, 4}, {half(1.0f), half(2.0f), half(3.0f), half(4.0f)});
  const Tensor s = make<half>({4}, {half(1.0f), half(1.0f), half(1.0f), half(1.0f)});
  const auto out = run_op(OpKind::LayerNormalization, {&x, &s}, attrs({{"epsilon", F(0)}}), 3, 17);
  const float r = 1 / std::sqrt(1.25f);
  expect_close(out[0], make<half>({1, 4}, {half(-1.5f * r), half(-0.5f * r), half(0.5f * r),
                                           half(1.5f * r)}),
               1e-3, 1e-3);
  EXPECT_EQ(out[1].dtype(), DType::F32);  // stash_type 1
  expect_close(out[1], f32({1, 1}, {2.5}));
  const auto out16 = run_op(OpKind::LayerNormalization, {&x, &s},
                            attrs({{"epsilon", F(0)}, {"stash_type", I(16)}}), 3, 17);
  EXPECT_EQ(out16[2].dtype(), DType::BF16);
  EXPECT_NEAR(out16[2].as_double(0), r, 1e-2);
  EXPECT_THROW(run_op1(OpKind::LayerNormalization, {&x, &s}, attrs({{"stash_type", I(7)}}), 17),
               Error);
}

TEST(NormalizationLayerNorm, InferenceAndErrors) {
  const ValueType x = vt(DType::F32, {S("B"), S("T"), D(16)});
  const ValueType s = vt(DType::F32, {D(16)});
  const auto out = infer(OpKind::LayerNormalization, {x, s}, {}, 3, 17);
  EXPECT_EQ(out[0].shape, x.shape);
  EXPECT_EQ(out[1].shape.to_string(), "[B,T,1]");
  EXPECT_EQ(out[2].dtype, DType::F32);
  const auto out0 = infer(OpKind::LayerNormalization, {x, s}, attrs({{"axis", I(1)}}), 2, 17);
  EXPECT_EQ(out0[1].shape.to_string(), "[B,1,1]");
  EXPECT_THROW(infer(OpKind::LayerNormalization, {x, s}, attrs({{"axis", I(3)}}), 1, 17), Error);
  EXPECT_THROW(infer(OpKind::LayerNormalization, {x, vt(DType::F32, {D(15)})}, {}, 1, 17), Error);
  EXPECT_THROW(infer(OpKind::LayerNormalization, {x, vt(DType::F16, {D(16)})}, {}, 1, 17), Error);
  EXPECT_THROW(infer(OpKind::LayerNormalization, {x, vt(DType::F32, {D(1), D(1), D(1), D(16)})},
                     {}, 1, 17),
               Error);
  const Tensor xs = x234();
  const Tensor wide = f32({1, 1, 1, 4}, {1, 1, 1, 1});
  EXPECT_THROW(run_op1(OpKind::LayerNormalization, {&xs, &wide}, {}, 17), Error);
}

// ---------------------------------------------------------------- GroupNormalization

TEST(NormalizationGroupNorm, Opset21PerChannel) {
  const Tensor x = xb();
  const Tensor s = f32({4}, {1, 2, 3, 4}), b = f32({4}, {0, 1, 0, -1});
  const Tensor y = run_op1(OpKind::GroupNormalization, {&x, &s, &b},
                           attrs({{"num_groups", I(2)}}), 21);
  expect_close(y, f32({2, 4, 2, 2}, {-1.527524, -1.091088, -0.6546531, -0.2182177, 1.436435,
                                     2.309306, 3.182177, 4.055048, -4.505979, -3.476041,
                                     -1.416165, 5.793401, -0.1417183, -0.1417183, -0.1417183,
                                     1.231532, -1.527519, -1.091085, -0.6546512, -0.2182171,
                                     1.436434, 2.309302, 3.182171, 4.055039, -4.50597,
                                     -3.476035, -1.416162, 5.793391, -0.1417199, -0.1417199,
                                     -0.1417199, 1.231528}),
               1e-4, 1e-5);
}

TEST(NormalizationGroupNorm, Opset18PerGroup) {
  const Tensor x = xb();
  const Tensor s = f32({2}, {2, 3}), b = f32({2}, {1, -1});
  const Tensor y = run_op1(OpKind::GroupNormalization, {&x, &s, &b},
                           attrs({{"num_groups", I(2)}}), 18);
  expect_close(y, f32({2, 4, 2, 2}, {-2.055048, -1.182177, -0.3093061, 0.5635647, 1.436435,
                                     2.309306, 3.182177, 4.055048, -5.505979, -4.476041,
                                     -2.416165, 4.793401, -0.3562887, -0.3562887, -0.3562887,
                                     0.6736493, -2.055039, -1.182171, -0.3093024, 0.5635659,
                                     1.436434, 2.309302, 3.182171, 4.055039, -5.50597,
                                     -4.476035, -2.416162, 4.793391, -0.3562899, -0.3562899,
                                     -0.3562899, 0.6736462}),
               1e-4, 1e-5);
  // The same per-group scale is invalid at opset 21 (needs one per channel).
  EXPECT_THROW(run_op1(OpKind::GroupNormalization, {&x, &s, &b}, attrs({{"num_groups", I(2)}}),
                       21),
               Error);
}

TEST(NormalizationGroupNorm, Errors) {
  const Tensor x = xb();
  const Tensor s = f32({4}, {1, 1, 1, 1});
  EXPECT_THROW(run_op1(OpKind::GroupNormalization, {&x, &s, &s}, attrs({{"num_groups", I(3)}}), 21),
               Error);
  EXPECT_THROW(run_op1(OpKind::GroupNormalization, {&x, &s, &s}, {}, 21), Error);
  EXPECT_THROW(run_op1(OpKind::GroupNormalization, {&x, &s, &s}, attrs({{"num_groups", I(0)}}), 21),
               Error);
}

// ---------------------------------------------------------------- RMSNormalization

TEST(NormalizationRMSNorm, Axis1) {
  const Tensor x = x234();
  const Tensor s = f32({4}, {1, -1, 2, 0.5});
  expect_close(run_op1(OpKind::RMSNormalization, {&x, &s},
                       attrs({{"axis", I(1)}, {"epsilon", F(1e-2f)}}), 23),
               f32({2, 3, 4}, {-1.717326, 1.431105, -2.289768, -0.4293315, -0.5724419, 0.286221,
                               0, 0.1431105, 0.5724419, -0.8586629, 2.289768, 0.7155524,
                               0.5136341, -0.5992398, 1.369691, 0.3852256, 0.8560569,
                               -0.9416625, 2.054537, 0.556437, 1.19848, -1.284085, 2.739382,
                               0.5992398}),
               1e-4, 1e-5);
}

TEST(NormalizationRMSNorm, OutputTakesScaleType) {
  const Tensor x = f32({1, 2}, {3, 4});
  const Tensor s = make<double>({2}, {1, 2});
  const Tensor y = run_op1(OpKind::RMSNormalization, {&x, &s}, attrs({{"epsilon", F(0)}}), 23);
  const double rms = std::sqrt(12.5);
  expect_close(y, make<double>({1, 2}, {3 / rms, 8 / rms}), 1e-6);
  const auto t = infer(OpKind::RMSNormalization,
                       {vt(DType::BF16, {S("B"), D(2)}), vt(DType::F16, {D(2)})}, {}, 1, 23);
  EXPECT_EQ(t[0].dtype, DType::F16);
  EXPECT_EQ(t[0].shape.to_string(), "[B,2]");
  EXPECT_THROW(run_op1(OpKind::RMSNormalization, {&x, &s}, attrs({{"axis", I(2)}}), 23), Error);
}

// ---------------------------------------------------------------- LpNormalization

TEST(NormalizationLpNorm, L1L2AndZeroNorm) {
  const Tensor x = f32({2, 3}, {3, -4, 0, 0, 0, 0});
  expect_close(run_op1(OpKind::LpNormalization, {&x}),
               f32({2, 3}, {0.6, -0.8, 0, 0, 0, 0}));
  expect_close(run_op1(OpKind::LpNormalization, {&x}, attrs({{"p", I(1)}})),
               f32({2, 3}, {3.0 / 7, -4.0 / 7, 0, 0, 0, 0}));
  // axis 0: columns [3, 0], [-4, 0], [0, 0].
  expect_close(run_op1(OpKind::LpNormalization, {&x}, attrs({{"axis", I(0)}})),
               f32({2, 3}, {1, -1, 0, 0, 0, 0}));
  EXPECT_THROW(run_op1(OpKind::LpNormalization, {&x}, attrs({{"p", I(3)}})), Error);
  EXPECT_THROW(run_op1(OpKind::LpNormalization, {&x}, attrs({{"axis", I(2)}})), Error);
}

TEST(NormalizationLpNorm, Double) {
  const Tensor x = make<double>({1, 2}, {1, 1});
  expect_close(run_op1(OpKind::LpNormalization, {&x}),
               make<double>({1, 2}, {1 / std::sqrt(2.0), 1 / std::sqrt(2.0)}), 1e-12, 1e-12);
}

// ---------------------------------------------------------------- MeanVarianceNormalization

TEST(NormalizationMVN, DefaultAndCustomAxes) {
  const Tensor x = xb();
  expect_close(run_op1(OpKind::MeanVarianceNormalization, {&x}, {}, 13),
               f32({2, 4, 2, 2}, {-0.2621112, 0.436852, 1.135815, 1.834779, 0.2715627, 0.7060631,
                                  1.140563, 1.575064, -0.7227941, -0.4184597, 0.190209, 2.320549,
                                  0.8205379, 0.8205379, 0.8205379, 1.44571, -1.310556, -0.9610745,
                                  -0.6115928, -0.2621112, -1.249189, -1.031938, -0.8146881,
                                  -0.597438, -0.8749613, -0.7227941, -0.4184597, 0.6467105,
                                  -1.054977, -1.054977, -1.054977, -0.7423914}),
               1e-4, 1e-5);
  const Tensor y = run_op1(OpKind::MeanVarianceNormalization, {&x}, attrs({{"axes", Is({1, -1})}}));
  EXPECT_NEAR(y.as_double(0), -0.6938886, 1e-4);
  EXPECT_NEAR(y.as_double(11), 1.608169, 1e-4);
  EXPECT_NEAR(y.as_double(31), -0.1072113, 1e-4);
  EXPECT_THROW(run_op1(OpKind::MeanVarianceNormalization, {&x}, attrs({{"axes", Is({1, 1})}})),
               Error);
  const Tensor x3 = x234();  // default axes [0, 2, 3] need rank 4
  EXPECT_THROW(run_op1(OpKind::MeanVarianceNormalization, {&x3}), Error);
}

// ---------------------------------------------------------------- LRN

TEST(NormalizationLRN, OddAndEvenSize) {
  const Tensor x = xb();
  expect_close(run_op1(OpKind::LRN, {&x},
                       attrs({{"size", I(3)}, {"alpha", F(0.2f)}, {"beta", F(0.6f)},
                              {"bias", F(1.5f)}})),
               f32({2, 4, 2, 2}, {0.4945494, 0.8494869, 1.094708, 1.262643, 2.442652, 2.548461,
                                  2.481068, 1.780586, -0.4167916, 0, 0.6758215, 1.94643,
                                  2.237466, 2.272157, 2.141319, 1.378107, -0.3680109, 0,
                                  0.3366556, 0.6288177, 1.048398, 1.390225, 1.683278, 1.557041,
                                  -1.031457, -0.6803741, 0, 1.786768, 0.7230834, 0.744998,
                                  0.7638604, 0.8726196}),
               1e-4, 1e-5);
  // size 2: the window is [c, c + 1].
  const Tensor y = run_op1(OpKind::LRN, {&x}, attrs({{"size", I(2)}, {"alpha", F(0.1f)}}));
  EXPECT_NEAR(y.as_double(8), -0.6304073, 1e-5);
  EXPECT_NEAR(y.as_double(12), 2.573983, 1e-5);
  EXPECT_NEAR(y.as_double(31), 1.384734, 1e-5);
}

TEST(NormalizationLRN, Errors) {
  const Tensor x = xb();
  EXPECT_THROW(run_op1(OpKind::LRN, {&x}), Error);  // size is required
  EXPECT_THROW(run_op1(OpKind::LRN, {&x}, attrs({{"size", I(0)}})), Error);
  const Tensor xi = make<int64_t>({1, 2, 1}, {1, 2});
  EXPECT_THROW(run_op1(OpKind::LRN, {&xi}, attrs({{"size", I(1)}})), Error);
}

}  // namespace
}  // namespace kiln::test
