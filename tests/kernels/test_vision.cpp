// GridSample, AffineGrid, RoiAlign and NonMaxSuppression. Expected values come from the ONNX
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

// X: 1x1x3x4 holding 1..12; grid 1x2x3x2 with points inside, on and outside the borders.
Tensor gs_x() {
  std::vector<float> v(12);
  for (int k = 0; k < 12; ++k) v[static_cast<size_t>(k)] = static_cast<float>(k + 1);
  return make<float>({1, 1, 3, 4}, v);
}
const Tensor kGrid = make<float>({1, 2, 3, 2}, {-1, -1, 0.5f, 0.2f, 1.2f, -0.9f, 0, 0, -1.3f, 0.7f, 0.9f, 1.1f});

Tensor grid_sample(const char* mode, const char* pad, int64_t ac, int opset) {
  const Tensor x = gs_x();
  return run_op1(OpKind::GridSample, {&x, &kGrid},
                 attrs({{"mode", s(mode)}, {"padding_mode", s(pad)}, {"align_corners", i(ac)}}), opset);
}

TEST(GridSample, LinearPaddingModes) {
  expect_close(grid_sample("linear", "zeros", 0, 20),
               make<float>({1, 1, 2, 3}, {0.25f, 8.700001f, 0.2599998f, 6.5f, 0, 2.940001f}), 1e-5, 1e-5);
  expect_close(grid_sample("linear", "zeros", 1, 20),
               make<float>({1, 1, 2, 3}, {1, 8.05f, 3.079999f, 6.5f, 4.290001f, 10.665f}), 1e-5, 1e-5);
  expect_close(grid_sample("linear", "border", 1, 20),
               make<float>({1, 1, 2, 3}, {1, 8.05f, 4.4f, 6.5f, 7.8f, 11.85f}), 1e-5, 1e-5);
  expect_close(grid_sample("linear", "reflection", 0, 20),
               make<float>({1, 1, 2, 3}, {1, 8.700001f, 4, 6.5f, 9.099999f, 12}), 1e-5, 1e-5);
  expect_close(grid_sample("linear", "reflection", 1, 20),
               make<float>({1, 1, 2, 3}, {1, 8.05f, 4.1f, 6.5f, 8.25f, 11.45f}), 1e-5, 1e-5);
  // Opset 16 spells the mode "bilinear"; the math is the same.
  expect_close(grid_sample("bilinear", "border", 1, 16), grid_sample("linear", "border", 1, 20));
}

TEST(GridSample, NearestAndCubic) {
  expect_close(grid_sample("nearest", "zeros", 0, 20), make<float>({1, 1, 2, 3}, {1, 7, 0, 7, 0, 0}));
  expect_close(grid_sample("nearest", "reflection", 0, 20), make<float>({1, 1, 2, 3}, {1, 7, 4, 7, 9, 12}));
  expect_close(grid_sample("cubic", "zeros", 0, 20),
               make<float>({1, 1, 2, 3}, {0.015625f, 10.64768f, 0.1869218f, 6.5f, -0.5334778f, 3.089511f}), 1e-5, 1e-5);
  expect_close(grid_sample("cubic", "border", 0, 20),
               make<float>({1, 1, 2, 3}, {0.53125f, 9.150743f, 3.556378f, 6.5f, 9.135374f, 12.11025f}), 1e-5, 1e-5);
  expect_close(grid_sample("cubic", "reflection", 1, 20),
               make<float>({1, 1, 2, 3}, {1, 8.55119f, 3.936502f, 6.5f, 8.77219f, 11.90994f}), 1e-5, 1e-5);
  expect_close(grid_sample("bicubic", "reflection", 1, 16), grid_sample("cubic", "reflection", 1, 20));
}

TEST(GridSample, VolumetricOpset20) {
  const Tensor x = make<float>({1, 1, 2, 2, 2}, {1, 2, 3, 4, 5, 6, 7, 8});
  const Tensor g = make<float>({1, 1, 1, 2, 3}, {0.1f, -0.2f, 0.3f, -0.5f, 0.5f, 0.9f});
  expect_close(run_op1(OpKind::GridSample, {&x, &g}, attrs({{"mode", s("linear")}}), 20),
               make<float>({1, 1, 1, 1, 2}, {5.4f, 4.2f}), 1e-5, 1e-5);
  EXPECT_THROW(run_op1(OpKind::GridSample, {&x, &g}, {}, 16), Error);  // 5-D needs opset 20
}

TEST(GridSample, InferenceAndBadInput) {
  InferContext ctx;
  ctx.op = OpKind::GridSample;
  ctx.opset = 20;
  const Attributes a;
  ctx.attrs = &a;
  ValueType x{DType::F32, Shape::of_rank(4), {}}, g{DType::F32, Shape::of_rank(4), {}};
  x.shape.dims = {Dim::sym("N"), Dim::of(3), Dim::sym("H"), Dim::sym("W")};
  g.shape.dims = {Dim::sym("N"), Dim::of(7), Dim::sym("K"), Dim::of(2)};
  ctx.input_types = {&x, &g};
  ctx.input_values = {nullptr, nullptr};
  ctx.outputs.resize(1);
  infer_node(ctx);
  EXPECT_EQ(ctx.outputs[0].shape.to_string(), "[N,3,7,K]");
  g.shape.dims[3] = Dim::of(3);
  EXPECT_THROW(infer_node(ctx), Error);  // 3 coordinates for 2 spatial dims
  EXPECT_THROW(grid_sample("bilinear", "zeros", 0, 20), Error);  // opset-16 name at 20
  EXPECT_THROW(grid_sample("linear", "wrap", 0, 20), Error);
  EXPECT_THROW(grid_sample("linear", "zeros", 2, 20), Error);
}

TEST(AffineGrid, TwoDimensional) {
  const Tensor theta = make<float>({1, 2, 3}, {1, 0.2f, 0.1f, -0.3f, 0.9f, 0.05f});
  const Tensor size = make<int64_t>({4}, {1, 1, 2, 3});
  expect_close(run_op1(OpKind::AffineGrid, {&theta, &size}, {}, 20),
               make<float>({1, 2, 3, 2}, {-0.6666667f, -0.2f, 0, -0.4f, 0.6666667f, -0.6f,
                                          -0.4666667f, 0.7f, 0.2f, 0.5f, 0.8666667f, 0.3f}),
               1e-5, 1e-6);
  expect_close(run_op1(OpKind::AffineGrid, {&theta, &size}, attrs({{"align_corners", i(1)}}), 20),
               make<float>({1, 2, 3, 2}, {-1.1f, -0.55f, -0.1f, -0.85f, 0.9f, -1.15f, -0.7f,
                                          1.25f, 0.3f, 0.95f, 1.3f, 0.65f}),
               1e-5, 1e-6);
}

TEST(AffineGrid, ThreeDimensionalIdentityAndErrors) {
  // Hand-checked: the identity transform gives the pixel-centre grid (x, y, z) itself.
  const Tensor theta = make<double>({1, 3, 4}, {1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1, 0});
  const Tensor size = make<int64_t>({5}, {1, 1, 1, 2, 2});
  const Tensor y = run_op1(OpKind::AffineGrid, {&theta, &size}, {}, 20);
  expect_close(y, make<double>({1, 1, 2, 2, 3}, {-0.5, -0.5, 0, 0.5, -0.5, 0, -0.5, 0.5, 0, 0.5, 0.5, 0}));
  const Tensor bad = make<int64_t>({4}, {1, 1, 2, 2});  // 2-D size for a 3-D theta
  EXPECT_THROW(run_op1(OpKind::AffineGrid, {&theta, &bad}, {}, 20), Error);
}

// RoiAlign: X 1x2x4x4 = 0, 0.25, ..., 7.75; two rois on batch 0.
Tensor roi_x() {
  std::vector<float> v(32);
  for (int k = 0; k < 32; ++k) v[static_cast<size_t>(k)] = static_cast<float>(k) / 4;
  return make<float>({1, 2, 4, 4}, v);
}
const Tensor kRois = make<float>({2, 4}, {0, 0, 3, 3, 1, 0.5f, 2.5f, 3.7f});
const Tensor kBatch = make<int64_t>({2}, {0, 0});

Tensor roi_align(const char* ctm, const char* mode) {
  const Tensor x = roi_x();
  return run_op1(OpKind::RoiAlign, {&x, &kRois, &kBatch},
                 attrs({{"output_height", i(2)}, {"output_width", i(2)}, {"sampling_ratio", i(2)},
                        {"coordinate_transformation_mode", s(ctm)}, {"mode", s(mode)}}),
                 16);
}

TEST(RoiAlign, AvgAndMaxBothCoordinateModes) {
  expect_close(roi_align("half_pixel", "avg"),
               make<float>({2, 2, 2, 2}, {0.390625f, 0.75f, 1.828125f, 2.1875f, 4.390625f, 4.75f,
                                          5.828125f, 6.1875f, 1.01875f, 1.20625f, 2.61875f, 2.80625f,
                                          5.01875f, 5.20625f, 6.61875f, 6.80625f}));
  expect_close(roi_align("half_pixel", "max"),
               make<float>({2, 2, 2, 2}, {0.625f, 0.8203125f, 1.75f, 1.914062f, 4, 3.9375f, 5.25f,
                                          4.976562f, 0.9374999f, 0.975f, 2.4375f, 2.275001f,
                                          3.9375f, 3.575f, 5.859375f, 5.28125f}));
  expect_close(roi_align("output_half_pixel", "avg"),
               make<float>({2, 2, 2, 2}, {0.9375f, 1.3125f, 2.4375f, 2.8125f, 4.9375f, 5.3125f,
                                          6.4375f, 6.8125f, 1.64375f, 1.83125f, 3.09375f, 3.28125f,
                                          5.64375f, 5.83125f, 7.09375f, 7.28125f}));
}

TEST(RoiAlign, Opset10AdaptiveSamplingAndScale) {
  // Opset 10 behaves as opset 16's output_half_pixel (what the version converter maps it to);
  // values from the reference evaluator run at opset 16 with that mode.
  const Tensor x = roi_x();
  expect_close(run_op1(OpKind::RoiAlign, {&x, &kRois, &kBatch},
                       attrs({{"output_height", i(1)}, {"output_width", i(2)},
                              {"spatial_scale", Attribute::of_float(0.5f)}}),
                       10),
               make<float>({2, 2, 1, 2}, {0.84375f, 1.03125f, 4.84375f, 5.03125f, 1.2375f, 1.3625f,
                                          5.2375f, 5.3625f}));
}

TEST(RoiAlign, BadInputFails) {
  const Tensor x = roi_x();
  const Tensor bad_batch = make<int64_t>({2}, {0, 1});
  EXPECT_THROW(run_op1(OpKind::RoiAlign, {&x, &kRois, &bad_batch}, {}, 16), Error);
  const Tensor short_batch = make<int64_t>({1}, {0});
  EXPECT_THROW(run_op1(OpKind::RoiAlign, {&x, &kRois, &short_batch}, {}, 16), Error);
  EXPECT_THROW(run_op1(OpKind::RoiAlign, {&x, &kRois, &kBatch}, attrs({{"mode", s("min")}}), 16), Error);
  EXPECT_THROW(run_op1(OpKind::RoiAlign, {&x, &kRois, &kBatch}, attrs({{"output_height", i(0)}}), 16), Error);
}

// NonMaxSuppression: the spec's six boxes in two clusters plus one far away.
const Tensor kBoxes = make<float>({1, 6, 4}, {0, 0, 1, 1, 0, 0.1f, 1, 1.1f, 0, -0.1f, 1, 0.9f,
                                              0, 10, 1, 11, 0, 10.1f, 1, 11.1f, 0, 100, 1, 101});
const Tensor kScores = make<float>({1, 1, 6}, {0.9f, 0.75f, 0.6f, 0.95f, 0.5f, 0.3f});

TEST(NonMaxSuppression, SuppressByIouAndScore) {
  const Tensor max_out = make<int64_t>({1}, {3});
  const Tensor iou = make<float>({1}, {0.5f});
  expect_close(run_op1(OpKind::NonMaxSuppression, {&kBoxes, &kScores, &max_out, &iou}, {}, 11),
               make<int64_t>({3, 3}, {0, 0, 3, 0, 0, 0, 0, 0, 5}));
  const Tensor score = make<float>({1}, {0.4f});
  expect_close(run_op1(OpKind::NonMaxSuppression, {&kBoxes, &kScores, &max_out, &iou, &score}, {}, 11),
               make<int64_t>({2, 3}, {0, 0, 3, 0, 0, 0}));
  const Tensor two = make<int64_t>({1}, {2});
  expect_close(run_op1(OpKind::NonMaxSuppression, {&kBoxes, &kScores, &two, &iou}, {}, 11),
               make<int64_t>({2, 3}, {0, 0, 3, 0, 0, 0}));
  // No max_output_boxes_per_class: nothing is selected.
  EXPECT_EQ(run_op1(OpKind::NonMaxSuppression, {&kBoxes, &kScores}, {}, 11).dims(), (Dims{0, 3}));
}

TEST(NonMaxSuppression, CenterPointBoxes) {
  const Tensor boxes = make<float>({1, 6, 4}, {0.5f, 0.5f, 1, 1, 0.5f, 0.6f, 1, 1, 0.5f, 0.4f, 1, 1,
                                               0.5f, 10.5f, 1, 1, 0.5f, 10.6f, 1, 1, 0.5f, 100.5f, 1, 1});
  const Tensor max_out = make<int64_t>({1}, {3});
  const Tensor iou = make<float>({1}, {0.5f});
  expect_close(run_op1(OpKind::NonMaxSuppression, {&boxes, &kScores, &max_out, &iou},
                       attrs({{"center_point_box", i(1)}}), 11),
               make<int64_t>({3, 3}, {0, 0, 3, 0, 0, 0, 0, 0, 5}));
}

TEST(NonMaxSuppression, BadInputFails) {
  const Tensor scores = make<float>({1, 1, 5}, {1, 1, 1, 1, 1});
  EXPECT_THROW(run_op1(OpKind::NonMaxSuppression, {&kBoxes, &scores}, {}, 11), Error);
  const Tensor boxes3 = make<float>({1, 2, 3}, {0, 0, 0, 0, 0, 0});
  EXPECT_THROW(run_op1(OpKind::NonMaxSuppression, {&boxes3, &kScores}, {}, 11), Error);
  EXPECT_THROW(run_op1(OpKind::NonMaxSuppression, {&kBoxes, &kScores}, attrs({{"center_point_box", i(2)}}), 11), Error);
}

TEST(Vision, NanInputsNeverIndexOutOfBounds) {
  // NaN scores are never selected; NaN rois and grid points read nothing instead of garbage.
  const Tensor scores = make<float>({1, 1, 6}, {NAN, 0.75f, 0.6f, 0.95f, 0.5f, 0.3f});
  const Tensor max_out = make<int64_t>({1}, {6});
  const Tensor sel = run_op1(OpKind::NonMaxSuppression, {&kBoxes, &scores, &max_out}, {}, 11);
  for (int64_t r = 0; r < sel.dim(0); ++r) EXPECT_NE(sel.data<int64_t>()[r * 3 + 2], 0);
  const Tensor x = roi_x();
  const Tensor rois = make<float>({1, 4}, {NAN, 0, 2, 2});
  const Tensor b = make<int64_t>({1}, {0});
  EXPECT_EQ(run_op1(OpKind::RoiAlign, {&x, &rois, &b}, {}, 16).dims(), (Dims{1, 2, 1, 1}));
  const Tensor gx = gs_x();
  const Tensor grid = make<float>({1, 1, 1, 2}, {NAN, INFINITY});
  for (const char* mode : {"linear", "nearest", "cubic"}) {
    EXPECT_EQ(run_op1(OpKind::GridSample, {&gx, &grid}, attrs({{"mode", s(mode)}, {"padding_mode", s("reflection")}}), 20).numel(), 1);
  }
}

}  // namespace
}  // namespace kiln::test
