// Shared pieces of the dense conv path tests (few-taps, Winograd, residual): forcing a path,
// the reference conv of a shape, bit comparison, and one run with the residual added either in
// the kernel's tiles or through a `post` epilogue (which must finish each element once).
#pragma once

#include <algorithm>
#include <cstring>
#include <sstream>
#include <string>
#include <vector>

#include "runtime/kernels/cpu/conv.h"
#include "runtime/kernels/cpu/conv_outvec.h"
#include "runtime/threadpool/thread_pool.h"
#include "tests/kernels_cpu/cpu_kernel_test_util.h"

namespace kiln::test {

// Forces one dense conv path for the scope (the rule still decides when it cannot run).
class ForceDenseConvPath {
 public:
  explicit ForceDenseConvPath(cpu::DenseConvPath p) { cpu::force_dense_conv_path(&p); }
  ~ForceDenseConvPath() { cpu::force_dense_conv_path(nullptr); }
  ForceDenseConvPath(const ForceDenseConvPath&) = delete;
  ForceDenseConvPath& operator=(const ForceDenseConvPath&) = delete;
};

inline std::string describe_conv(const KilnConv2dShape& s) {
  // Appended piece by piece: GCC 12 warns (-Wrestrict, falsely) on long operator+ chains.
  std::ostringstream o;
  o << "N" << s.N << " C" << s.C << " " << s.H << "x" << s.W << " M" << s.M << " k" << s.KH
    << "x" << s.KW << " s" << s.stride_h << " p" << s.pad_top << s.pad_left << s.pad_bottom
    << s.pad_right << " d" << s.dilation_h << "," << s.dilation_w << " g" << s.group;
  return o.str();
}

inline bool same_bits(const std::vector<float>& a, const std::vector<float>& b) {
  return a.size() == b.size() && std::memcmp(a.data(), b.data(), sizeof(float) * a.size()) == 0;
}

// The reference kernel's Conv of X (N x C x H x W) with W and an optional bias, for `s`.
inline Tensor reference_conv(const KilnConv2dShape& s, const Tensor& x, const Tensor& w,
                             const Tensor* bias) {
  Attributes at;
  at.set("strides", Attribute::of_ints({s.stride_h, s.stride_w}));
  at.set("pads", Attribute::of_ints({s.pad_top, s.pad_left, s.pad_bottom, s.pad_right}));
  at.set("dilations", Attribute::of_ints({s.dilation_h, s.dilation_w}));
  at.set("group", Attribute::of_int(s.group));
  return run_op1(OpKind::Conv, {&x, &w, bias}, at);
}

// Y of `s` with bias / ReLU, and the residual `res` (or none) added in the kernel's tiles
// (in_kernel) or by a `post` epilogue after the kernel's bias (the ReLU then here, as generated
// code does it).
inline std::vector<float> run_conv_residual(const KilnConv2dShape& s, bool bias, bool relu,
                                            const std::vector<float>& packed, const Tensor& x,
                                            const Tensor& b, const Tensor* res, bool in_kernel,
                                            ThreadPool* pool) {
  const int64_t oh = kiln_conv2d_output_height(&s), ow = kiln_conv2d_output_width(&s);
  std::vector<float> y(static_cast<size_t>(s.N * s.M * oh * ow), -7.0f);
  std::vector<int> visits(y.size(), 0);
  ResidualPost post{y.data(), res ? res->data<float>() : nullptr, &visits};
  KilnGemmEpilogue ep{bias ? b.data<float>() : nullptr, nullptr, relu ? 1 : 0, nullptr, nullptr};
  if (res && in_kernel) {
    kiln_conv2d_residual(&s, packed.data(), x.data<float>(), &ep, res->data<float>(), y.data(),
                         pool);
    return y;
  }
  if (res) ep.relu = 0, ep.post = &ResidualPost::add, ep.post_closure = &post;
  kiln_conv2d_ex(&s, packed.data(), x.data<float>(), &ep, y.data(), pool);
  if (res) {
    EXPECT_TRUE(std::all_of(visits.begin(), visits.end(), [](int v) { return v == 1; }))
        << describe_conv(s) << ": post must see each element once";
    for (float& v : y) v = relu && v < 0.0f ? 0.0f : v;
  }
  return y;
}

}  // namespace kiln::test
