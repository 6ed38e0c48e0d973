// MatMul, Gemm, Einsum, MatMulInteger, QLinearMatMul and Det: reference kernels and inference.
// Expected values are hand-checked or computed with the onnx reference evaluator.
#include "ir/infer.h"
#include "tests/test_util.h"

namespace kiln::test {
namespace {

Attributes attrs(std::initializer_list<std::pair<const char*, Attribute>> kv) {
  Attributes a;
  for (const auto& [k, v] : kv) a.set(k, v);
  return a;
}

Tensor iota_f(Dims dims, float scale = 1.0f, float offset = 0.0f) {
  Tensor t(DType::F32, dims);
  for (int64_t i = 0; i < t.numel(); ++i)
    t.data<float>()[i] = static_cast<float>(i) * scale + offset;
  return t;
}

ValueType infer1(OpKind op, const std::vector<ValueType>& in, const Attributes& a = {},
                 int opset = 22) {
  InferContext ctx;
  ctx.op = op;
  ctx.opset = opset;
  ctx.attrs = &a;
  for (const ValueType& t : in) {
    ctx.input_types.push_back(t.dtype == DType::Undefined ? nullptr : &t);
    ctx.input_values.push_back(nullptr);
  }
  ctx.outputs.resize(1);
  infer_node(ctx);
  return ctx.outputs[0];
}

Shape sym(std::vector<Dim> d) {
  Shape s = Shape::of_rank(0);
  s.dims = std::move(d);
  return s;
}

Attributes eq(const char* e) { return attrs({{"equation", Attribute::of_string(e)}}); }

TEST(MatMulKernel, TwoByTwoAndVectors) {
  const Tensor a = make<float>({2, 3}, {1, 2, 3, 4, 5, 6});
  const Tensor b = make<float>({3, 2}, {7, 8, 9, 10, 11, 12});
  expect_close(run_op1(OpKind::MatMul, {&a, &b}), make<float>({2, 2}, {58, 64, 139, 154}));
  const Tensor v = make<float>({3}, {1, 0, -1});
  expect_close(run_op1(OpKind::MatMul, {&a, &v}), make<float>({2}, {-2, -2}));
  const Tensor u = make<float>({2}, {1, -1});
  expect_close(run_op1(OpKind::MatMul, {&u, &a}), make<float>({3}, {-3, -3, -3}));
  expect_close(run_op1(OpKind::MatMul, {&v, &v}), make<float>({}, {2}));
  // 1-D against a batch: [3] times [2, 3, 2] gives [2, 2]
  const Tensor bb = iota_f({2, 3, 2});
  expect_close(run_op1(OpKind::MatMul, {&v, &bb}), make<float>({2, 2}, {-4, -4, -4, -4}));
}

TEST(MatMulKernel, BatchBroadcast) {
  const Tensor a = iota_f({2, 1, 2, 3}, 1.0f, -4.0f);
  Tensor b(DType::F32, {3, 3, 2});
  for (int64_t i = 0; i < b.numel(); ++i) b.data<float>()[i] = static_cast<float>(i % 5 - 1);
  expect_close(
      run_op1(OpKind::MatMul, {&a, &b}),
      make<float>({2, 3, 2, 2}, {-5.0f,  -4.0f, 4.0f,  -1.0f, -4.0f, -13.0f, -1.0f, -1.0f,
                                 -13.0f, -7.0f, -1.0f, -1.0f, 13.0f, 2.0f,   22.0f, 5.0f,
                                 2.0f,   11.0f, 5.0f,  23.0f, 11.0f, 5.0f,   23.0f, 11.0f}));
}

TEST(MatMulKernel, IntegerWrapsAndHalfRounds) {
  const Tensor a = make<int32_t>({1, 2}, {0x40000000, 0x40000000});
  const Tensor b = make<int32_t>({2, 1}, {2, 2});
  EXPECT_EQ(run_op1(OpKind::MatMul, {&a, &b}).data<int32_t>()[0], 0);  // 2^32 wraps to 0
  const Tensor c = make<uint64_t>({1, 2}, {3, 4});
  const Tensor d = make<uint64_t>({2}, {5, 6});
  EXPECT_EQ(run_op1(OpKind::MatMul, {&c, &d}).data<uint64_t>()[0], 39u);
  Tensor h(DType::F16, {1, 3});
  for (int i = 0; i < 3; ++i) h.data<half>()[i] = half(1000.0f);
  Tensor k(DType::F16, {3, 1});
  for (int i = 0; i < 3; ++i) k.data<half>()[i] = half(1.001f);
  const Tensor y = run_op1(OpKind::MatMul, {&h, &k});
  ASSERT_EQ(y.dtype(), DType::F16);
  EXPECT_EQ(static_cast<float>(y.data<half>()[0]),
            static_cast<float>(half(3000.0f * static_cast<float>(half(1.001f)))));
}

TEST(MatMulKernel, Errors) {
  const Tensor a = iota_f({2, 3});
  const Tensor b = iota_f({2, 3});
  EXPECT_THROW(run_op1(OpKind::MatMul, {&a, &b}), Error);
  const Tensor s = Tensor::scalar<float>(1.0f);
  EXPECT_THROW(run_op1(OpKind::MatMul, {&s, &a}), Error);
  const Tensor i = make<int32_t>({3, 1}, {1, 2, 3});
  EXPECT_THROW(run_op1(OpKind::MatMul, {&a, &i}), Error);
  const Tensor x = iota_f({2, 2, 3}), y = iota_f({3, 3, 2});
  EXPECT_THROW(run_op1(OpKind::MatMul, {&x, &y}), Error);  // batch 2 vs 3
  const Tensor i8 = make<int8_t>({1, 1}, {1});
  EXPECT_THROW(run_op1(OpKind::MatMul, {&i8, &i8}), Error);
}

TEST(MatMulInfer, Symbolic) {
  const ValueType a{DType::F32, sym({Dim::sym("B"), Dim::of(1), Dim::sym("M"), Dim::of(4)}), {}};
  const ValueType b{DType::F32, sym({Dim::of(3), Dim::of(4), Dim::unknown()}), {}};
  EXPECT_EQ(infer1(OpKind::MatMul, {a, b}).shape,
            sym({Dim::sym("B"), Dim::of(3), Dim::sym("M"), Dim::unknown()}));
  const ValueType v = ValueType::of(DType::F32, {4});
  EXPECT_EQ(infer1(OpKind::MatMul, {a, v}).shape, sym({Dim::sym("B"), Dim::of(1), Dim::sym("M")}));
  EXPECT_FALSE(infer1(OpKind::MatMul, {ValueType{DType::F32, Shape::unknown_rank(), {}}, v})
                   .shape.rank_known);
  EXPECT_THROW(infer1(OpKind::MatMul, {a, ValueType::of(DType::F32, {5, 2})}), Error);
  EXPECT_THROW(infer1(OpKind::MatMul, {a, ValueType::of(DType::F64, {4, 2})}), Error);
}

TEST(GemmKernel, TransposesAlphaBetaAndBroadcastC) {
  const Tensor a = iota_f({2, 3}, 0.5f);         // transA: op(A) is 3x2
  const Tensor b = iota_f({4, 2}, 1.0f, -3.0f);  // transB: op(B) is 2x4
  const Tensor c = make<float>({3, 1}, {1, 2, 3});
  const Attributes at = attrs({{"transA", Attribute::of_int(1)},
                               {"transB", Attribute::of_int(1)},
                               {"alpha", Attribute::of_float(0.5f)},
                               {"beta", Attribute::of_float(-2.0f)}});
  expect_close(run_op1(OpKind::Gemm, {&a, &b, &c}, at),
               make<float>({3, 4}, {-3.5f, -2.0f, -0.5f, 1.0f, -6.75f, -4.25f, -1.75f, 0.75f,
                                    -10.0f, -6.5f, -3.0f, 0.5f}));
  const Tensor a2 = make<float>({2, 2}, {1, 2, 3, 4});
  const Tensor i2 = make<float>({2, 2}, {1, 0, 0, 1});
  const Tensor cs = Tensor::scalar<float>(10.0f);
  expect_close(run_op1(OpKind::Gemm, {&a2, &i2, &cs}), make<float>({2, 2}, {11, 12, 13, 14}));
  const Tensor row = make<float>({2}, {1, -1});
  expect_close(run_op1(OpKind::Gemm, {&a2, &i2, &row}), make<float>({2, 2}, {2, 1, 4, 3}));
  expect_close(run_op1(OpKind::Gemm, {&a2, &i2}), a2);  // C optional from opset 11
  EXPECT_THROW(run_op1(OpKind::Gemm, {&a2, &i2}, {}, 9), Error);
  // beta = 0 ignores C entirely (even NaN).
  const Tensor nan = Tensor::scalar<float>(std::nanf(""));
  expect_close(
      run_op1(OpKind::Gemm, {&a2, &i2, &nan}, attrs({{"beta", Attribute::of_float(0.0f)}})), a2);
  const Tensor ai = make<int64_t>({1, 2}, {3, 4});
  const Tensor bi = make<int64_t>({2, 1}, {5, 6});
  const Tensor ci = make<int64_t>({1}, {-1});
  EXPECT_EQ(run_op1(OpKind::Gemm, {&ai, &bi, &ci}).data<int64_t>()[0], 38);
  EXPECT_EQ(run_op1(OpKind::Gemm, {&ai, &bi, &ci}, attrs({{"alpha", Attribute::of_float(0.5f)}}))
                .data<int64_t>()[0],
            18);  // 19.5 - 1 truncates
}

TEST(GemmKernel, InferAndErrors) {
  const ValueType a{DType::F32, sym({Dim::sym("K"), Dim::sym("M")}), {}};
  const ValueType b = ValueType::of(DType::F32, {7, 5});
  const ValueType c = ValueType::of(DType::F32, {1, 7});
  EXPECT_EQ(infer1(OpKind::Gemm, {a, b, c},
                   attrs({{"transA", Attribute::of_int(1)}, {"transB", Attribute::of_int(1)}}))
                .shape,
            sym({Dim::sym("M"), Dim::of(7)}));
  EXPECT_THROW(
      infer1(OpKind::Gemm, {ValueType::of(DType::F32, {2, 3}), ValueType::of(DType::F32, {3, 4}),
                            ValueType::of(DType::F32, {3})}),
      Error);
  const Tensor x = iota_f({2, 3}), y = iota_f({2, 3});
  EXPECT_THROW(run_op1(OpKind::Gemm, {&x, &y}), Error);
  const Tensor x3 = iota_f({1, 2, 3});
  EXPECT_THROW(run_op1(OpKind::Gemm, {&x3, &y}), Error);
}

TEST(EinsumKernel, MatmulTransposeTraceDiagonalSum) {
  const Tensor a = make<float>({2, 3}, {1, 2, 3, 4, 5, 6});
  const Tensor b = make<float>({3, 2}, {7, 8, 9, 10, 11, 12});
  expect_close(run_op1(OpKind::Einsum, {&a, &b}, eq("ij,jk->ik")),
               make<float>({2, 2}, {58, 64, 139, 154}));
  expect_close(run_op1(OpKind::Einsum, {&a, &b}, eq("ij, jk")),
               make<float>({2, 2}, {58, 64, 139, 154}));
  expect_close(run_op1(OpKind::Einsum, {&a}, eq("ij->ji")),
               make<float>({3, 2}, {1, 4, 2, 5, 3, 6}));
  expect_close(run_op1(OpKind::Einsum, {&a}, eq("ij->")), make<float>({}, {21}));
  expect_close(run_op1(OpKind::Einsum, {&a}, eq("ij->j")), make<float>({3}, {5, 7, 9}));
  const Tensor sq = make<float>({3, 3}, {1, 2, 3, 4, 5, 6, 7, 8, 9});
  expect_close(run_op1(OpKind::Einsum, {&sq}, eq("ii")), make<float>({}, {15}));
  expect_close(run_op1(OpKind::Einsum, {&sq}, eq("ii->i")), make<float>({3}, {1, 5, 9}));
  const Tensor u = make<float>({2}, {1, 2}), v = make<float>({3}, {1, 10, 100});
  expect_close(run_op1(OpKind::Einsum, {&u, &v}, eq("i,j->ij")),
               make<float>({2, 3}, {1, 10, 100, 2, 20, 200}));
  expect_close(run_op1(OpKind::Einsum, {&v, &v}, eq("i,i")), make<float>({}, {10101}));
}

TEST(EinsumKernel, EllipsisBroadcastImplicitAndManyOperands) {
  const Tensor x = iota_f({2, 3, 3});
  expect_close(run_op1(OpKind::Einsum, {&x}, eq("...ii->...i")),
               make<float>({2, 3}, {0.0f, 4.0f, 8.0f, 9.0f, 13.0f, 17.0f}));
  const Tensor p = iota_f({2, 3, 4}, 1.0f / 3), q = iota_f({1, 4, 5}, 1.0f, -7.0f);
  expect_close(
      run_op1(OpKind::Einsum, {&p, &q}, eq("...ij,...jk->...ik")),
      make<float>({2, 3, 5},
                  {9.33333302f, 11.333334f,  13.333334f,  15.333334f,  17.333334f,  11.999999f,
                   19.3333321f, 26.666666f,  34.0f,       41.3333321f, 14.666666f,  27.333334f,
                   40.0f,       52.6666679f, 65.3333359f, 17.3333321f, 35.3333321f, 53.3333321f,
                   71.3333282f, 89.3333282f, 20.0f,       43.3333321f, 66.6666641f, 90.0f,
                   113.333336f, 22.6666679f, 51.3333321f, 80.0f,       108.666664f, 137.333328f}),
      1e-5, 1e-4);
  const Tensor r = iota_f({3, 4}), s = iota_f({4, 2}), t = make<float>({2}, {1, -1});
  expect_close(run_op1(OpKind::Einsum, {&r, &s, &t}, eq("ij,jk,k->i")),
               make<float>({3}, {-6.0f, -22.0f, -38.0f}));
  // Implicit output: labels used once, in alphabetical order.
  const Tensor r2 = iota_f({4, 3});
  expect_close(
      run_op1(OpKind::Einsum, {&r, &r2}, eq("ba,ac")),
      make<float>({3, 3}, {42.0f, 48.0f, 54.0f, 114.0f, 136.0f, 158.0f, 186.0f, 224.0f, 262.0f}));
  expect_close(
      run_op1(OpKind::Einsum, {&p}, eq("abc->cab")),
      make<float>({4, 2, 3},
                  {0.0f,         1.33333337f, 2.66666675f, 4.0f,        5.33333349f, 6.66666651f,
                   0.333333343f, 1.66666663f, 3.0f,        4.33333349f, 5.66666651f, 7.0f,
                   0.666666687f, 2.0f,        3.33333325f, 4.66666651f, 6.0f,        7.33333349f,
                   1.0f,         2.33333325f, 3.66666675f, 5.0f,        6.33333349f, 7.66666651f}));
  // Ellipsis omitted from an explicit output sums the broadcast axes.
  expect_close(run_op1(OpKind::Einsum, {&x}, eq("...ij->")), make<float>({}, {153}));
  const Tensor xi = make<int32_t>({2, 2}, {1, 2, 3, 4});
  expect_close(run_op1(OpKind::Einsum, {&xi, &xi}, eq("ij,jk")),
               make<int32_t>({2, 2}, {7, 10, 15, 22}));
}

TEST(EinsumKernel, InferAndErrors) {
  const ValueType a{DType::F32, sym({Dim::sym("B"), Dim::of(2), Dim::of(3)}), {}};
  const ValueType b{DType::F32, sym({Dim::of(3), Dim::sym("N")}), {}};
  EXPECT_EQ(infer1(OpKind::Einsum, {a, b}, eq("...ij,jk->...ik")).shape,
            sym({Dim::sym("B"), Dim::of(2), Dim::sym("N")}));
  EXPECT_EQ(
      infer1(OpKind::Einsum, {ValueType{DType::F32, Shape::unknown_rank(), {}}, b}, eq("ij,jk->ki"))
          .shape,
      sym({Dim::sym("N"), Dim::unknown()}));
  const Tensor m = iota_f({2, 3});
  EXPECT_THROW(run_op1(OpKind::Einsum, {&m}, eq("ijk->i")), Error);     // rank mismatch
  EXPECT_THROW(run_op1(OpKind::Einsum, {&m}, eq("ij->k")), Error);      // unknown output label
  EXPECT_THROW(run_op1(OpKind::Einsum, {&m}, eq("ij->ii")), Error);     // repeated output label
  EXPECT_THROW(run_op1(OpKind::Einsum, {&m}, eq("i1->i")), Error);      // bad character
  EXPECT_THROW(run_op1(OpKind::Einsum, {&m}, eq("i..j->i")), Error);    // broken ellipsis
  EXPECT_THROW(run_op1(OpKind::Einsum, {&m, &m}, eq("ij->i")), Error);  // term count
  EXPECT_THROW(run_op1(OpKind::Einsum, {&m}, eq("")), Error);
  EXPECT_THROW(run_op1(OpKind::Einsum, {&m}, eq("ij->i->j")), Error);
  EXPECT_THROW(run_op1(OpKind::Einsum, {&m}, eq("ii->i")), Error);  // 2 vs 3 on a diagonal
  const Tensor k = iota_f({4, 2});
  EXPECT_THROW(run_op1(OpKind::Einsum, {&m, &k}, eq("ij,jk->ik")), Error);
}

TEST(MatMulIntegerKernel, ZeroPoints) {
  const Tensor a = make<uint8_t>({4, 3}, {11, 7, 3, 10, 6, 2, 9, 5, 1, 8, 4, 0});
  const Tensor b = make<uint8_t>({3, 2}, {1, 4, 2, 5, 3, 6});
  const Tensor azp = Tensor::scalar<uint8_t>(12), bzp = Tensor::scalar<uint8_t>(0);
  expect_close(run_op1(OpKind::MatMulInteger, {&a, &b, &azp, &bzp}),
               make<int32_t>({4, 2}, {-38, -83, -44, -98, -50, -113, -56, -128}));
  // Per-row A zero points (1-D of M, or [M, 1]) and per-column B zero points.
  const Tensor rows = make<uint8_t>({4}, {12, 10, 9, 1}),
               rows2 = make<uint8_t>({4, 1}, {12, 10, 9, 1});
  const Tensor cols = make<uint8_t>({2}, {1, 2});
  const Tensor want = make<int32_t>({4, 2}, {-23, -53, -20, -44, -20, -44, 1, 19});
  expect_close(run_op1(OpKind::MatMulInteger, {&a, &b, &rows, &cols}), want);
  expect_close(run_op1(OpKind::MatMulInteger, {&a, &b, &rows2, &cols}), want);
  const Tensor ai = make<int8_t>({1, 2}, {-128, 127});
  const Tensor bu = make<uint8_t>({2, 1}, {255, 255});
  EXPECT_EQ(run_op1(OpKind::MatMulInteger, {&ai, &bu}).data<int32_t>()[0], -255);
  const Tensor bad = make<uint8_t>({3}, {1, 2, 3});
  EXPECT_THROW(run_op1(OpKind::MatMulInteger, {&a, &b, &bad}), Error);
  const Tensor wrong_type = Tensor::scalar<int8_t>(0);
  EXPECT_THROW(run_op1(OpKind::MatMulInteger, {&a, &b, &wrong_type}), Error);
}

TEST(QLinearMatMulKernel, PerTensorPerRowPerColumn) {
  const Tensor a = make<uint8_t>({2, 4}, {208, 236, 0, 238, 3, 214, 255, 29});
  const Tensor b = make<uint8_t>({4, 3}, {152, 51, 244, 60, 26, 255, 0, 127, 246, 127, 254, 247});
  const Tensor as = Tensor::scalar<float>(0.0066f), azp = Tensor::scalar<uint8_t>(113);
  const Tensor bs = Tensor::scalar<float>(0.00705f), bzp = Tensor::scalar<uint8_t>(114);
  const Tensor ys = Tensor::scalar<float>(0.0107f), yzp = Tensor::scalar<uint8_t>(118);
  expect_close(run_op1(OpKind::QLinearMatMul, {&a, &as, &azp, &b, &bs, &bzp, &ys, &yzp}),
               make<uint8_t>({2, 3}, {168, 115, 255, 1, 66, 151}));
  const Tensor as2 = make<float>({2}, {0.0066f, 0.01f}), azp2 = make<uint8_t>({2}, {113, 100});
  const Tensor bs2 = make<float>({3}, {0.00705f, 0.004f, 0.02f}),
               bzp2 = make<uint8_t>({3}, {114, 120, 128});
  expect_close(run_op1(OpKind::QLinearMatMul, {&a, &as2, &azp2, &b, &bs2, &bzp2, &ys, &yzp}),
               make<uint8_t>({2, 3}, {168, 113, 255, 0, 71, 255}));
  const Tensor yzp8 = Tensor::scalar<int8_t>(0);
  EXPECT_EQ(infer1(OpKind::QLinearMatMul,
                   {ValueType::of(DType::U8, {2, 4}), ValueType::of(DType::F32, {}),
                    ValueType::of(DType::U8, {}), ValueType::of(DType::U8, {4, 3}),
                    ValueType::of(DType::F32, {}), ValueType::of(DType::U8, {}),
                    ValueType::of(DType::F32, {}), ValueType::of(DType::I8, {})})
                .dtype,
            DType::I8);
  // f16 scales need opset 21.
  const std::vector<ValueType> f16 = {
      ValueType::of(DType::U8, {2, 4}), ValueType::of(DType::F16, {}), ValueType::of(DType::U8, {}),
      ValueType::of(DType::U8, {4, 3}), ValueType::of(DType::F16, {}), ValueType::of(DType::U8, {}),
      ValueType::of(DType::F16, {}),    ValueType::of(DType::U8, {})};
  EXPECT_THROW(infer1(OpKind::QLinearMatMul, f16, {}, 20), Error);
  EXPECT_EQ(infer1(OpKind::QLinearMatMul, f16, {}, 21).shape, Shape::of({2, 3}));
  const Tensor bad = make<float>({3}, {1, 1, 1});
  EXPECT_THROW(run_op1(OpKind::QLinearMatMul, {&a, &bad, &azp, &b, &bs, &bzp, &ys, &yzp}), Error);
}

TEST(DetKernel, SquareBatchesAndErrors) {
  const Tensor d = make<float>({3, 2, 2}, {1, 2, 3, 4, 2, 0, 0, 3, 1, 2, 2, 4});
  expect_close(run_op1(OpKind::Det, {&d}), make<float>({3}, {-2, 6, 0}));
  const Tensor m = make<double>({3, 3}, {2, -1, 0, -1, 2, -1, 0, -1, 2});
  expect_close(run_op1(OpKind::Det, {&m}), make<double>({}, {4}), 1e-12, 1e-12);
  const Tensor p = make<float>({3, 3}, {0, 1, 0, 0, 0, 1, 1, 0, 0});  // needs pivoting
  expect_close(run_op1(OpKind::Det, {&p}), make<float>({}, {1}));
  const Tensor r = iota_f({2, 3});
  EXPECT_THROW(run_op1(OpKind::Det, {&r}), Error);
  const Tensor v = iota_f({3});
  EXPECT_THROW(run_op1(OpKind::Det, {&v}), Error);
  const Tensor i = make<int32_t>({1, 1}, {1});
  EXPECT_THROW(run_op1(OpKind::Det, {&i}), Error);
  EXPECT_EQ(
      infer1(OpKind::Det, {ValueType{DType::F32, sym({Dim::sym("B"), Dim::of(3), Dim::of(3)}), {}}})
          .shape,
      sym({Dim::sym("B")}));
}

}  // namespace
}  // namespace kiln::test
