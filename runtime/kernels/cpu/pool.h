// 2-D pooling fast paths, NCHW, f32: max pool (ONNX MaxPool semantics: padding never wins, no
// indices output, floor rounding; by max_pool_rows, pool_rows.h, or each plane by window_plane,
// sliding_window.h) and global average pool. Planes are split over the pool in contiguous ranges.
#pragma once

#include <cstdint>

namespace kiln {
class ThreadPool;
}

extern "C" {

struct KilnPool2dShape {
  int64_t N, C, H, W;
  int64_t KH, KW;
  int64_t stride_h, stride_w;
  int64_t pad_top, pad_left, pad_bottom, pad_right;
  int64_t dilation_h, dilation_w;
};

// Output size (floor rounding); throws std::invalid_argument for an inconsistent shape.
int64_t kiln_pool2d_output_height(const KilnPool2dShape* shape);
int64_t kiln_pool2d_output_width(const KilnPool2dShape* shape);

// Y (N x C x OH x OW) = max over each window's in-bounds taps.
void kiln_max_pool2d(const KilnPool2dShape* shape, const float* X, float* Y,
                     kiln::ThreadPool* pool);

// Y (N x C) = mean of each H x W plane of X (N x C x H x W).
void kiln_global_average_pool(int64_t N, int64_t C, int64_t H, int64_t W, const float* X, float* Y,
                              kiln::ThreadPool* pool);

}  // extern "C"
