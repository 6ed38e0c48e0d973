// Conv, ConvTranspose, ConvInteger, QLinearConv and Col2Im: reference kernels and inference.
// Expected values are hand-checked or computed with the onnx reference evaluator (ConvTranspose
// with groups: an independent numpy loop, as onnx's own reference mishandles groups).
#include <numeric>

#include "ir/infer.h"
#include "ir/infer/window.h"
#include "tests/test_util.h"

namespace kiln::test {
namespace {

Attributes attrs(std::initializer_list<std::pair<const char*, Attribute>> kv) {
  Attributes a;
  for (const auto& [k, v] : kv) a.set(k, v);
  return a;
}
Attribute ints(std::vector<int64_t> v) { return Attribute::of_ints(std::move(v)); }

Tensor iota_f(Dims dims, float scale = 1.0f) {
  Tensor t(DType::F32, dims);
  for (int64_t i = 0; i < t.numel(); ++i) t.data<float>()[i] = static_cast<float>(i) * scale;
  return t;
}

Tensor filled(Dims dims, float v) {
  Tensor t(DType::F32, dims);
  for (int64_t i = 0; i < t.numel(); ++i) t.data<float>()[i] = v;
  return t;
}

// Inference alone on symbolic input types.
ValueType infer1(OpKind op, std::vector<ValueType> in, const Attributes& a, int opset = 22) {
  InferContext ctx;
  ctx.op = op;
  ctx.opset = opset;
  ctx.attrs = &a;
  for (const ValueType& t : in) {
    ctx.input_types.push_back(t.dtype == DType::Undefined ? nullptr : &t);
    ctx.input_values.push_back(nullptr);
  }
  ctx.input_types.shrink_to_fit();
  std::vector<ValueType> keep = std::move(in);  // input_types point into ; keep it alive
  ctx.outputs.resize(1);
  infer_node(ctx);
  return ctx.outputs[0];
}

Shape sym(std::vector<Dim> d) {
  Shape s = Shape::of_rank(0);
  s.dims = std::move(d);
  return s;
}

TEST(ConvKernel, Basic2dWithAndWithoutPadding) {
  const Tensor x = iota_f({1, 1, 5, 5});
  const Tensor w = filled({1, 1, 3, 3}, 1.0f);
  expect_close(
      run_op1(OpKind::Conv, {&x, &w}, attrs({{"pads", ints({1, 1, 1, 1})}})),
      make<float>({1, 1, 5, 5}, {12,  21, 27, 33,  24,  33,  54,  63, 72,  51,  63,  99, 108,
                                 117, 81, 93, 144, 153, 162, 111, 72, 111, 117, 123, 84}));
  expect_close(run_op1(OpKind::Conv, {&x, &w}),
               make<float>({1, 1, 3, 3}, {54, 63, 72, 99, 108, 117, 144, 153, 162}));
}

TEST(ConvKernel, StridesAndAsymmetricPadding) {
  const Tensor x = iota_f({1, 1, 7, 5});
  const Tensor w = filled({1, 1, 3, 3}, 1.0f);
  expect_close(run_op1(OpKind::Conv, {&x, &w},
                       attrs({{"strides", ints({2, 2})}, {"pads", ints({1, 1, 1, 1})}})),
               make<float>({1, 1, 4, 3}, {12, 27, 24, 63, 108, 81, 123, 198, 141, 112, 177, 124}));
  expect_close(run_op1(OpKind::Conv, {&x, &w},
                       attrs({{"strides", ints({2, 2})},
                              {"pads", ints({1, 0, 1, 0})},
                              {"kernel_shape", ints({3, 3})}})),
               make<float>({1, 1, 4, 2}, {21, 33, 99, 117, 189, 207, 171, 183}));
}

TEST(ConvKernel, GroupsStridesDilationsPadsBias) {
  const Tensor x = iota_f({2, 4, 5, 5}, 0.1f);
  Tensor w(DType::F32, {6, 2, 3, 3});
  for (int64_t i = 0; i < w.numel(); ++i) w.data<float>()[i] = static_cast<float>(i % 7 - 3) / 4;
  const Tensor b = make<float>({6}, {1, -1, 0.5f, 0, 2, -2});
  const Attributes a = attrs({{"group", Attribute::of_int(2)},
                              {"strides", ints({2, 1})},
                              {"dilations", ints({1, 2})},
                              {"pads", ints({1, 0, 0, 2})}});
  expect_close(
      run_op1(OpKind::Conv, {&x, &w, &b}, a),
      make<float>({2, 6, 2, 3},
                  {-0.549999952f, 1.95000005f,   2.0250001f,    -1.4000001f,   1.07499981f,
                   1.00000012f,   0.875000119f,  2.3499999f,    2.3499999f,    -0.0750006437f,
                   2.75f,         2.82499981f,   -1.55000019f,  -1.10000014f,  -1.17499995f,
                   0.0249999762f, -1.5250001f,   -1.6500001f,   6.37499905f,   2.22500062f,
                   2.25000048f,   -2.22499967f,  -0.600000143f, -0.574999809f, -5.02500153f,
                   -3.25f,        -3.29999971f,  6.47499943f,   1.02499986f,   1.02499986f,
                   0.149999619f,  -0.550000191f, -0.5f,         -8.50000095f,  -6.32500076f,
                   -6.34999943f,  -0.549998045f, 9.45000076f,   9.52499962f,   -16.3999977f,
                   -6.42500067f,  -6.5f,         -1.62500048f,  2.34999919f,   2.34999943f,
                   7.42500114f,   10.250001f,    10.3250008f,   -6.54999971f,  -8.60000038f,
                   -8.67499924f,  -4.9749999f,   -14.0249996f,  -14.1499987f,  16.3749962f,
                   4.72500134f,   4.75000143f,   -2.22500229f,  1.90000057f,   1.92500067f,
                   -15.0250015f,  -8.25000095f,  -8.30000114f,  11.4749985f,   1.02499914f,
                   1.02500105f,   5.150002f,     4.44999886f,   4.50000191f,   -15.9999981f,
                   -8.82500076f,  -8.85000038f}),
      1e-4, 1e-4);
}

TEST(ConvKernel, AutoPadSame1d) {
  const Tensor x = iota_f({1, 2, 6});
  const Tensor w = make<float>({1, 2, 3}, {1, 0, -1, 2, 1, 0.5f});
  // in 6, stride 2 -> out 3, total pad 1: SAME_UPPER pads the end, SAME_LOWER the beginning.
  expect_close(
      run_op1(OpKind::Conv, {&x, &w},
              attrs({{"auto_pad", Attribute::of_string("SAME_UPPER")}, {"strides", ints({2})}})),
      make<float>({1, 1, 3}, {21, 28, 35}));
  expect_close(
      run_op1(OpKind::Conv, {&x, &w},
              attrs({{"auto_pad", Attribute::of_string("SAME_LOWER")}, {"strides", ints({2})}})),
      make<float>({1, 1, 3}, {8.5f, 24.5f, 31.5f}));
  expect_close(
      run_op1(OpKind::Conv, {&x, &w}, attrs({{"auto_pad", Attribute::of_string("VALID")}})),
      make<float>({1, 1, 4}, {21, 24.5f, 28, 31.5f}));
}

TEST(ConvKernel, ThreeDimensional) {
  const Tensor x = iota_f({1, 1, 3, 4, 4});
  Tensor w = filled({2, 1, 2, 2, 2}, 1.0f);
  for (int64_t i = 8; i < 16; ++i) w.data<float>()[i] = -1.0f;
  w.data<float>()[8] = 3.0f;
  expect_close(run_op1(OpKind::Conv, {&x, &w}, attrs({{"strides", ints({1, 2, 2})}})),
               make<float>({1, 2, 2, 2, 2},
                           {84.0f, 100.0f, 148.0f, 164.0f, 212.0f, 228.0f, 276.0f, 292.0f, -84.0f,
                            -92.0f, -116.0f, -124.0f, -148.0f, -156.0f, -180.0f, -188.0f}));
}

TEST(ConvKernel, HalfAndDoubleAccumulate) {
  Tensor x(DType::F16, {1, 1, 1, 3});
  Tensor w(DType::F16, {1, 1, 1, 3});
  for (int i = 0; i < 3; ++i) {
    x.data<half>()[i] = half(static_cast<float>(i + 1));
    w.data<half>()[i] = half(0.5f);
  }
  const Tensor y = run_op1(OpKind::Conv, {&x, &w});
  ASSERT_EQ(y.dtype(), DType::F16);
  EXPECT_EQ(static_cast<float>(y.data<half>()[0]), 3.0f);
  const Tensor xd = make<double>({1, 1, 2}, {1e-20, 1.0});
  const Tensor wd = make<double>({1, 1, 2}, {1.0, 1.0});
  EXPECT_EQ(run_op1(OpKind::Conv, {&xd, &wd}).data<double>()[0], 1.0 + 1e-20);
}

TEST(ConvKernel, Errors) {
  const Tensor x = iota_f({1, 4, 5, 5});
  const Tensor w = filled({2, 3, 3, 3}, 1.0f);
  EXPECT_THROW(run_op1(OpKind::Conv, {&x, &w}), Error);  // 4 channels vs 3
  const Tensor w2 = filled({3, 2, 3, 3}, 1.0f);
  EXPECT_THROW(run_op1(OpKind::Conv, {&x, &w2}, attrs({{"group", Attribute::of_int(2)}})), Error);
  const Tensor w3 = filled({2, 4, 7, 7}, 1.0f);
  EXPECT_THROW(run_op1(OpKind::Conv, {&x, &w3}), Error);  // kernel larger than input
  const Tensor w4 = filled({2, 4, 3, 3}, 1.0f);
  EXPECT_THROW(run_op1(OpKind::Conv, {&x, &w4}, attrs({{"strides", ints({0, 1})}})), Error);
  EXPECT_THROW(run_op1(OpKind::Conv, {&x, &w4}, attrs({{"pads", ints({1, 1})}})), Error);
  EXPECT_THROW(
      run_op1(OpKind::Conv, {&x, &w4}, attrs({{"auto_pad", Attribute::of_string("SAME")}})), Error);
  EXPECT_THROW(run_op1(OpKind::Conv, {&x, &w4}, attrs({{"kernel_shape", ints({2, 2})}})), Error);
  EXPECT_THROW(run_op1(OpKind::Conv, {&x, &w4}, attrs({{"dilations", ints({1LL << 40, 1})}})),
               Error);
  const Tensor b = make<float>({3}, {1, 2, 3});
  EXPECT_THROW(run_op1(OpKind::Conv, {&x, &w4, &b}), Error);
  const Tensor xi = make<int32_t>({1, 1, 2}, {1, 2});
  const Tensor wi = make<int32_t>({1, 1, 1}, {1});
  EXPECT_THROW(run_op1(OpKind::Conv, {&xi, &wi}), Error);
}

TEST(ConvInfer, Symbolic) {
  const ValueType x{DType::F32, sym({Dim::sym("N"), Dim::of(3), Dim::unknown(), Dim::of(32)}), {}};
  const ValueType w = ValueType::of(DType::F32, {16, 3, 3, 3});
  ValueType y = infer1(OpKind::Conv, {x, w},
                       attrs({{"pads", ints({1, 1, 1, 1})}, {"strides", ints({1, 2})}}));
  EXPECT_EQ(y.shape, sym({Dim::sym("N"), Dim::of(16), Dim::unknown(), Dim::of(16)}));
  // Stride 1 and "same" pads keep a symbolic spatial dim.
  const ValueType xs{DType::F32, sym({Dim::of(1), Dim::of(3), Dim::sym("H"), Dim::sym("W")}), {}};
  y = infer1(OpKind::Conv, {xs, w}, attrs({{"pads", ints({1, 1, 1, 1})}}));
  EXPECT_EQ(y.shape, sym({Dim::of(1), Dim::of(16), Dim::sym("H"), Dim::sym("W")}));
  y = infer1(OpKind::Conv, {xs, w}, attrs({{"auto_pad", Attribute::of_string("SAME_LOWER")}}));
  EXPECT_EQ(y.shape.dims[2], Dim::sym("H"));
  // Unknown rank X takes the rank from W.
  y = infer1(OpKind::Conv, {ValueType{DType::F32, Shape::unknown_rank(), {}}, w}, {});
  EXPECT_EQ(y.shape.rank(), 4u);
  EXPECT_EQ(y.shape.dims[1], Dim::of(16));
  y = infer1(OpKind::Conv,
             {ValueType{DType::F32, Shape::unknown_rank(), {}},
              ValueType{DType::F32, Shape::unknown_rank(), {}}},
             {});
  EXPECT_FALSE(y.shape.rank_known);
  EXPECT_THROW(infer1(OpKind::Conv, {ValueType::of(DType::F32, {1, 3}), w}, {}), Error);
  EXPECT_THROW(
      infer1(OpKind::Conv,
             {ValueType::of(DType::F32, {1, 3, 8, 8}), ValueType::of(DType::F16, {16, 3, 3, 3})},
             {}),
      Error);
}

TEST(WindowGeometry, OutputSizesAndPads) {
  Attributes a =
      attrs({{"strides", ints({2})}, {"pads", ints({1, 1})}, {"ceil_mode", Attribute::of_int(1)}});
  const Window w = read_window(a, {3}, "t: ");
  // (5 + 2 - 3) / 2 + 1 = 3 (exact); in 6: ceil(5/2)+1 = 4 but the last window would start in
  // the end padding (6 >= 6 + 1? no: 3*2 = 6 < 7), so 4 stays.
  EXPECT_EQ(window_axis(w, 0, 5, "t: ").out, 3);
  EXPECT_EQ(window_axis(w, 0, 6, "t: ").out, 4);
  const Window w2 =
      read_window(attrs({{"strides", ints({2})}, {"ceil_mode", Attribute::of_int(1)}}), {2}, "t: ");
  EXPECT_EQ(window_axis(w2, 0, 3, "t: ").out, 2);  // ceil((3-2)/2)+1
  const Window w3 = read_window(
      attrs({{"strides", ints({3})}, {"pads", ints({0, 2})}, {"ceil_mode", Attribute::of_int(1)}}),
      {1}, "t: ");
  EXPECT_EQ(window_axis(w3, 0, 4, "t: ").out, 2);  // a 3rd window would start in the padding
  const Window s = read_window(attrs({{"auto_pad", Attribute::of_string("SAME_LOWER")},
                                      {"strides", ints({2})},
                                      {"dilations", ints({2})}}),
                               {3}, "t: ");
  const WindowAxis ax = window_axis(s, 0, 6, "t: ");  // out 3, total (2*2 + 5 - 6) = 3
  EXPECT_EQ(ax.out, 3);
  EXPECT_EQ(ax.pad_begin, 2);
  EXPECT_EQ(ax.pad_end, 1);
  EXPECT_THROW(read_window(attrs({{"ceil_mode", Attribute::of_int(2)}}), {3}, "t: "), Error);
  EXPECT_THROW(read_window(attrs({{"pads", ints({-1, 0})}}), {3}, "t: "), Error);
}

TEST(ConvTransposeKernel, Basic) {
  const Tensor x = iota_f({1, 1, 3, 3});
  const Tensor w = filled({1, 2, 3, 3}, 1.0f);
  expect_close(run_op1(OpKind::ConvTranspose, {&x, &w}),
               make<float>({1, 2, 5, 5},
                           {0.0f, 1.0f,  3.0f,  3.0f,  2.0f,  3.0f, 8.0f,  15.0f, 12.0f, 7.0f,
                            9.0f, 21.0f, 36.0f, 27.0f, 15.0f, 9.0f, 20.0f, 33.0f, 24.0f, 13.0f,
                            6.0f, 13.0f, 21.0f, 15.0f, 8.0f,  0.0f, 1.0f,  3.0f,  3.0f,  2.0f,
                            3.0f, 8.0f,  15.0f, 12.0f, 7.0f,  9.0f, 21.0f, 36.0f, 27.0f, 15.0f,
                            9.0f, 20.0f, 33.0f, 24.0f, 13.0f, 6.0f, 13.0f, 21.0f, 15.0f, 8.0f}));
}

TEST(ConvTransposeKernel, GroupsStridesPadsOutputPaddingDilations) {
  const Tensor x = iota_f({1, 2, 2, 3});
  Tensor w(DType::F32, {2, 2, 2, 2});
  for (int64_t i = 0; i < w.numel(); ++i) w.data<float>()[i] = static_cast<float>(i - 5) / 3;
  const Tensor b = make<float>({4}, {1, 2, 3, 4});
  const Attributes a = attrs({{"group", Attribute::of_int(2)},
                              {"strides", ints({2, 3})},
                              {"pads", ints({1, 0, 0, 1})},
                              {"output_padding", ints({1, 1})},
                              {"dilations", ints({1, 2})}});
  expect_close(
      run_op1(OpKind::ConvTranspose, {&x, &w, &b}, a),
      make<float>(
          {1, 4, 4, 9},
          {1.0f,  1.0f, 1.0f,  0.0f,         1.0f, 0.333333313f, -1.0f,        1.0f, -0.333333373f,
           -4.0f, 1.0f, -3.0f, -5.66666651f, 1.0f, -4.33333349f, -7.33333302f, 1.0f, -5.66666698f,
           -2.0f, 1.0f, -1.0f, -3.0f,        1.0f, -1.66666675f, -4.0f,        1.0f, -2.33333349f,
           1.0f,  1.0f, 1.0f,  1.0f,         1.0f, 1.0f,         1.0f,         1.0f, 1.0f,
           2.0f,  2.0f, 2.0f,  2.33333334f,  2.0f, 2.66666669f,  2.66666669f,  2.0f, 3.33333337f,
           1.0f,  2.0f, 2.0f,  0.666666627f, 2.0f, 2.0f,         0.333333254f, 2.0f, 2.0f,
           3.0f,  2.0f, 4.0f,  3.33333337f,  2.0f, 4.66666675f,  3.66666675f,  2.0f, 5.33333349f,
           2.0f,  2.0f, 2.0f,  2.0f,         2.0f, 2.0f,         2.0f,         2.0f, 2.0f,
           13.0f, 3.0f, 15.0f, 14.666666f,   3.0f, 17.0f,        16.333333f,   3.0f, 19.0f,
           12.0f, 3.0f, 15.0f, 13.0f,        3.0f, 16.333334f,   14.0f,        3.0f, 17.666667f,
           18.0f, 3.0f, 21.0f, 19.666666f,   3.0f, 23.0f,        21.3333321f,  3.0f, 25.0f,
           3.0f,  3.0f, 3.0f,  3.0f,         3.0f, 3.0f,         3.0f,         3.0f, 3.0f,
           22.0f, 4.0f, 24.0f, 25.0f,        4.0f, 27.3333321f,  28.0f,        4.0f, 30.666666f,
           25.0f, 4.0f, 28.0f, 27.3333321f,  4.0f, 30.6666679f,  29.666666f,   4.0f, 33.333334f,
           31.0f, 4.0f, 34.0f, 34.0f,        4.0f, 37.3333321f,  37.0f,        4.0f, 40.6666641f,
           4.0f,  4.0f, 4.0f,  4.0f,         4.0f, 4.0f,         4.0f,         4.0f, 4.0f}),
      1e-5, 1e-5);
}

TEST(ConvTransposeKernel, AutoPadAndOutputShape) {
  const Tensor x = iota_f({1, 1, 3, 3});
  const Tensor w = filled({1, 2, 3, 3}, 1.0f);
  expect_close(
      run_op1(OpKind::ConvTranspose, {&x, &w},
              attrs({{"auto_pad", Attribute::of_string("SAME_UPPER")}, {"strides", ints({2, 2})}})),
      make<float>({1, 2, 6, 6},
                  {0.0f, 0.0f, 1.0f,  1.0f,  3.0f,  2.0f,  0.0f, 0.0f, 1.0f,  1.0f, 3.0f,  2.0f,
                   3.0f, 3.0f, 8.0f,  5.0f,  12.0f, 7.0f,  3.0f, 3.0f, 7.0f,  4.0f, 9.0f,  5.0f,
                   9.0f, 9.0f, 20.0f, 11.0f, 24.0f, 13.0f, 6.0f, 6.0f, 13.0f, 7.0f, 15.0f, 8.0f,
                   0.0f, 0.0f, 1.0f,  1.0f,  3.0f,  2.0f,  0.0f, 0.0f, 1.0f,  1.0f, 3.0f,  2.0f,
                   3.0f, 3.0f, 8.0f,  5.0f,  12.0f, 7.0f,  3.0f, 3.0f, 7.0f,  4.0f, 9.0f,  5.0f,
                   9.0f, 9.0f, 20.0f, 11.0f, 24.0f, 13.0f, 6.0f, 6.0f, 13.0f, 7.0f, 15.0f, 8.0f}));
  expect_close(
      run_op1(OpKind::ConvTranspose, {&x, &w},
              attrs({{"auto_pad", Attribute::of_string("SAME_LOWER")}, {"strides", ints({2, 2})}})),
      make<float>({1, 2, 6, 6},
                  {0.0f, 1.0f,  1.0f, 3.0f,  2.0f, 2.0f, 3.0f, 8.0f,  5.0f,  12.0f, 7.0f,  7.0f,
                   3.0f, 7.0f,  4.0f, 9.0f,  5.0f, 5.0f, 9.0f, 20.0f, 11.0f, 24.0f, 13.0f, 13.0f,
                   6.0f, 13.0f, 7.0f, 15.0f, 8.0f, 8.0f, 6.0f, 13.0f, 7.0f,  15.0f, 8.0f,  8.0f,
                   0.0f, 1.0f,  1.0f, 3.0f,  2.0f, 2.0f, 3.0f, 8.0f,  5.0f,  12.0f, 7.0f,  7.0f,
                   3.0f, 7.0f,  4.0f, 9.0f,  5.0f, 5.0f, 9.0f, 20.0f, 11.0f, 24.0f, 13.0f, 13.0f,
                   6.0f, 13.0f, 7.0f, 15.0f, 8.0f, 8.0f, 6.0f, 13.0f, 7.0f,  15.0f, 8.0f,  8.0f}));
  expect_close(
      run_op1(OpKind::ConvTranspose, {&x, &w},
              attrs({{"output_shape", ints({10, 8})}, {"strides", ints({3, 2})}})),
      make<float>(
          {1, 2, 10, 8},
          {0.0f,  0.0f,  1.0f,  1.0f,  3.0f, 2.0f,  2.0f,  0.0f, 0.0f,  0.0f, 1.0f,  1.0f,  3.0f,
           2.0f,  2.0f,  0.0f,  0.0f,  0.0f, 1.0f,  1.0f,  3.0f, 2.0f,  2.0f, 0.0f,  3.0f,  3.0f,
           7.0f,  4.0f,  9.0f,  5.0f,  5.0f, 0.0f,  3.0f,  3.0f, 7.0f,  4.0f, 9.0f,  5.0f,  5.0f,
           0.0f,  3.0f,  3.0f,  7.0f,  4.0f, 9.0f,  5.0f,  5.0f, 0.0f,  6.0f, 6.0f,  13.0f, 7.0f,
           15.0f, 8.0f,  8.0f,  0.0f,  6.0f, 6.0f,  13.0f, 7.0f, 15.0f, 8.0f, 8.0f,  0.0f,  6.0f,
           6.0f,  13.0f, 7.0f,  15.0f, 8.0f, 8.0f,  0.0f,  0.0f, 0.0f,  0.0f, 0.0f,  0.0f,  0.0f,
           0.0f,  0.0f,  0.0f,  0.0f,  1.0f, 1.0f,  3.0f,  2.0f, 2.0f,  0.0f, 0.0f,  0.0f,  1.0f,
           1.0f,  3.0f,  2.0f,  2.0f,  0.0f, 0.0f,  0.0f,  1.0f, 1.0f,  3.0f, 2.0f,  2.0f,  0.0f,
           3.0f,  3.0f,  7.0f,  4.0f,  9.0f, 5.0f,  5.0f,  0.0f, 3.0f,  3.0f, 7.0f,  4.0f,  9.0f,
           5.0f,  5.0f,  0.0f,  3.0f,  3.0f, 7.0f,  4.0f,  9.0f, 5.0f,  5.0f, 0.0f,  6.0f,  6.0f,
           13.0f, 7.0f,  15.0f, 8.0f,  8.0f, 0.0f,  6.0f,  6.0f, 13.0f, 7.0f, 15.0f, 8.0f,  8.0f,
           0.0f,  6.0f,  6.0f,  13.0f, 7.0f, 15.0f, 8.0f,  8.0f, 0.0f,  0.0f, 0.0f,  0.0f,  0.0f,
           0.0f,  0.0f,  0.0f,  0.0f}));
  // output_shape may also name N and C.
  EXPECT_EQ(run_op1(OpKind::ConvTranspose, {&x, &w},
                    attrs({{"output_shape", ints({1, 2, 10, 8})}, {"strides", ints({3, 2})}}))
                .dims(),
            (Dims{1, 2, 10, 8}));
}

TEST(ConvTransposeKernel, InferAndErrors) {
  const ValueType x{DType::F32, sym({Dim::sym("N"), Dim::of(4), Dim::of(5), Dim::unknown()}), {}};
  const ValueType w = ValueType::of(DType::F32, {4, 3, 3, 3});
  const ValueType y = infer1(OpKind::ConvTranspose, {x, w},
                             attrs({{"group", Attribute::of_int(2)}, {"strides", ints({2, 2})}}));
  EXPECT_EQ(y.shape, sym({Dim::sym("N"), Dim::of(6), Dim::of(11), Dim::unknown()}));
  const Tensor xt = iota_f({1, 2, 3, 3});
  const Tensor wt = filled({3, 1, 3, 3}, 1.0f);
  EXPECT_THROW(run_op1(OpKind::ConvTranspose, {&xt, &wt}), Error);
  const Tensor wt2 = filled({2, 1, 3, 3}, 1.0f);
  EXPECT_THROW(run_op1(OpKind::ConvTranspose, {&xt, &wt2}, attrs({{"pads", ints({3, 3, 3, 3})}})),
               Error);
  EXPECT_THROW(run_op1(OpKind::ConvTranspose, {&xt, &wt2}, attrs({{"output_padding", ints({1})}})),
               Error);
}

TEST(ConvIntegerKernel, ZeroPointsAndPadding) {
  const Tensor x = make<uint8_t>({1, 1, 3, 3}, {2, 3, 4, 5, 6, 7, 8, 9, 10});
  const Tensor w = make<uint8_t>({1, 1, 2, 2}, {1, 1, 1, 1});
  const Tensor xzp = Tensor::scalar<uint8_t>(1);
  expect_close(run_op1(OpKind::ConvInteger, {&x, &w, &xzp}),
               make<int32_t>({1, 1, 2, 2}, {12, 16, 24, 28}));
  // Padding is with the zero point: padded taps contribute nothing.
  expect_close(
      run_op1(OpKind::ConvInteger, {&x, &w, &xzp}, attrs({{"pads", ints({1, 1, 1, 1})}})),
      make<int32_t>({1, 1, 4, 4}, {1, 3, 5, 3, 5, 12, 16, 9, 11, 24, 28, 15, 7, 15, 17, 9}));
  const Tensor wq = make<int8_t>({2, 1, 2, 2}, {3, -2, 5, 1, 0, 4, -7, 2});
  const Tensor wzp = make<int8_t>({2}, {1, -1});
  expect_close(run_op1(OpKind::ConvInteger, {&x, &wq, &xzp, &wzp}),
               make<int32_t>({1, 2, 2, 2}, {12, 15, 21, 24, 2, 5, 11, 14}));
  const Tensor bad_zp = make<uint8_t>({2}, {1, 2});
  EXPECT_THROW(run_op1(OpKind::ConvInteger, {&x, &w, &bad_zp}), Error);
  const Tensor wzp_i8 = Tensor::scalar<int8_t>(0);
  EXPECT_THROW(run_op1(OpKind::ConvInteger, {&x, &w, &xzp, &wzp_i8}), Error);  // dtype mismatch
}

TEST(QLinearConvKernel, PerChannelWeightsAndBias) {
  const Tensor x =
      make<uint8_t>({1, 1, 5, 5}, {255, 174, 162, 25,  203, 168, 58, 15,  59,  237, 95,  129, 0,
                                   64,  56,  242, 153, 221, 168, 12, 166, 232, 178, 186, 195});
  const Tensor xs = Tensor::scalar<float>(0.00369204697f);
  const Tensor xzp = Tensor::scalar<uint8_t>(132);
  const Tensor w = make<int8_t>({2, 1, 2, 2}, {5, -3, 2, 7, -1, 4, 6, -8});
  const Tensor ws = make<float>({2}, {0.00172794575f, 0.0025f});
  const Tensor wzp = make<int8_t>({2}, {0, 0});
  const Tensor ys = Tensor::scalar<float>(0.00162681262f);
  const Tensor yzp = Tensor::scalar<uint8_t>(123);
  const Tensor b = make<int32_t>({2}, {100, -200});
  expect_close(
      run_op1(OpKind::QLinearConv, {&x, &xs, &xzp, &w, &ws, &wzp, &ys, &yzp, &b},
              attrs({{"pads", ints({1, 0, 0, 1})}})),
      make<uint8_t>({1, 2, 5, 5}, {126, 125, 121, 125, 124, 124, 120, 122, 123, 126, 125, 120, 119,
                                   118, 125, 124, 127, 123, 120, 121, 128, 125, 127, 128, 122, 124,
                                   122, 128, 115, 124, 127, 125, 119, 117, 125, 119, 126, 119, 126,
                                   119, 125, 116, 122, 127, 118, 118, 125, 121, 118, 125}));
  const Tensor ws3 = make<float>({3}, {1, 1, 1});
  EXPECT_THROW(run_op1(OpKind::QLinearConv, {&x, &xs, &xzp, &w, &ws3, &wzp, &ys, &yzp}), Error);
}

TEST(Col2ImKernel, Basic) {
  Tensor x(DType::F32, {1, 5, 5});
  for (int i = 0; i < 25; ++i) x.data<float>()[i] = static_cast<float>(i + 1);
  const Tensor image = make<int64_t>({2}, {5, 5});
  const Tensor block = make<int64_t>({2}, {1, 5});
  expect_close(
      run_op1(OpKind::Col2Im, {&x, &image, &block}),
      make<float>({1, 1, 5, 5}, {1.0f,  6.0f,  11.0f, 16.0f, 21.0f, 2.0f,  7.0f, 12.0f, 17.0f,
                                 22.0f, 3.0f,  8.0f,  13.0f, 18.0f, 23.0f, 4.0f, 9.0f,  14.0f,
                                 19.0f, 24.0f, 5.0f,  10.0f, 15.0f, 20.0f, 25.0f}));
  const Tensor x2 = iota_f({1, 8, 8});
  const Tensor image2 = make<int64_t>({2}, {4, 5});
  const Tensor block2 = make<int64_t>({2}, {2, 2});
  expect_close(
      run_op1(OpKind::Col2Im, {&x2, &image2, &block2},
              attrs({{"strides", ints({2, 1})},
                     {"dilations", ints({1, 2})},
                     {"pads", ints({1, 0, 0, 1})}})),
      make<float>({1, 2, 4, 5},
                  {16.0f, 17.0f, 42.0f,  44.0f,  26.0f, 4.0f,  5.0f,  18.0f, 20.0f, 14.0f,
                   20.0f, 21.0f, 50.0f,  52.0f,  30.0f, 0.0f,  0.0f,  0.0f,  0.0f,  0.0f,
                   48.0f, 49.0f, 106.0f, 108.0f, 58.0f, 36.0f, 37.0f, 82.0f, 84.0f, 46.0f,
                   52.0f, 53.0f, 114.0f, 116.0f, 62.0f, 0.0f,  0.0f,  0.0f,  0.0f,  0.0f}));
  EXPECT_THROW(run_op1(OpKind::Col2Im, {&x2, &image, &block2}), Error);  // block count mismatch
  const Tensor bad_block = make<int64_t>({2}, {0, 2});
  EXPECT_THROW(run_op1(OpKind::Col2Im, {&x2, &image2, &bad_block}), Error);
  const Tensor xi = make<int32_t>({1, 2, 1}, {3, 4});
  const Tensor image3 = make<int64_t>({1}, {1});
  const Tensor block3 = make<int64_t>({1}, {1});
  EXPECT_EQ(run_op1(OpKind::Col2Im, {&xi, &image3, &block3}).dims(), (Dims{1, 2, 1}));
}

}  // namespace
}  // namespace kiln::test
