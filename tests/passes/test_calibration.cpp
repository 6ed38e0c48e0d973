// Calibration range methods on known distributions, and the .npy folder loader's batching.
#include <gtest/gtest.h>

#include <random>

#include "passes/calibration.h"
#include "passes/calibration_data.h"
#include "tests/passes/quantize_test_util.h"

namespace kiln::test {
namespace {

Range observe(CalibrationMethod m, const std::vector<float>& v, double percentile = 99.99) {
  RangeObserver o(m, percentile);
  // Two batches per round, as calibrate() feeds them.
  const int64_t half = static_cast<int64_t>(v.size() / 2);
  for (int round = 0; round < (o.needs_second_round() ? 2 : 1); ++round) {
    if (round == 1) o.begin_second_round();
    o.observe(v.data(), half);
    o.observe(v.data() + half, static_cast<int64_t>(v.size()) - half);
  }
  return o.range();
}

std::vector<float> gaussian_with_outliers(size_t n, bool relu) {
  std::mt19937 rng(1);
  std::normal_distribution<float> d(0.0f, 1.0f);
  std::vector<float> v(n);
  for (float& x : v) x = relu ? std::max(d(rng), 0.0f) : d(rng);
  for (size_t i = 0; i < 10; ++i) v[i * 997] = (i % 2 || relu) ? 60.0f : -60.0f;
  return v;
}

TEST(Calibration, MinMaxIsTheExactRange) {
  std::mt19937 rng(2);
  std::uniform_real_distribution<float> d(-3.0f, 5.0f);
  std::vector<float> v(5000);
  for (float& x : v) x = d(rng);
  const Range r = observe(CalibrationMethod::MinMax, v);
  EXPECT_EQ(r.lo, *std::min_element(v.begin(), v.end()));
  EXPECT_EQ(r.hi, *std::max_element(v.begin(), v.end()));
}

TEST(Calibration, PercentileClipsOutliers) {
  const std::vector<float> v = gaussian_with_outliers(200000, false);
  // 1% in each tail of N(0, 1): +-2.326; histogram bins are 120 / 2048 wide.
  const Range r = observe(CalibrationMethod::Percentile, v, 99.0);
  EXPECT_NEAR(r.lo, -2.326, 0.1);
  EXPECT_NEAR(r.hi, 2.326, 0.1);
  const Range wide = observe(CalibrationMethod::Percentile, v, 99.99);
  EXPECT_GT(wide.hi, 3.2);
  EXPECT_LT(wide.hi, 4.5);
}

TEST(Calibration, EntropyClipsOutliersButKeepsTheBulk) {
  // ReLU'd N(0, 1) with a few values at 60: KL keeps the body (|x| up to ~4) and clips the rest.
  const Range r = observe(CalibrationMethod::Entropy, gaussian_with_outliers(200000, true));
  EXPECT_EQ(r.lo, 0.0f);
  EXPECT_GT(r.hi, 2.5f);
  EXPECT_LT(r.hi, 8.0f);
  // Uniform data has nothing worth clipping: the threshold stays near the maximum.
  std::mt19937 rng(3);
  std::uniform_real_distribution<float> d(0.0f, 1.0f);
  std::vector<float> u(100000);
  for (float& x : u) x = d(rng);
  EXPECT_GT(observe(CalibrationMethod::Entropy, u).hi, 0.9f);
}

// A uniform body over the first half of the span plus point masses (zeros, a repeated value)
// that quantization does not spread: KL's answer is the body's end, exactly half the span.
// Histogrammed with the body, the same point masses read as information lost at every wide
// threshold and pulled the choice down (MNIST conv1: 8% of the tensor clipped).
TEST(Calibration, EntropyKeepsPointMassesOutOfTheSpread) {
  std::vector<double> body(2048, 0.0), points(2048, 0.0);
  for (int b = 0; b < 1024; ++b) body[static_cast<size_t>(b)] = 100;
  points[0] = 1e6;
  points[300] = 1e5;
  EXPECT_EQ(entropy_threshold(body, points, 8.0f, 255), 4.0f);
  EXPECT_EQ(entropy_threshold(body, std::vector<double>(2048, 0.0), 8.0f, 255), 4.0f);
  std::vector<double> merged = body;
  merged[0] += points[0];
  merged[300] += points[300];
  EXPECT_LT(entropy_threshold(merged, std::vector<double>(2048, 0.0), 8.0f, 255), 2.0f);
  // A point mass beyond the body is clipped only at a cost: the threshold keeps it.
  points[1500] = 1e5;
  EXPECT_EQ(entropy_threshold(body, points, 8.0f, 255), 8.0f * 1501 / 2048);
  EXPECT_THROW(entropy_threshold(body, std::vector<double>(10, 0.0), 8.0f, 255), Error);
}

TEST(Calibration, EntropyRangeOfAReluWithABackgroundValue) {
  // Like MNIST's conv1 after ReLU: runs of zeros and of one background value (constant image
  // regions), and sparse stroke values spread up to 4.
  std::mt19937 rng(5);
  std::uniform_real_distribution<float> d(0.0f, 4.0f);
  std::vector<float> v;
  for (int run = 0; run < 4000; ++run) {
    v.insert(v.end(), 30, 0.0f);
    v.insert(v.end(), 30, 0.3f);
    for (int i = 0; i < 10; ++i) v.push_back(d(rng));
  }
  const Range r = observe(CalibrationMethod::Entropy, v);
  EXPECT_EQ(r.lo, 0.0f);
  EXPECT_GT(r.hi, 3.6f);
  EXPECT_LE(r.hi, *std::max_element(v.begin(), v.end()));
}

TEST(Calibration, ParsesMethodNames) {
  EXPECT_EQ(parse_calibration_method("entropy"), CalibrationMethod::Entropy);
  try {
    parse_calibration_method("kl");
    ADD_FAILURE();
  } catch (const Error& e) {
    EXPECT_STREQ(e.what(), "--calib-method: 'kl' is not one of minmax, percentile, entropy");
  }
}

TEST(CalibrationData, CutsFilesIntoModelBatches) {
  Graph g;
  build_small_cnn(g);  // batch 2
  const auto dir = quant_temp_dir("batches");
  std::mt19937 rng(4);
  // 3 samples in one file and 2 single samples without a batch axis: 5 samples, 2 batches.
  const Tensor a = uniform({3, 8, 10, 10}, rng, 0, 1);
  const Tensor b = uniform({8, 10, 10}, rng, 0, 1);
  write_npy(dir / "a.npy", a);
  write_npy(dir / "b.npy", b);
  write_npy(dir / "c.npy", b);
  const CalibrationData d = load_calibration_data(dir.string(), g);
  EXPECT_EQ(d.samples, 5);
  ASSERT_EQ(d.batches.size(), 2u);
  const Tensor& second = d.batches[1].at("x");
  ASSERT_EQ(second.dims(), (Dims{2, 8, 10, 10}));
  // Batch 1 = sample 2 of a.npy, then b.npy.
  EXPECT_EQ(second.data<float>()[0], a.data<float>()[2 * 800]);
  EXPECT_EQ(second.data<float>()[800], b.data<float>()[0]);
}

}  // namespace
}  // namespace kiln::test
