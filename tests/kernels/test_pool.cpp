// Pooling ops: MaxPool, AveragePool, LpPool, GlobalAveragePool, GlobalMaxPool, GlobalLpPool,
// MaxUnpool. Expected values are hand-checked or from the onnx 1.22 reference evaluator.
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
Attribute Is(std::vector<int64_t> v) { return Attribute::of_ints(std::move(v)); }
Attribute Str(const char* s) { return Attribute::of_string(s); }

Tensor f32(Dims d, std::vector<float> v) { return make<float>(std::move(d), std::move(v)); }
Tensor i64(Dims d, std::vector<int64_t> v) { return make<int64_t>(std::move(d), std::move(v)); }

std::vector<ValueType> infer(OpKind op, const std::vector<ValueType>& ins, const Attributes& a,
                             size_t nout, int opset = 22) {
  InferContext ctx;
  ctx.op = op;
  ctx.opset = opset;
  ctx.attrs = &a;
  for (const ValueType& t : ins) {
    ctx.input_types.push_back(&t);
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

// 1x1x5x4:
//   1  5  2  0
//   3 -1  4  8
//   6  7 -2  1
//   0  2  9  3
//   1  1  1 -4
Tensor xp() {
  return f32({1, 1, 5, 4}, {1, 5, 2, 0, 3, -1, 4, 8, 6, 7, -2, 1, 0, 2, 9, 3, 1, 1, 1, -4});
}
// 1x2x3x3x4 with values (i * 7) % 11.
Tensor x3d() {
  std::vector<float> v(72);
  for (int i = 0; i < 72; ++i) v[static_cast<size_t>(i)] = static_cast<float>((i * 7) % 11);
  return f32({1, 2, 3, 3, 4}, v);
}

// ---------------------------------------------------------------- MaxPool

TEST(PoolMaxPool, CeilModeWithIndices) {
  const Tensor x = xp();
  const auto out = run_op(OpKind::MaxPool, {&x},
                          attrs({{"kernel_shape", Is({2, 2})}, {"strides", Is({2, 2})},
                                 {"ceil_mode", I(1)}}),
                          2, 12);
  expect_close(out[0], f32({1, 1, 3, 2}, {5, 8, 7, 9, 1, 1}));
  expect_close(out[1], i64({1, 1, 3, 2}, {1, 7, 9, 14, 16, 18}));
  // Floor mode drops the last row.
  const Tensor y = run_op1(OpKind::MaxPool, {&x},
                           attrs({{"kernel_shape", Is({2, 2})}, {"strides", Is({2, 2})}}));
  expect_close(y, f32({1, 1, 2, 2}, {5, 8, 7, 9}));
}

TEST(PoolMaxPool, PadsStridesDilations) {
  const Tensor x = xp();
  const auto pads = run_op(OpKind::MaxPool, {&x},
                           attrs({{"kernel_shape", Is({3, 3})}, {"pads", Is({1, 1, 1, 1})},
                                  {"strides", Is({2, 1})}}),
                           2);
  expect_close(pads[0], f32({1, 1, 3, 4}, {5, 5, 8, 8, 7, 9, 9, 9, 2, 9, 9, 9}));
  expect_close(pads[1], i64({1, 1, 3, 4}, {1, 1, 7, 7, 9, 14, 14, 14, 13, 14, 14, 14}));
  const auto dil = run_op(OpKind::MaxPool, {&x},
                          attrs({{"kernel_shape", Is({2, 2})}, {"dilations", Is({2, 2})}}), 2);
  expect_close(dil[0], f32({1, 1, 3, 2}, {6, 7, 9, 8, 6, 7}));
  expect_close(dil[1], i64({1, 1, 3, 2}, {8, 9, 14, 7, 8, 9}));
}

TEST(PoolMaxPool, AutoPadSame) {
  const Tensor x = xp();
  // SAME_LOWER, out = ceil(5/2) x ceil(4/2); total pads 1 (rows) and 1 (cols) go first.
  expect_close(run_op1(OpKind::MaxPool, {&x},
                       attrs({{"kernel_shape", Is({2, 3})}, {"auto_pad", Str("SAME_LOWER")},
                              {"strides", Is({2, 2})}})),
               f32({1, 1, 3, 2}, {5, 5, 7, 8, 2, 9}));
  // SAME_UPPER, stride 1: the shape is kept, the extra row/column of padding goes last.
  const Tensor y = run_op1(OpKind::MaxPool, {&x},
                           attrs({{"kernel_shape", Is({2, 2})}, {"auto_pad", Str("SAME_UPPER")}}));
  ASSERT_EQ(y.dims(), (Dims{1, 1, 5, 4}));
  EXPECT_EQ(y.as_double(3), 8);    // [0, 3]: {0, 8}
  EXPECT_EQ(y.as_double(19), -4);  // corner: only -4 is inside
}

TEST(PoolMaxPool, StorageOrderColumnMajor) {
  const Tensor x = xp();  // H = 5, W = 4: column-major index of (h, w) is h + 5w
  const auto out = run_op(OpKind::MaxPool, {&x},
                          attrs({{"kernel_shape", Is({2, 2})}, {"storage_order", I(1)}}), 2);
  expect_close(out[0], f32({1, 1, 4, 3}, {5, 5, 8, 7, 7, 8, 7, 9, 9, 2, 9, 9}));
  expect_close(out[1], i64({1, 1, 4, 3}, {5, 5, 16, 7, 7, 16, 7, 13, 13, 8, 13, 13}));
}

TEST(PoolMaxPool, OneAndThreeD) {
  const Tensor x1 = f32({2, 1, 8}, {3, 1, 4, 1, 5, 9, 2, 6, -5, 3, 5, -8, 9, 7, 9, 3});
  const auto o1 = run_op(OpKind::MaxPool, {&x1},
                         attrs({{"kernel_shape", Is({3})}, {"strides", Is({2})},
                                {"pads", Is({1, 1})}}),
                         2);
  expect_close(o1[0], f32({2, 1, 4}, {3, 4, 9, 9, 3, 5, 9, 9}));
  expect_close(o1[1], i64({2, 1, 4}, {0, 2, 5, 5, 9, 10, 12, 14}));

  const Tensor x3 = x3d();
  const Attributes a = attrs({{"kernel_shape", Is({2, 2, 2})}, {"strides", Is({1, 1, 2})}});
  const auto o3 = run_op(OpKind::MaxPool, {&x3}, a, 2);
  expect_close(o3[0], f32({1, 2, 2, 2, 2},
                          {9, 10, 9, 9, 10, 10, 9, 8, 10, 9, 8, 10, 9, 9, 10, 10}));
  expect_close(o3[1], i64({1, 2, 2, 2, 2},
                          {17, 3, 17, 6, 25, 14, 17, 31, 36, 39, 53, 47, 61, 50, 69, 58}));
  Attributes a1 = a;
  a1.set("storage_order", I(1));
  const auto c3 = run_op(OpKind::MaxPool, {&x3}, a1, 2);
  expect_close(c3[1], i64({1, 2, 2, 2, 2},
                          {13, 27, 13, 21, 11, 19, 13, 32, 36, 63, 49, 69, 47, 55, 53, 61}));
}

TEST(PoolMaxPool, Int8AndUint8AndHalf) {
  const Tensor u = make<uint8_t>({1, 1, 2, 2}, {200, 7, 255, 3});
  expect_close(run_op1(OpKind::MaxPool, {&u}, attrs({{"kernel_shape", Is({2, 1})}})),
               make<uint8_t>({1, 1, 1, 2}, {255, 7}));
  const Tensor s = make<int8_t>({1, 1, 3}, {-100, -128, -5});
  expect_close(run_op1(OpKind::MaxPool, {&s}, attrs({{"kernel_shape", Is({2})}})),
               make<int8_t>({1, 1, 2}, {-100, -5}));
  const Tensor h = make<half>({1, 1, 3}, {half(0.5f), half(-1.0f), half(2.0f)});
  expect_close(run_op1(OpKind::MaxPool, {&h}, attrs({{"kernel_shape", Is({2})}})),
               make<half>({1, 1, 2}, {half(0.5f), half(2.0f)}));
  const Tensor i32 = make<int32_t>({1, 1, 2}, {1, 2});
  EXPECT_THROW(run_op1(OpKind::MaxPool, {&i32}, attrs({{"kernel_shape", Is({2})}})), Error);
}

TEST(PoolMaxPool, Errors) {
  const Tensor x = xp();
  EXPECT_THROW(run_op1(OpKind::MaxPool, {&x}), Error);  // kernel_shape required
  EXPECT_THROW(run_op1(OpKind::MaxPool, {&x}, attrs({{"kernel_shape", Is({2})}})), Error);
  EXPECT_THROW(run_op1(OpKind::MaxPool, {&x}, attrs({{"kernel_shape", Is({0, 2})}})), Error);
  EXPECT_THROW(run_op1(OpKind::MaxPool, {&x}, attrs({{"kernel_shape", Is({6, 2})}})), Error);
  EXPECT_THROW(run_op1(OpKind::MaxPool, {&x},
                       attrs({{"kernel_shape", Is({2, 2})}, {"storage_order", I(2)}})),
               Error);
  EXPECT_THROW(run_op1(OpKind::MaxPool, {&x},
                       attrs({{"kernel_shape", Is({2, 2})}, {"pads", Is({1, 1})}})),
               Error);
  EXPECT_THROW(run_op1(OpKind::MaxPool, {&x},
                       attrs({{"kernel_shape", Is({2, 2})}, {"auto_pad", Str("SAME")}})),
               Error);
  const Tensor x2 = f32({2, 3}, {1, 2, 3, 4, 5, 6});
  EXPECT_THROW(run_op1(OpKind::MaxPool, {&x2}, attrs({{"kernel_shape", Is({1})}})), Error);
  EXPECT_THROW(run_op1(OpKind::MaxPool, {&x},
                       attrs({{"kernel_shape", Is({2, 2})}, {"strides", Is({int64_t{1} << 40, 1})}})),
               Error);
  // Huge pads pass the geometry checks but would take ~2^33 window steps: refused, not run.
  EXPECT_THROW(run_op1(OpKind::MaxPool, {&x},
                       attrs({{"kernel_shape", Is({2, 2})},
                              {"pads", Is({int64_t{1} << 31, 0, int64_t{1} << 31, 0})}})),
               Error);
}

TEST(PoolMaxPool, SymbolicInference) {
  const Attributes a = attrs({{"kernel_shape", Is({3, 3})}, {"pads", Is({1, 1, 1, 1})}});
  const auto out = infer(OpKind::MaxPool,
                         {vt(DType::F32, {Dim::sym("N"), Dim::of(3), Dim::sym("H"), Dim::of(10)})},
                         a, 2);
  EXPECT_EQ(out[0].shape.to_string(), "[N,3,H,10]");  // 3x3, pads 1, stride 1 keeps size
  EXPECT_EQ(out[1].dtype, DType::I64);
  const Attributes s2 = attrs({{"kernel_shape", Is({2, 2})}, {"strides", Is({2, 2})}});
  const auto o2 = infer(OpKind::MaxPool,
                        {vt(DType::F32, {Dim::sym("N"), Dim::of(3), Dim::sym("H"), Dim::of(10)})},
                        s2, 1);
  EXPECT_EQ(o2[0].shape.to_string(), "[N,3,?,5]");
  ValueType unknown;
  unknown.dtype = DType::F16;
  const auto o3 = infer(OpKind::MaxPool, {unknown}, s2, 1);
  EXPECT_EQ(o3[0].shape.to_string(), "[?,?,?,?]");
  EXPECT_EQ(o3[0].dtype, DType::F16);
}

// ---------------------------------------------------------------- AveragePool

TEST(PoolAveragePool, CountIncludePad) {
  const Tensor x = xp();
  const Attributes a = attrs({{"kernel_shape", Is({3, 3})}, {"pads", Is({1, 1, 1, 1})},
                              {"strides", Is({2, 2})}});
  expect_close(run_op1(OpKind::AveragePool, {&x}, a),
               f32({1, 1, 3, 2}, {2, 3, 2.833333, 3.444444, 1, 2}));
  Attributes a1 = a;
  a1.set("count_include_pad", I(1));
  expect_close(run_op1(OpKind::AveragePool, {&x}, a1),
               f32({1, 1, 3, 2}, {0.8888889, 2, 1.888889, 3.444444, 0.4444444, 1.333333}));
}

TEST(PoolAveragePool, CeilModeLastWindowClipped) {
  const Tensor x = xp();
  // The last row of windows runs past the padded input: those taps never count.
  const Attributes a = attrs({{"kernel_shape", Is({2, 3})}, {"strides", Is({2, 2})},
                              {"ceil_mode", I(1)}, {"pads", Is({0, 1, 0, 0})}});
  expect_close(run_op1(OpKind::AveragePool, {&x}, a, 19),
               f32({1, 1, 3, 2}, {2, 3, 3.75, 3.333333, 1, -0.6666667}));
  Attributes a1 = a;
  a1.set("count_include_pad", I(1));
  expect_close(run_op1(OpKind::AveragePool, {&x}, a1, 19),
               f32({1, 1, 3, 2}, {1.333333, 3, 2.5, 3.333333, 0.6666667, -0.6666667}));
}

TEST(PoolAveragePool, DilationsSamePadsAndOneD) {
  const Tensor x = xp();
  expect_close(run_op1(OpKind::AveragePool, {&x},
                       attrs({{"kernel_shape", Is({2, 2})}, {"dilations", Is({2, 1})},
                              {"pads", Is({1, 0, 0, 1})}}),
                       19),
               f32({1, 1, 4, 4}, {1, 1.5, 6, 8, 4.75, 3, 0.25, 0.5, 1, 3.5, 6, 5.5, 3.75, 1.75,
                                  -1, -1.5}));
  expect_close(run_op1(OpKind::AveragePool, {&x},
                       attrs({{"kernel_shape", Is({2, 2})}, {"auto_pad", Str("SAME_UPPER")}})),
               f32({1, 1, 5, 4}, {2, 2.5, 3.5, 4, 3.75, 2, 2.75, 4.5, 3.75, 4, 2.75, 2, 1, 3.25,
                                  2.25, -0.5, 1, 1, -1.5, -4}));
  const Tensor x1 = f32({2, 1, 8}, {3, 1, 4, 1, 5, 9, 2, 6, -5, 3, 5, -8, 9, 7, 9, 3});
  expect_close(run_op1(OpKind::AveragePool, {&x1},
                       attrs({{"kernel_shape", Is({3})}, {"strides", Is({2})},
                              {"pads", Is({1, 1})}})),
               f32({2, 1, 4}, {2, 2, 5, 5.666667, -1, 0, 2.666667, 6.333333}));
}

TEST(PoolAveragePool, ThreeDCountIncludePad) {
  const Tensor x = x3d();
  const Tensor y = run_op1(OpKind::AveragePool, {&x},
                           attrs({{"kernel_shape", Is({2, 2, 3})},
                                  {"pads", Is({0, 1, 1, 1, 0, 1})},
                                  {"count_include_pad", I(1)}}));
  ASSERT_EQ(y.dims(), (Dims{1, 2, 3, 3, 4}));
  EXPECT_NEAR(y.as_double(0), 1.416667, 1e-5);
  EXPECT_NEAR(y.as_double(5), 5.25, 1e-5);
  EXPECT_NEAR(y.as_double(27), 0.6666667, 1e-5);
  EXPECT_NEAR(y.as_double(35), 1.583333, 1e-5);
  EXPECT_NEAR(y.as_double(71), 1.25, 1e-5);
}

TEST(PoolAveragePool, HalfAndErrors) {
  const Tensor h = make<bfloat16>({1, 1, 3}, {bfloat16(1.0f), bfloat16(2.0f), bfloat16(4.0f)});
  expect_close(run_op1(OpKind::AveragePool, {&h}, attrs({{"kernel_shape", Is({2})}})),
               make<bfloat16>({1, 1, 2}, {bfloat16(1.5f), bfloat16(3.0f)}));
  const Tensor u = make<uint8_t>({1, 1, 2}, {1, 2});
  EXPECT_THROW(run_op1(OpKind::AveragePool, {&u}, attrs({{"kernel_shape", Is({2})}})), Error);
  EXPECT_THROW(run_op1(OpKind::AveragePool, {&h},
                       attrs({{"kernel_shape", Is({2})}, {"count_include_pad", I(3)}})),
               Error);
  EXPECT_THROW(run_op1(OpKind::AveragePool, {&h},
                       attrs({{"kernel_shape", Is({2})}, {"ceil_mode", I(2)}})),
               Error);
}

// ---------------------------------------------------------------- LpPool

TEST(PoolLpPool, PowersAndPads) {
  const Tensor x = xp();
  expect_close(run_op1(OpKind::LpPool, {&x},
                       attrs({{"kernel_shape", Is({2, 2})}, {"strides", Is({1, 2})}}), 18),
               f32({1, 1, 4, 2}, {6, 9.165152, 9.746795, 9.219544, 9.433981, 9.746795, 2.44949,
                                  10.34408}),
               1e-5);
  expect_close(run_op1(OpKind::LpPool, {&x},
                       attrs({{"kernel_shape", Is({3, 2})}, {"p", I(1)},
                              {"pads", Is({1, 0, 1, 0})}, {"strides", Is({2, 2})}}),
                       18),
               f32({1, 1, 3, 2}, {10, 14, 19, 27, 4, 17}));
  // Opset 1: p is a float attribute.
  Attributes a = attrs({{"kernel_shape", Is({1, 2})}});
  a.set("p", Attribute::of_float(3.0f));
  const Tensor y = run_op1(OpKind::LpPool, {&x}, a, 1);
  EXPECT_NEAR(y.as_double(0), std::cbrt(126.0), 1e-4);  // |1|^3 + |5|^3
  EXPECT_THROW(run_op1(OpKind::LpPool, {&x}, attrs({{"kernel_shape", Is({2, 2})}, {"p", I(0)}})),
               Error);
}

// ---------------------------------------------------------------- Global pools

TEST(PoolGlobal, AverageMaxLp) {
  const Tensor x = f32({2, 4, 2, 2}, {1, 2, 3, 4, 5, 6, 7, 8, -1, 0, 2, 9, 4, 4, 4, 5,
                                      -0.5, 0, 0.5, 1, 1.5, 2, 2.5, 3, -1.5, -1, 0, 3.5, 1, 1, 1,
                                      1.5});
  expect_close(run_op1(OpKind::GlobalAveragePool, {&x}),
               f32({2, 4, 1, 1}, {2.5, 6.5, 2.5, 4.25, 0.25, 2.25, 0.25, 1.125}));
  expect_close(run_op1(OpKind::GlobalMaxPool, {&x}),
               f32({2, 4, 1, 1}, {4, 8, 9, 5, 1, 3, 3.5, 1.5}));
  expect_close(run_op1(OpKind::GlobalLpPool, {&x}, attrs({{"p", I(3)}})),
               f32({2, 4, 1, 1}, {4.641589, 10.61477, 9.036886, 6.818462, 1.077217, 3.779763,
                                  3.615214, 1.854215}),
               1e-5);
  // Default p = 2 over a 1-D plane.
  const Tensor v = f32({1, 1, 2}, {3, -4});
  expect_close(run_op1(OpKind::GlobalLpPool, {&v}), f32({1, 1, 1}, {5}));
  const Tensor d = make<double>({1, 2, 3}, {1, 2, 3, -1, -2, -3});
  expect_close(run_op1(OpKind::GlobalAveragePool, {&d}), make<double>({1, 2, 1}, {2, -2}));
  const Tensor r1 = f32({3}, {1, 2, 3});
  EXPECT_THROW(run_op1(OpKind::GlobalMaxPool, {&r1}), Error);
  const Tensor i = make<int32_t>({1, 1, 2}, {1, 2});
  EXPECT_THROW(run_op1(OpKind::GlobalAveragePool, {&i}), Error);
  const auto t = infer(OpKind::GlobalAveragePool,
                       {vt(DType::F32, {Dim::sym("N"), Dim::of(3), Dim::sym("H"), Dim::of(7)})},
                       {}, 1);
  EXPECT_EQ(t[0].shape.to_string(), "[N,3,1,1]");
}

// ---------------------------------------------------------------- MaxUnpool

TEST(PoolMaxUnpool, WithoutAndWithOutputShape) {
  const Tensor x = f32({1, 1, 2, 2}, {5, 6, 7, 8});
  const Tensor ind = i64({1, 1, 2, 2}, {5, 7, 13, 15});
  const Attributes a = attrs({{"kernel_shape", Is({2, 2})}, {"strides", Is({2, 2})}});
  expect_close(run_op1(OpKind::MaxUnpool, {&x, &ind}, a),
               f32({1, 1, 4, 4}, {0, 0, 0, 0, 0, 5, 0, 6, 0, 0, 0, 0, 0, 7, 0, 8}));
  // output_shape enlarges the output; the unpooled 4x4 block sits at the origin.
  const Tensor shape = i64({4}, {1, 1, 5, 5});
  expect_close(run_op1(OpKind::MaxUnpool, {&x, &ind, &shape}, a),
               f32({1, 1, 5, 5}, {0, 0, 0, 0, 0, 0, 5, 0, 6, 0, 0, 0, 0, 0, 0,
                                  0, 7, 0, 8, 0, 0, 0, 0, 0, 0}));
}

TEST(PoolMaxUnpool, RoundTripWithMaxPoolAndPads) {
  const Tensor x = f32({1, 1, 1, 6}, {1, 9, 3, 2, 8, 4});
  const auto pooled = run_op(OpKind::MaxPool, {&x},
                             attrs({{"kernel_shape", Is({1, 3})}, {"strides", Is({1, 3})}}), 2);
  const Tensor y = run_op1(OpKind::MaxUnpool, {&pooled[0], &pooled[1]},
                           attrs({{"kernel_shape", Is({1, 3})}, {"strides", Is({1, 3})}}));
  expect_close(y, f32({1, 1, 1, 6}, {0, 9, 0, 0, 8, 0}));
  // pads shrink the natural size: (2 - 1) * 2 - 1 - 0 + 2 = 3.
  const Tensor v = f32({1, 1, 2}, {4, 6});
  const Tensor vi = i64({1, 1, 2}, {0, 2});
  expect_close(run_op1(OpKind::MaxUnpool, {&v, &vi},
                       attrs({{"kernel_shape", Is({2})}, {"strides", Is({2})},
                              {"pads", Is({1, 0})}})),
               f32({1, 1, 3}, {4, 0, 6}));
}

TEST(PoolMaxUnpool, Errors) {
  const Tensor x = f32({1, 1, 2, 2}, {5, 6, 7, 8});
  const Attributes a = attrs({{"kernel_shape", Is({2, 2})}, {"strides", Is({2, 2})}});
  const Tensor bad = i64({1, 1, 2, 2}, {5, 7, 13, 16});  // 16 is outside the 4x4 output
  EXPECT_THROW(run_op1(OpKind::MaxUnpool, {&x, &bad}, a), Error);
  const Tensor neg = i64({1, 1, 2, 2}, {-1, 7, 13, 15});
  EXPECT_THROW(run_op1(OpKind::MaxUnpool, {&x, &neg}, a), Error);
  const Tensor i32 = make<int32_t>({1, 1, 2, 2}, {5, 7, 13, 15});
  EXPECT_THROW(run_op1(OpKind::MaxUnpool, {&x, &i32}, a), Error);
  const Tensor ok = i64({1, 1, 2, 2}, {5, 7, 13, 15});
  const Tensor small = i64({4}, {1, 1, 3, 4});
  EXPECT_THROW(run_op1(OpKind::MaxUnpool, {&x, &ok, &small}, a), Error);
  const Tensor short_shape = i64({2}, {4, 4});
  EXPECT_THROW(run_op1(OpKind::MaxUnpool, {&x, &ok, &short_shape}, a), Error);
  const Tensor mismatch = i64({1, 1, 4}, {5, 7, 13, 15});
  EXPECT_THROW(run_op1(OpKind::MaxUnpool, {&x, &mismatch}, a), Error);
  // Symbolic: output_shape value unknown gives a known rank.
  const auto t = infer(OpKind::MaxUnpool,
                       {vt(DType::F32, {Dim::of(1), Dim::of(1), Dim::of(2), Dim::of(2)}),
                        vt(DType::I64, {Dim::of(1), Dim::of(1), Dim::of(2), Dim::of(2)}),
                        vt(DType::I64, {Dim::of(4)})},
                       a, 1);
  EXPECT_EQ(t[0].shape.to_string(), "[?,?,?,?]");
}

}  // namespace
}  // namespace kiln::test
