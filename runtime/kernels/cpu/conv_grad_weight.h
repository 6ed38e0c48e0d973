// Internal: the weight gradient of a 2-D convolution (KilnConvGradWeight) as dot products over
// output pixels, for AVX-512, with no im2col matrix and no transposing packs.
//
// dW[m, c, kh, kw] = sum over images n and output pixels p = (oh, ow) of
//   dY[n, m, p] * xpad[n, c, oh*sh + kh*dh, ow*sw + kw*dw].
// Both factors are contiguous along p once the input is rearranged: per (c, kw) (stride 1
// along H) a plane xs[r][ow] = xpad[r][ow*sw + kw*dw] of OH + (KH-1)*dh rows, in which tap
// (c, kh, kw) of pixel p is xs[kh*dh*OW + p]; with a vertical stride, one plane per (c, kh, kw).
// dY rows are used as they are. A register tile of 4 output channels x 6 taps accumulates 16
// pixels per step in 24 vector sums, over a block of images; each sum is reduced once per block
// and added to dW in image-block order. Which thread computes a dW element never changes its
// arithmetic: results ignore the thread count.
#pragma once

#include <cstdint>

namespace kiln {
class ThreadPool;
}

namespace kiln::cpu {

struct GradWeightShape {
  int64_t N, C, H, W;  // X: N x C x H x W
  int64_t M;           // dY: N x M x OH x OW; dW: M x (C / group) x KH x KW
  int64_t OH, OW, KH, KW;
  int64_t sh, sw, dh, dw, ph, pw;  // strides, dilations, begin pads
  int64_t group;
};

// Whether conv_grad_weight_dot runs on the active ISA (AVX-512 only; callers fall back to
// im2col + SGEMM otherwise).
bool conv_grad_weight_dot_available();

// dW = the weight gradient of X and dY (overwritten). `pool` may be null.
void conv_grad_weight_dot(const GradWeightShape& s, const float* x, const float* dy, float* dw,
                          ThreadPool* pool);

// The register tile (conv_grad_weight_avx512.cpp): for i < mr, j < jr,
//   c[i * ldc + j] (= or +=) sum over images n < nimg and p < P of a[n*mr + i][p] * b[n*jr + j][p]
// with mr <= 4, jr <= 6; `accumulate` adds to c instead of overwriting it.
void grad_weight_tile_avx512(int mr, int jr, int nimg, int64_t P, const float* const* a,
                             const float* const* b, float* c, int64_t ldc, bool accumulate);

}  // namespace kiln::cpu
