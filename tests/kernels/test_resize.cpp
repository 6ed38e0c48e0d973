// Resize and Upsample: interpolation modes, coordinate transforms, antialias, axes, aspect-ratio
// policies, legacy opsets, symbolic inference and bad input. Expected values come from the ONNX
// reference implementation (onnx 1.22) unless marked as hand-checked.
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

Tensor x4x4() {
  std::vector<float> v(16);
  for (int k = 0; k < 16; ++k) v[static_cast<size_t>(k)] = static_cast<float>(k + 1);
  return make<float>({1, 1, 4, 4}, v);
}

// Resize-19 with scales (roi and sizes absent).
Tensor resize_scales(const Tensor& x, std::vector<float> scales, const Attributes& a, int opset = 19) {
  const int64_t n = static_cast<int64_t>(scales.size());
  const Tensor sc = make<float>({n}, scales);
  return run_op1(OpKind::Resize, {&x, nullptr, &sc}, a, opset);
}

Tensor resize_sizes(const Tensor& x, std::vector<int64_t> sizes, const Attributes& a, int opset = 19) {
  const int64_t n = static_cast<int64_t>(sizes.size());
  const Tensor sz = make<int64_t>({n}, sizes);
  return run_op1(OpKind::Resize, {&x, nullptr, nullptr, &sz}, a, opset);
}

std::vector<ValueType> infer(OpKind op, std::vector<const ValueType*> types,
                             std::vector<const Tensor*> values, const Attributes& a, int opset) {
  InferContext ctx;
  ctx.op = op;
  ctx.opset = opset;
  ctx.attrs = &a;
  ctx.input_types = std::move(types);
  ctx.input_values = std::move(values);
  ctx.input_values.resize(ctx.input_types.size(), nullptr);
  ctx.outputs.resize(1);
  infer_node(ctx);
  return ctx.outputs;
}

TEST(Resize, CubicDownsampleHalfPixel) {
  const Tensor y = resize_scales(x4x4(), {1, 1, 0.8f, 0.8f}, attrs({{"mode", s("cubic")}}));
  expect_close(y, make<float>({1, 1, 3, 3}, {1.471191f, 2.78125f, 4.08252f, 6.711426f, 8.021484f,
                                             9.322754f, 11.9165f, 13.22656f, 14.52783f}),
               1e-5, 1e-5);
}

TEST(Resize, LinearAndCubicAntialias) {
  expect_close(resize_scales(x4x4(), {1, 1, 0.6f, 0.6f}, attrs({{"mode", s("linear")}, {"antialias", i(1)}})),
               make<float>({1, 1, 2, 2}, {2.875f, 4.5f, 9.375f, 11.0f}));
  expect_close(resize_scales(x4x4(), {1, 1, 0.6f, 0.6f}, attrs({{"mode", s("cubic")}, {"antialias", i(1)}})),
               make<float>({1, 1, 2, 2}, {2.51807f, 4.285886f, 9.589335f, 11.35715f}), 1e-5, 1e-5);
}

TEST(Resize, AlignCornersLinearUpsample) {
  const Tensor y = resize_scales(
      x4x4(), {1, 1, 1.5f, 1.5f},
      attrs({{"mode", s("linear")}, {"coordinate_transformation_mode", s("align_corners")}}));
  ASSERT_EQ(y.dims(), (Dims{1, 1, 6, 6}));
  // Hand-checked: corners are preserved, steps of 3/5 along each axis.
  EXPECT_FLOAT_EQ(y.data<float>()[0], 1.0f);
  EXPECT_FLOAT_EQ(y.data<float>()[1], 1.6f);
  EXPECT_FLOAT_EQ(y.data<float>()[6], 3.4f);
  EXPECT_FLOAT_EQ(y.data<float>()[35], 16.0f);
}

TEST(Resize, CubicExcludeOutsideCoeffA) {
  const Tensor y = resize_scales(
      x4x4(), {1, 1, 1.5f, 1.5f},
      attrs({{"mode", s("cubic")}, {"exclude_outside", i(1)}, {"cubic_coeff_a", Attribute::of_float(-0.5f)}}));
  const std::vector<float> row0 = {0.6710539f, 1.148608f, 1.903509f, 2.570177f, 3.325078f, 3.802632f};
  for (size_t k = 0; k < row0.size(); ++k) EXPECT_NEAR(y.data<float>()[k], row0[k], 1e-5);
  EXPECT_NEAR(y.data<float>()[35], 16.32895f, 1e-4);
}

TEST(Resize, NearestModesAndHalfPixelSymmetric) {
  const Tensor y = resize_scales(x4x4(), {1, 1, 1.5f, 1.5f},
                                 attrs({{"mode", s("nearest")}, {"nearest_mode", s("ceil")}}));
  const std::vector<float> row0 = {1, 2, 3, 3, 4, 4};
  for (size_t k = 0; k < row0.size(); ++k) EXPECT_EQ(y.data<float>()[k], row0[k]);
  expect_close(resize_scales(x4x4(), {1, 1, 0.6f, 0.6f},
                             attrs({{"mode", s("linear")},
                                    {"coordinate_transformation_mode", s("half_pixel_symmetric")}})),
               make<float>({1, 1, 2, 2}, {4.333333f, 6.0f, 11.0f, 12.66667f}));
}

TEST(Resize, TfCropAndResizeWithAxesAndExtrapolation) {
  const Tensor x = x4x4();
  const Tensor roi = make<float>({4}, {0.4f, 0.6f, 0.6f, 0.8f});
  const Tensor sizes = make<int64_t>({2}, {3, 3});
  const Attributes a = attrs({{"mode", s("linear")},
                              {"coordinate_transformation_mode", s("tf_crop_and_resize")},
                              {"axes", Attribute::of_ints({2, 3})},
                              {"extrapolation_value", Attribute::of_float(-1.0f)}});
  expect_close(run_op1(OpKind::Resize, {&x, &roi, nullptr, &sizes}, a, 19),
               make<float>({1, 1, 3, 3}, {7.6f, 7.9f, 8.2f, 8.8f, 9.1f, 9.4f, 10.0f, 10.3f, 10.6f}));
  // A roi reaching past the input: those samples take extrapolation_value (hand-checked).
  const Tensor wide = make<float>({4}, {0.0f, 0.0f, 2.0f, 1.0f});
  const Tensor y = run_op1(OpKind::Resize, {&x, &wide, nullptr, &sizes}, a, 19);
  EXPECT_FLOAT_EQ(y.data<float>()[0], 1.0f);
  EXPECT_FLOAT_EQ(y.data<float>()[8], -1.0f);  // row 2 samples y = 6 > 3
}

TEST(Resize, SizesPytorchHalfPixelAndKeepAspect) {
  expect_close(resize_sizes(x4x4(), {1, 1, 2, 2},
                            attrs({{"mode", s("linear")},
                                   {"coordinate_transformation_mode", s("pytorch_half_pixel")}}),
                            13),
               make<float>({1, 1, 2, 2}, {3.5f, 5.5f, 11.5f, 13.5f}));
  // not_larger: scale = min(2/4, 3/4) -> 2x2; not_smaller: max -> 3x3 (hand-checked sizes).
  const Attributes nl = attrs({{"keep_aspect_ratio_policy", s("not_larger")}, {"axes", Attribute::of_ints({2, 3})}});
  EXPECT_EQ(resize_sizes(x4x4(), {2, 3}, nl).dims(), (Dims{1, 1, 2, 2}));
  const Attributes ns = attrs({{"keep_aspect_ratio_policy", s("not_smaller")}, {"axes", Attribute::of_ints({2, 3})}});
  EXPECT_EQ(resize_sizes(x4x4(), {2, 3}, ns).dims(), (Dims{1, 1, 3, 3}));
}

TEST(Resize, IntegerInputRoundsAndSaturates) {
  const Tensor x = make<uint8_t>({1, 1, 2, 2}, {0, 100, 200, 255});
  const Tensor y = resize_scales(x, {1, 1, 1.5f, 1.5f}, attrs({{"mode", s("cubic")}}));
  expect_close(y, make<uint8_t>({1, 1, 3, 3}, {0, 35, 96, 93, 139, 184, 213, 243, 255}));
}

TEST(Resize, HalfPrecision) {
  const Tensor x = make<half>({1, 1, 1, 2}, {half(1.0f), half(3.0f)});
  const Tensor y = resize_scales(x, {1, 1, 1, 2}, attrs({{"mode", s("linear")}}));
  // half_pixel, scale 2: samples at -0.25, 0.25, 0.75, 1.25 -> 1, 1.5, 2.5, 3 (hand-checked).
  expect_close(y, make<half>({1, 1, 1, 4}, {half(1.0f), half(1.5f), half(2.5f), half(3.0f)}));
}

TEST(Resize, Opset10LegacyRules) {
  // Hand-checked: asymmetric linear upsampling, the classic Upsample result.
  const Tensor x = make<float>({1, 1, 2, 2}, {1, 2, 3, 4});
  const Tensor sc = make<float>({4}, {1, 1, 2, 2});
  expect_close(run_op1(OpKind::Resize, {&x, &sc}, attrs({{"mode", s("linear")}}), 10),
               make<float>({1, 1, 4, 4}, {1, 1.5, 2, 2, 2, 2.5, 3, 3, 3, 3.5, 4, 4, 3, 3.5, 4, 4}));
  // Nearest downsampling picks the upper neighbour (ceil), as ONNX Runtime and the old tests.
  const Tensor x2 = make<float>({1, 1, 2, 4}, {1, 2, 3, 4, 5, 6, 7, 8});
  const Tensor sc2 = make<float>({4}, {1, 1, 0.6f, 0.6f});
  expect_close(run_op1(OpKind::Resize, {&x2, &sc2}, {}, 10), make<float>({1, 1, 1, 2}, {1, 3}));
}

TEST(Upsample, Opset7AttributeAndOpset9Input) {
  const Tensor x = make<int32_t>({1, 2}, {1, 2});
  const Tensor y7 = run_op1(OpKind::Upsample, {&x}, attrs({{"scales", Attribute::of_floats({2, 3})}}), 7);
  expect_close(y7, make<int32_t>({2, 6}, {1, 1, 1, 2, 2, 2, 1, 1, 1, 2, 2, 2}));
  const Tensor sc = make<float>({2}, {2, 3});
  expect_close(run_op1(OpKind::Upsample, {&x, &sc}, {}, 9), y7);
  EXPECT_THROW(run_op1(OpKind::Upsample, {&x}, {}, 7), Error);  // scales attribute missing
}

TEST(Resize, SymbolicInference) {
  ValueType x{DType::F32, Shape::of_rank(4), {}};
  x.shape.dims = {Dim::sym("N"), Dim::of(3), Dim::of(4), Dim::sym("W")};
  const ValueType sc = ValueType::of(DType::F32, {4});
  const Tensor scv = make<float>({4}, {1, 1, 2, 1});
  auto out = infer(OpKind::Resize, {&x, nullptr, &sc}, {nullptr, nullptr, &scv}, {}, 13);
  EXPECT_EQ(out[0].shape.to_string(), "[N,3,8,W]");
  // Unknown sizes value: every resized dim is unknown but the rank is kept.
  const ValueType sz = ValueType::of(DType::I64, {2});
  out = infer(OpKind::Resize, {&x, nullptr, nullptr, &sz}, {}, attrs({{"axes", Attribute::of_ints({-2, -1})}}), 19);
  EXPECT_EQ(out[0].shape.to_string(), "[N,3,?,?]");
  const ValueType unranked{DType::F32, Shape::unknown_rank(), {}};
  out = infer(OpKind::Resize, {&unranked, nullptr, &sc}, {}, {}, 13);
  EXPECT_EQ(out[0].shape.to_string(), "[?,?,?,?]");
  EXPECT_EQ(out[0].dtype, DType::F32);
}

TEST(Resize, BadInputFails) {
  const Tensor x = x4x4();
  const Tensor sc = make<float>({4}, {1, 1, 2, 2});
  const Tensor sc3 = make<float>({3}, {1, 2, 2});
  const Tensor neg = make<float>({4}, {1, 1, -2, 2});
  const Tensor sz = make<int64_t>({4}, {1, 1, 2, 2});
  EXPECT_THROW(run_op1(OpKind::Resize, {&x, nullptr, &sc, &sz}, {}, 13), Error);   // both
  EXPECT_THROW(run_op1(OpKind::Resize, {&x, nullptr, nullptr, nullptr}, {}, 13), Error);  // neither
  EXPECT_THROW(run_op1(OpKind::Resize, {&x, nullptr, &sc3}, {}, 13), Error);
  EXPECT_THROW(run_op1(OpKind::Resize, {&x, nullptr, &neg}, {}, 13), Error);
  EXPECT_THROW(resize_scales(x, {1, 1, 2, 2}, attrs({{"mode", s("bicubic")}})), Error);
  EXPECT_THROW(resize_scales(x, {1, 1, 2, 2}, attrs({{"nearest_mode", s("up")}})), Error);
  EXPECT_THROW(resize_scales(x, {2, 2}, attrs({{"axes", Attribute::of_ints({2, 2})}})), Error);
  EXPECT_THROW(resize_scales(x, {2, 2}, attrs({{"axes", Attribute::of_ints({2, 4})}})), Error);
  EXPECT_THROW(resize_scales(x, {1, 1, 2, 2},
                             attrs({{"coordinate_transformation_mode", s("tf_crop_and_resize")}})),
               Error);  // roi missing
  EXPECT_THROW(resize_scales(x, {1, 1, 1e15f, 1}, {}), Error);  // absurd output size
}

TEST(Resize, NanRoiSamplesExtrapolationValue) {
  const Tensor x = x4x4();
  const Tensor roi = make<float>({4}, {NAN, 0, 1, 1});
  const Tensor sizes = make<int64_t>({2}, {2, 2});
  const Attributes a = attrs({{"mode", s("cubic")},
                              {"coordinate_transformation_mode", s("tf_crop_and_resize")},
                              {"axes", Attribute::of_ints({2, 3})},
                              {"extrapolation_value", Attribute::of_float(7.0f)}});
  const Tensor y = run_op1(OpKind::Resize, {&x, &roi, nullptr, &sizes}, a, 19);
  for (int64_t k = 0; k < y.numel(); ++k) EXPECT_EQ(y.data<float>()[k], 7.0f);
}

}  // namespace
}  // namespace kiln::test
