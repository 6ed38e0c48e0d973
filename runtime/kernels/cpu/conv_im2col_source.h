// Internal: the B operand of the implicit-GEMM convolution. Row k of im2col(X) is input channel
// c = k / (KH*KW) shifted by tap (kh, kw); column p is output pixel (p / OW, p % OW). Panels are
// packed straight from the image, one run of consecutive output pixels of one output row at a
// time, so no K x (OH*OW) im2col matrix is ever written.
#pragma once

#include <cstdint>

#include "runtime/kernels/cpu/conv.h"
#include "runtime/kernels/cpu/sgemm_driver.h"

namespace kiln::cpu {

class Im2colBSource final : public BPanelSource {
 public:
  // `x` points at the first input channel of the group for one image (Cg x H x W).
  Im2colBSource(const KilnConv2dShape& shape, int64_t out_w, const float* x)
      : s_(shape), ow_(out_w), x_(x) {}
  const float* block(const SgemmKernel& kern, int64_t k0, int64_t kc, int64_t n0, int64_t nc,
                     float* scratch) const override;

 private:
  void pack_panel(int nr, int64_t k0, int64_t kc, int64_t p0, int cols, float* dst) const;

  const KilnConv2dShape& s_;
  int64_t ow_;
  const float* x_;
};

}  // namespace kiln::cpu
