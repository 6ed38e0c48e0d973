// HannWindow, HammingWindow, BlackmanWindow and DFT; values hand-checked from the formulas.
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
Attribute i(int64_t v) { return Attribute::of_int(v); }

TEST(Window, PeriodicAndSymmetric) {
  const Tensor n4 = Tensor::scalar<int64_t>(4), n5 = Tensor::scalar<int32_t>(5);
  expect_close(run_op1(OpKind::HannWindow, {&n4}, {}, 17), make<float>({4}, {0, 0.5f, 1, 0.5f}));
  expect_close(run_op1(OpKind::HannWindow, {&n5}, attrs({{"periodic", i(0)}}), 17),
               make<float>({5}, {0, 0.5f, 1, 0.5f, 0}));
  expect_close(run_op1(OpKind::HammingWindow, {&n4}, {}, 17),
               make<float>({4}, {4.0f / 46, 25.0f / 46, 1, 25.0f / 46}));
  expect_close(run_op1(OpKind::BlackmanWindow, {&n4}, {}, 17), make<float>({4}, {0, 0.34f, 1, 0.34f}),
               1e-5, 1e-6);
}

TEST(Window, OutputDatatypeAndEdgeSizes) {
  const Tensor n4 = Tensor::scalar<int64_t>(4);
  expect_close(run_op1(OpKind::HannWindow, {&n4}, attrs({{"output_datatype", i(11)}}), 17),
               make<double>({4}, {0, 0.5, 1, 0.5}), 1e-12, 1e-15);
  // Integer outputs truncate like a cast: [0, 0.5, 1, 0.5] -> [0, 0, 1, 0].
  expect_close(run_op1(OpKind::HannWindow, {&n4}, attrs({{"output_datatype", i(6)}}), 17),
               make<int32_t>({4}, {0, 0, 1, 0}));
  const Tensor one = Tensor::scalar<int64_t>(1), zero = Tensor::scalar<int64_t>(0);
  expect_close(run_op1(OpKind::BlackmanWindow, {&one}, attrs({{"periodic", i(0)}}), 17), make<float>({1}, {1}));
  EXPECT_EQ(run_op1(OpKind::HammingWindow, {&zero}, {}, 17).numel(), 0);
}

TEST(Window, InferenceAndBadInput) {
  InferContext ctx;
  ctx.op = OpKind::HannWindow;
  ctx.opset = 17;
  const Attributes a = attrs({{"output_datatype", i(10)}});
  ctx.attrs = &a;
  const ValueType s = ValueType::of(DType::I64, {});
  ctx.input_types = {&s};
  ctx.input_values = {nullptr};
  ctx.outputs.resize(1);
  infer_node(ctx);
  EXPECT_EQ(ctx.outputs[0].to_string(), "f16[?]");
  const Tensor neg = Tensor::scalar<int64_t>(-1), f = Tensor::scalar<float>(4);
  EXPECT_THROW(run_op1(OpKind::HannWindow, {&neg}, {}, 17), Error);
  EXPECT_THROW(run_op1(OpKind::HannWindow, {&f}, {}, 17), Error);
  const Tensor n = Tensor::scalar<int64_t>(3);
  EXPECT_THROW(run_op1(OpKind::HannWindow, {&n}, attrs({{"output_datatype", i(8)}}), 17), Error);  // string
  EXPECT_THROW(run_op1(OpKind::HannWindow, {&n}, attrs({{"periodic", i(2)}}), 17), Error);
}

// x = [1, 2, 3, 4] as a real signal of shape [1, 4, 1]: X = [10, -2+2j, -2, -2-2j].
const Tensor kReal = make<float>({1, 4, 1}, {1, 2, 3, 4});
const Tensor kSpectrum = make<float>({1, 4, 2}, {10, 0, -2, 2, -2, 0, -2, -2});

TEST(DFT, ForwardRealAndOnesided) {
  expect_close(run_op1(OpKind::DFT, {&kReal}, {}, 17), kSpectrum, 1e-5, 1e-5);
  expect_close(run_op1(OpKind::DFT, {&kReal}, attrs({{"onesided", i(1)}}), 17),
               make<float>({1, 3, 2}, {10, 0, -2, 2, -2, 0}), 1e-5, 1e-5);
  // Opset 20: the axis is an input (default -2), here given explicitly as 1.
  const Tensor axis = Tensor::scalar<int64_t>(1);
  expect_close(run_op1(OpKind::DFT, {&kReal, nullptr, &axis}, {}, 20), kSpectrum, 1e-5, 1e-5);
  expect_close(run_op1(OpKind::DFT, {&kReal}, {}, 20), kSpectrum, 1e-5, 1e-5);
}

TEST(DFT, InverseAndIrfft) {
  expect_close(run_op1(OpKind::DFT, {&kSpectrum}, attrs({{"inverse", i(1)}}), 17),
               make<float>({1, 4, 2}, {1, 0, 2, 0, 3, 0, 4, 0}), 1e-5, 1e-5);
  const Tensor half = make<float>({1, 3, 2}, {10, 0, -2, 2, -2, 0});
  expect_close(run_op1(OpKind::DFT, {&half}, attrs({{"inverse", i(1)}, {"onesided", i(1)}}), 20),
               make<float>({1, 4, 1}, {1, 2, 3, 4}), 1e-5, 1e-5);
}

TEST(DFT, LengthPadsOrTruncatesAndOtherAxes) {
  // dft_length 2 keeps [1, 2]: X = [3, -1]. dft_length 8 zero-pads: X0 is still the sum 10.
  const Tensor two = Tensor::scalar<int64_t>(2), eight = Tensor::scalar<int32_t>(8);
  expect_close(run_op1(OpKind::DFT, {&kReal, &two}, {}, 17), make<float>({1, 2, 2}, {3, 0, -1, 0}), 1e-5, 1e-5);
  const Tensor y8 = run_op1(OpKind::DFT, {&kReal, &eight}, {}, 17);
  ASSERT_EQ(y8.dims(), (Dims{1, 8, 2}));
  EXPECT_NEAR(y8.data<float>()[0], 10, 1e-5);
  EXPECT_NEAR(y8.data<float>()[8], -2, 1e-5);  // bin 4 of 8 = bin 2 of the 4-point DFT
  // Transform along axis 0 of a [2, 3, 1] real input: pairwise sums and differences.
  const Tensor x = make<float>({2, 3, 1}, {1, 2, 3, 5, 7, 11});
  expect_close(run_op1(OpKind::DFT, {&x}, attrs({{"axis", i(0)}}), 17),
               make<float>({2, 3, 2}, {6, 0, 9, 0, 14, 0, -4, 0, -5, 0, -8, 0}),
               1e-5, 1e-5);
}

TEST(DFT, InferenceAndBadInput) {
  InferContext ctx;
  ctx.op = OpKind::DFT;
  ctx.opset = 20;
  const Attributes a = attrs({{"onesided", i(1)}});
  ctx.attrs = &a;
  ValueType x{DType::F32, Shape::of_rank(3), {}};
  x.shape.dims = {Dim::sym("B"), Dim::of(16), Dim::of(1)};
  ctx.input_types = {&x};
  ctx.input_values = {nullptr};
  ctx.outputs.resize(1);
  infer_node(ctx);
  EXPECT_EQ(ctx.outputs[0].shape.to_string(), "[B,9,2]");
  const Tensor bad_last = make<float>({1, 4, 3}, std::vector<float>(12, 0));
  EXPECT_THROW(run_op1(OpKind::DFT, {&bad_last}, {}, 17), Error);
  EXPECT_THROW(run_op1(OpKind::DFT, {&kReal}, attrs({{"axis", i(2)}}), 17), Error);  // complex dim
  const Tensor zero = Tensor::scalar<int64_t>(0);
  EXPECT_THROW(run_op1(OpKind::DFT, {&kReal, &zero}, {}, 17), Error);
  const Tensor xi = make<int32_t>({1, 4, 1}, {1, 2, 3, 4});
  EXPECT_THROW(run_op1(OpKind::DFT, {&xi}, {}, 17), Error);
}

}  // namespace
}  // namespace kiln::test
