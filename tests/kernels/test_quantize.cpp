// QuantizeLinear, DequantizeLinear and DynamicQuantizeLinear: granularities (per tensor, per
// axis, blocked), dtypes, opset differences, rounding and saturation, and error paths.
// Expected values are hand-checked or computed with the onnx reference evaluator.
#include "ir/graph.h"
#include "ir/infer.h"
#include "tests/test_util.h"

namespace kiln::test {
namespace {

Attributes attrs(std::initializer_list<std::pair<const char*, Attribute>> kv) {
  Attributes a;
  for (const auto& [k, v] : kv) a.set(k, v);
  return a;
}

ValueType infer1(OpKind op, const std::vector<ValueType>& in, const Attributes& a = {},
                 int opset = 22) {
  InferContext ctx;
  ctx.op = op;
  ctx.opset = opset;
  ctx.attrs = &a;
  for (const ValueType& t : in) {
    ctx.input_types.push_back(&t);
    ctx.input_values.push_back(nullptr);
  }
  ctx.outputs.resize(1);
  infer_node(ctx);
  return ctx.outputs[0];
}

TEST(QuantizeLinearKernel, PerTensorRoundsHalfToEvenAndSaturates) {
  const Tensor x = make<float>({8}, {0, 2, 3, 1000, -254, -1000, 1, 5});
  const Tensor s = Tensor::scalar<float>(2.0f);
  const Tensor zp = Tensor::scalar<uint8_t>(128);
  expect_close(run_op1(OpKind::QuantizeLinear, {&x, &s, &zp}, {}, 10),
               make<uint8_t>({8}, {128, 129, 130, 255, 1, 0, 128, 130}));
  // No zero point: u8 output, zero point 0.
  expect_close(run_op1(OpKind::QuantizeLinear, {&x, &s}),
               make<uint8_t>({8}, {0, 1, 2, 255, 0, 0, 0, 2}));
  const Tensor zi = Tensor::scalar<int8_t>(-1);
  expect_close(run_op1(OpKind::QuantizeLinear, {&x, &s, &zi}),
               make<int8_t>({8}, {-1, 0, 1, 127, -128, -128, -1, 1}));
  const Tensor xi = make<int32_t>({3}, {-3, 4, 1000});
  expect_close(run_op1(OpKind::QuantizeLinear, {&xi, &s, &zi}), make<int8_t>({3}, {-3, 1, 127}));
}

TEST(QuantizeLinearKernel, PerAxisBlockedAndInt16) {
  const Tensor x = make<float>(
      {2, 8}, {-300, -2.5f, -1.5f, -0.5f, 0.5f, 1.5f, 2.5f, 300, 0, 1, 2, 3, 4, 5, 6, 7});
  const Tensor s = make<float>({2}, {1.0f, 0.5f});
  const Tensor zp = make<uint8_t>({2}, {128, 0});
  expect_close(
      run_op1(OpKind::QuantizeLinear, {&x, &s, &zp}, attrs({{"axis", Attribute::of_int(0)}})),
      make<uint8_t>({2, 8}, {0, 126, 126, 128, 128, 130, 130, 255, 0, 2, 4, 6, 8, 10, 12, 14}));
  // Per-axis needs opset 13.
  EXPECT_THROW(
      run_op1(OpKind::QuantizeLinear, {&x, &s, &zp}, attrs({{"axis", Attribute::of_int(0)}}), 10),
      Error);
  Tensor xb(DType::F32, {2, 6});
  for (int i = 0; i < 12; ++i) xb.data<float>()[i] = static_cast<float>(i - 5);
  const Tensor sb = make<float>({2, 2}, {0.5f, 2, 1, 4});
  const Tensor zb = make<int8_t>({2, 2}, {0, -3, 1, 2});
  const Attributes blocked =
      attrs({{"axis", Attribute::of_int(1)}, {"block_size", Attribute::of_int(4)}});
  expect_close(run_op1(OpKind::QuantizeLinear, {&xb, &sb, &zb}, blocked, 21),
               make<int8_t>({2, 6}, {-10, -8, -6, -4, -3, -3, 2, 3, 4, 5, 3, 4}));
  EXPECT_THROW(run_op1(OpKind::QuantizeLinear, {&xb, &sb, &zb}, blocked, 19),
               Error);  // no blocks before 21
  const Attributes bad_block =
      attrs({{"axis", Attribute::of_int(1)}, {"block_size", Attribute::of_int(2)}});
  EXPECT_THROW(run_op1(OpKind::QuantizeLinear, {&xb, &sb, &zb}, bad_block, 21), Error);
  const Tensor x16 = make<float>({4}, {-70000, 0.75f, 1.25f, 70000});
  const Tensor s16 = Tensor::scalar<float>(0.5f);
  const Tensor z16 = Tensor::scalar<int16_t>(-3);
  expect_close(run_op1(OpKind::QuantizeLinear, {&x16, &s16, &z16}, {}, 21),
               make<int16_t>({4}, {-32768, -1, -1, 32767}));
  EXPECT_THROW(run_op1(OpKind::QuantizeLinear, {&x16, &s16, &z16}, {}, 19), Error);  // i16 from 21
}

TEST(QuantizeLinearKernel, OutputDtypeHalfScalesAndErrors) {
  const Tensor x = make<float>({2}, {-1, 3});
  const Tensor s = Tensor::scalar<float>(1.0f);
  const Attributes i8 = attrs({{"output_dtype", Attribute::of_int(3)}});
  expect_close(run_op1(OpKind::QuantizeLinear, {&x, &s}, i8, 21), make<int8_t>({2}, {-1, 3}));
  const Tensor zu = Tensor::scalar<uint8_t>(0);
  EXPECT_THROW(run_op1(OpKind::QuantizeLinear, {&x, &s, &zu}, i8, 21),
               Error);  // conflicting dtypes
  const Attributes f8 = attrs({{"output_dtype", Attribute::of_int(17)}});
  EXPECT_THROW(run_op1(OpKind::QuantizeLinear, {&x, &s}, f8, 21), Unsupported);
  const Attributes i4 = attrs({{"output_dtype", Attribute::of_int(22)}});
  EXPECT_THROW(run_op1(OpKind::QuantizeLinear, {&x, &s}, i4, 21), Unsupported);
  // f16 x and scale (opset 19): the division happens in f16 (2049/1 rounds to 2048).
  Tensor xh(DType::F16, {1});
  xh.data<half>()[0] = half(2049.0f);
  Tensor sh(DType::F16, {});
  sh.data<half>()[0] = half(1.0f);
  const Tensor z16 = Tensor::scalar<int16_t>(0);
  EXPECT_EQ(run_op1(OpKind::QuantizeLinear, {&xh, &sh, &z16}, {}, 21).data<int16_t>()[0], 2048);
  EXPECT_THROW(run_op1(OpKind::QuantizeLinear, {&xh, &sh}, {}, 13), Error);
  const Tensor s3 = make<float>({3}, {1, 1, 1});
  const Tensor x23 = make<float>({2, 3}, {1, 2, 3, 4, 5, 6});
  EXPECT_NO_THROW(run_op1(OpKind::QuantizeLinear, {&x23, &s3}));  // axis 1 has 3
  const Tensor x32 = make<float>({3, 2}, {1, 2, 3, 4, 5, 6});
  EXPECT_NO_THROW(
      run_op1(OpKind::QuantizeLinear, {&x32, &s3}, attrs({{"axis", Attribute::of_int(-2)}})));
  EXPECT_THROW(
      run_op1(OpKind::QuantizeLinear, {&x32, &s3}, attrs({{"axis", Attribute::of_int(5)}})), Error);
  const Tensor z2 = make<uint8_t>({2}, {0, 0});
  EXPECT_THROW(
      run_op1(OpKind::QuantizeLinear, {&x32, &s3, &z2}, attrs({{"axis", Attribute::of_int(0)}})),
      Error);
  const Tensor nan = make<float>({1}, {std::nanf("")});
  EXPECT_EQ(run_op1(OpKind::QuantizeLinear, {&nan, &s}).data<uint8_t>()[0], 0);
}

TEST(QuantizeLinearInfer, Symbolic) {
  Shape x = Shape::of_rank(3);
  x.dims[0] = Dim::sym("N");
  x.dims[1] = Dim::of(4);
  const ValueType y =
      infer1(OpKind::QuantizeLinear, {ValueType{DType::F32, x, {}}, ValueType::of(DType::F32, {4}),
                                      ValueType::of(DType::I8, {4})});
  EXPECT_EQ(y.dtype, DType::I8);
  EXPECT_EQ(y.shape, x);
  EXPECT_THROW(infer1(OpKind::QuantizeLinear,
                      {ValueType{DType::F32, x, {}}, ValueType::of(DType::F32, {5})}),
               Error);
  EXPECT_THROW(infer1(OpKind::QuantizeLinear,
                      {ValueType::of(DType::F64, {2}), ValueType::of(DType::F32, {})}),
               Error);
  const ValueType d = infer1(OpKind::DequantizeLinear,
                             {ValueType{DType::U8, x, {}}, ValueType::of(DType::F16, {})});
  EXPECT_EQ(d.dtype, DType::F16);
  EXPECT_EQ(
      infer1(OpKind::DequantizeLinear, {ValueType{DType::U8, x, {}}, ValueType::of(DType::F32, {})},
             attrs({{"output_dtype", Attribute::of_int(16)}}), 23)
          .dtype,
      DType::BF16);
}

TEST(DequantizeLinearKernel, GranularitiesAndDtypes) {
  const Tensor x = make<uint8_t>({4}, {0, 3, 128, 255});
  const Tensor s = Tensor::scalar<float>(2.0f);
  const Tensor zp = Tensor::scalar<uint8_t>(128);
  expect_close(run_op1(OpKind::DequantizeLinear, {&x, &s, &zp}, {}, 10),
               make<float>({4}, {-256, -250, 0, 254}));
  const Tensor xa = make<int8_t>({2, 2}, {1, 2, 3, 4});
  const Tensor sa = make<float>({2}, {1, 10});
  const Tensor za = make<int8_t>({2}, {0, 1});
  expect_close(run_op1(OpKind::DequantizeLinear, {&xa, &sa, &za}),
               make<float>({2, 2}, {1, 10, 3, 30}));
  expect_close(
      run_op1(OpKind::DequantizeLinear, {&xa, &sa, &za}, attrs({{"axis", Attribute::of_int(0)}})),
      make<float>({2, 2}, {1, 2, 20, 30}));
  const Tensor qb = make<int8_t>({2, 6}, {0, 1, 2, -3, -4, 127, 1, 2, 3, 4, -128, 6});
  const Tensor sb = make<float>({2, 2}, {0.5f, 2, 1, 4});
  const Tensor zb = make<int8_t>({2, 2}, {0, -3, 1, 2});
  expect_close(
      run_op1(OpKind::DequantizeLinear, {&qb, &sb, &zb},
              attrs({{"axis", Attribute::of_int(1)}, {"block_size", Attribute::of_int(4)}}), 21),
      make<float>({2, 6}, {0.0f, 0.5f, 1.0f, -1.5f, -2.0f, 260.0f, 0.0f, 1.0f, 2.0f, 3.0f, -520.0f,
                           16.0f}));
  const Tensor x16 = make<int16_t>({4}, {-32768, 0, 32767, 100});
  const Tensor s16 = Tensor::scalar<float>(0.5f);
  const Tensor z16 = Tensor::scalar<int16_t>(100);
  expect_close(run_op1(OpKind::DequantizeLinear, {&x16, &s16, &z16}, {}, 21),
               make<float>({4}, {-16434.0f, -50.0f, 16333.5f, 0.0f}));
  const Tensor x32 = make<int32_t>({2}, {-5, 1 << 20});
  expect_close(run_op1(OpKind::DequantizeLinear, {&x32, &s16}), make<float>({2}, {-2.5f, 524288}));
  Tensor sh(DType::F16, {});
  sh.data<half>()[0] = half(0.25f);
  const Tensor yh = run_op1(OpKind::DequantizeLinear, {&x, &sh});
  ASSERT_EQ(yh.dtype(), DType::F16);
  EXPECT_EQ(static_cast<float>(yh.data<half>()[3]), 63.75f);
  EXPECT_THROW(run_op1(OpKind::DequantizeLinear, {&x, &sh}, {}, 13), Error);  // f16 scale from 19
  const Tensor zi = Tensor::scalar<int8_t>(0);
  EXPECT_THROW(run_op1(OpKind::DequantizeLinear, {&x, &s, &zi}), Error);  // dtype mismatch
  const Tensor xf = make<float>({1}, {1});
  EXPECT_THROW(run_op1(OpKind::DequantizeLinear, {&xf, &s}), Error);
}

TEST(DynamicQuantizeLinearKernel, ScaleZeroPointAndValues) {
  struct Case {
    std::vector<float> x;
    std::vector<uint8_t> y;
    float scale;
    uint8_t zp;
  };
  const std::vector<Case> cases = {
      {{0, 2, -3, -2.5f, 1.34f, 0.5f}, {153, 255, 0, 26, 221, 179}, 0.0196078438f, 153},
      {{-1.0f, -2.1f, -1.3f, -2.5f, -3.34f, -4.0f}, {191, 121, 172, 96, 42, 0}, 0.0156862754f, 255},
      {{1, 2.1f, 1.3f, 2.5f, 3.34f, 4.0f, 1.5f, 2.6f, 3.9f, 4.0f, 3.0f, 2.345f},
       {64, 134, 83, 159, 213, 255, 96, 166, 249, 255, 191, 149},
       0.0156862754f,
       0},
  };
  for (const Case& c : cases) {
    const Tensor x = make<float>({static_cast<int64_t>(c.x.size())}, c.x);
    const std::vector<Tensor> out = run_op(OpKind::DynamicQuantizeLinear, {&x}, {}, 3, 11);
    expect_close(out[0], make<uint8_t>({static_cast<int64_t>(c.y.size())}, c.y));
    EXPECT_FLOAT_EQ(out[1].data<float>()[0], c.scale);
    EXPECT_EQ(out[2].data<uint8_t>()[0], c.zp);
    EXPECT_EQ(out[1].rank(), 0);
  }
  const Tensor zeros = make<float>({2}, {0, 0});
  const std::vector<Tensor> z = run_op(OpKind::DynamicQuantizeLinear, {&zeros}, {}, 3, 11);
  EXPECT_EQ(z[0].data<uint8_t>()[1], 0);
  EXPECT_EQ(z[2].data<uint8_t>()[0], 0);
  const Tensor d = make<double>({1}, {1});
  EXPECT_THROW(run_op(OpKind::DynamicQuantizeLinear, {&d}, {}, 3, 11), Error);
}

}  // namespace
}  // namespace kiln::test

namespace kiln {
namespace {
// Constant scale and zero point are recorded on the quantized value's type.
TEST(QuantizeLinearTypes, CarriesQuantParams) {
  Graph g;
  Value* x = g.add_value("x", ValueType::of(DType::F32, {2, 3}));
  Value* s = g.add_constant("s", Tensor::from_vector<float>({0.5f, 0.25f, 2.0f}, {3}));
  Value* z = g.add_constant("z", Tensor::from_vector<int8_t>({1, 2, 3}, {3}));
  Value* y = g.add_value("y");
  Attributes a;
  a.set("axis", Attribute::of_int(-1));
  g.add_node(OpKind::QuantizeLinear, {x, s, z}, {y}, a, "q", 21);
  g.inputs = {x};
  g.outputs = {y};
  infer_shapes(g);
  ASSERT_TRUE(y->type.quant.has_value());
  EXPECT_EQ(y->type.dtype, DType::I8);
  EXPECT_EQ(y->type.quant->axis, 1);
  EXPECT_EQ(y->type.quant->scale, (std::vector<float>{0.5f, 0.25f, 2.0f}));
  EXPECT_EQ(y->type.quant->zero_point, (std::vector<int64_t>{1, 2, 3}));
}
}  // namespace
}  // namespace kiln
