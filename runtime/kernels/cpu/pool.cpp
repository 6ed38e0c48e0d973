#include "runtime/kernels/cpu/pool.h"

#include <algorithm>
#include <limits>
#include <stdexcept>

#include "runtime/kernels/cpu/pool_rows.h"
#include "runtime/kernels/cpu/sliding_window.h"
#include "runtime/threadpool/thread_pool.h"

namespace {

int64_t extent(int64_t in, int64_t k, int64_t stride, int64_t p0, int64_t p1, int64_t dil) {
  return (in + p0 + p1 - dil * (k - 1) - 1) / stride + 1;
}

void validate(const KilnPool2dShape& s) {
  const bool ok = s.N >= 0 && s.C > 0 && s.H > 0 && s.W > 0 && s.KH > 0 && s.KW > 0 &&
                  s.stride_h > 0 && s.stride_w > 0 && s.dilation_h > 0 && s.dilation_w > 0 &&
                  s.pad_top >= 0 && s.pad_left >= 0 && s.pad_bottom >= 0 && s.pad_right >= 0 &&
                  extent(s.H, s.KH, s.stride_h, s.pad_top, s.pad_bottom, s.dilation_h) > 0 &&
                  extent(s.W, s.KW, s.stride_w, s.pad_left, s.pad_right, s.dilation_w) > 0;
  if (!ok) throw std::invalid_argument("kiln_max_pool2d: inconsistent shape");
}

// Splits `planes` over the pool (or runs them here) in contiguous ranges: fn(begin, end).
template <typename Fn>
void for_plane_ranges(int64_t planes, kiln::ThreadPool* pool, Fn run) {
  if (pool && planes > 1) {
    pool->parallel_for(planes, run);
  } else {
    run(0, planes);
  }
}

// The mean of x[0, hw): eight partial sums (vectorizable), the same order for every thread count.
void plane_mean(const float* x, int64_t hw, float* y) {
  float part[8] = {};
  int64_t i = 0;
  for (; i + 8 <= hw; i += 8) {
    for (int j = 0; j < 8; ++j) part[j] += x[i + j];
  }
  float sum = 0.0f;
  for (float v : part) sum += v;
  for (; i < hw; ++i) sum += x[i];
  *y = sum / static_cast<float>(hw);
}

}  // namespace

extern "C" {

int64_t kiln_pool2d_output_height(const KilnPool2dShape* s) {
  validate(*s);
  return extent(s->H, s->KH, s->stride_h, s->pad_top, s->pad_bottom, s->dilation_h);
}

int64_t kiln_pool2d_output_width(const KilnPool2dShape* s) {
  validate(*s);
  return extent(s->W, s->KW, s->stride_w, s->pad_left, s->pad_right, s->dilation_w);
}

void kiln_max_pool2d(const KilnPool2dShape* shape, const float* X, float* Y,
                     kiln::ThreadPool* pool) {
  const KilnPool2dShape& s = *shape;
  const int64_t oh = kiln_pool2d_output_height(shape), ow = kiln_pool2d_output_width(shape);
  const kiln::cpu::PlaneWindow g{s.H,        s.W,          oh,           ow,
                                 s.KH,       s.KW,         s.stride_h,   s.stride_w,
                                 s.pad_top,  s.pad_left,   s.dilation_h, s.dilation_w};
  const kiln::cpu::Isa isa = kiln::cpu::active_isa();
  for_plane_ranges(s.N * s.C, pool, [&](int64_t b, int64_t e) {
    const float* xb = X + b * s.H * s.W;
    float* yb = Y + b * oh * ow;
    if (kiln::cpu::max_pool_rows(isa, g, e - b, xb, yb)) return;
    for (int64_t p = 0; p < e - b; ++p) {
      kiln::cpu::window_plane(isa, g, kiln::cpu::WindowOp::Max, nullptr, 0.0f, false,
                              xb + p * s.H * s.W, yb + p * oh * ow);
    }
  });
}

void kiln_global_average_pool(int64_t N, int64_t C, int64_t H, int64_t W, const float* X, float* Y,
                              kiln::ThreadPool* pool) {
  const int64_t hw = H * W;
  // A network's global pool reads a few hundred KB, most of it still in the cache of the core
  // that wrote it: a second thread pays more to fetch its half than it saves (ResNet-50's
  // 2048 x 7 x 7: 8.7 us on one thread, 10.8 us on two).
  constexpr int64_t kMinParallelFloats = int64_t{1} << 18;
  if (N * C * hw < kMinParallelFloats) pool = nullptr;
  for_plane_ranges(N * C, pool, [&](int64_t b, int64_t e) {
    for (int64_t p = b; p < e; ++p) plane_mean(X + p * hw, hw, Y + p);
  });
}

}  // extern "C"
