// Small helpers shared by reference kernels: strides, multi-index walking, broadcasting.
#pragma once

#include <cstdint>
#include <vector>

#include "ir/tensor.h"

namespace kiln::ref {

// Row-major strides of `dims` (in elements).
inline std::vector<int64_t> strides_of(const Dims& dims) {
  std::vector<int64_t> s(dims.size(), 1);
  for (int64_t i = static_cast<int64_t>(dims.size()) - 2; i >= 0; --i) {
    s[static_cast<size_t>(i)] = s[static_cast<size_t>(i) + 1] * dims[static_cast<size_t>(i) + 1];
  }
  return s;
}

// Strides of `in` viewed as broadcast to `out` (right-aligned; broadcast dims get stride 0).
inline std::vector<int64_t> broadcast_strides(const Dims& in, const Dims& out) {
  std::vector<int64_t> s(out.size(), 0);
  const std::vector<int64_t> own = strides_of(in);
  const size_t off = out.size() - in.size();
  for (size_t i = 0; i < in.size(); ++i) s[off + i] = in[i] == 1 ? 0 : own[i];
  return s;
}

// Numpy broadcast of concrete dims; fails on a mismatch.
inline Dims broadcast_dims(const Dims& a, const Dims& b) {
  const size_t r = std::max(a.size(), b.size());
  Dims out(r);
  for (size_t i = 0; i < r; ++i) {
    const int64_t da = i < r - a.size() ? 1 : a[i - (r - a.size())];
    const int64_t db = i < r - b.size() ? 1 : b[i - (r - b.size())];
    if (da != db && da != 1 && db != 1) {
      fail("cannot broadcast ", dims_to_string(a), " with ", dims_to_string(b));
    }
    out[i] = da == 1 ? db : da;
  }
  return out;
}

// Walks every index of `dims` in row-major order, tracking one offset per strided operand.
// Usage: MultiIndex it(out_dims, {sa, sb}); for (i...) { use it.offset(0), it.offset(1); it.next(); }
class MultiIndex {
 public:
  MultiIndex(const Dims& dims, std::vector<std::vector<int64_t>> strides)
      : dims_(dims), strides_(std::move(strides)), idx_(dims.size(), 0), off_(strides_.size(), 0) {}
  int64_t offset(size_t operand) const { return off_[operand]; }
  const std::vector<int64_t>& index() const { return idx_; }
  void next() {
    for (int64_t d = static_cast<int64_t>(dims_.size()) - 1; d >= 0; --d) {
      const size_t du = static_cast<size_t>(d);
      ++idx_[du];
      for (size_t k = 0; k < off_.size(); ++k) off_[k] += strides_[k][du];
      if (idx_[du] < dims_[du]) return;
      for (size_t k = 0; k < off_.size(); ++k) off_[k] -= strides_[k][du] * idx_[du];
      idx_[du] = 0;
    }
  }

 private:
  Dims dims_;
  std::vector<std::vector<int64_t>> strides_;
  std::vector<int64_t> idx_;
  std::vector<int64_t> off_;
};

// Float math on any element type: half/bfloat16 go through float, others through themselves.
template <typename T>
using compute_t = std::conditional_t<std::is_same_v<T, half> || std::is_same_v<T, bfloat16>,
                                     float, T>;

}  // namespace kiln::ref
