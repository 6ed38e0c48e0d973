#include "ir/tensor.h"

#include <cstdlib>
#include <cstring>
#include <limits>

namespace kiln {

int64_t checked_numel(const Dims& dims) {
  int64_t n = 1;
  for (int64_t d : dims) {
    KILN_CHECK(d >= 0, "negative dimension ", d, " in shape ", dims_to_string(dims));
    if (d != 0 && n > std::numeric_limits<int64_t>::max() / d) {
      fail("element count of shape ", dims_to_string(dims), " overflows int64");
    }
    n *= d;
  }
  return n;
}

std::string dims_to_string(const Dims& dims) {
  if (dims.empty()) return "scalar";
  std::string s;
  for (size_t i = 0; i < dims.size(); ++i) {
    if (i) s += 'x';
    s += std::to_string(dims[i]);
  }
  return s;
}

namespace {
// Refuse single allocations beyond this: absurd dims must fail cleanly, not abort in new().
constexpr size_t kMaxTensorBytes = size_t{1} << 40;

std::shared_ptr<void> allocate_aligned(size_t nbytes) {
  const size_t rounded = (nbytes + 63) / 64 * 64;
  void* p = std::aligned_alloc(64, rounded == 0 ? 64 : rounded);
  if (!p) fail("out of memory allocating ", nbytes, " bytes");
  std::memset(p, 0, rounded == 0 ? 64 : rounded);
  return std::shared_ptr<void>(p, [](void* q) { std::free(q); });
}
}  // namespace

Tensor::Tensor(DType dtype, Dims dims) : dtype_(dtype), dims_(std::move(dims)) {
  KILN_CHECK(dtype_size(dtype) != 0, "tensor of dtype ", dtype_name(dtype), " is not supported");
  numel_ = checked_numel(dims_);
  const size_t es = dtype_size(dtype);
  if (static_cast<uint64_t>(numel_) > kMaxTensorBytes / es) {
    fail("tensor ", dtype_name(dtype), "[", dims_to_string(dims_), "] is too large (over 1 TiB)");
  }
  storage_ = allocate_aligned(nbytes());
  data_ = storage_.get();
}

Tensor Tensor::borrow(DType dtype, Dims dims, void* data, std::shared_ptr<void> keep_alive) {
  Tensor t;
  t.dtype_ = dtype;
  t.dims_ = std::move(dims);
  t.numel_ = checked_numel(t.dims_);
  t.storage_ = std::move(keep_alive);
  t.data_ = data;
  return t;
}

Tensor Tensor::reshaped(Dims dims) const {
  KILN_CHECK(checked_numel(dims) == numel_, "cannot reshape ", describe(), " to ",
             dims_to_string(dims));
  Tensor t = *this;
  t.dims_ = std::move(dims);
  return t;
}

Tensor Tensor::clone() const {
  Tensor t(dtype_, dims_);
  if (nbytes()) std::memcpy(t.data_, data_, nbytes());
  return t;
}

double Tensor::as_double(int64_t i) const {
  KILN_CHECK(i >= 0 && i < numel_, "element ", i, " out of range for ", describe());
  return dispatch_dtype(dtype_, "as_double", [&]<typename T>() -> double {
    return static_cast<double>(static_cast<const T*>(data_)[i]);
  });
}

int64_t Tensor::as_int64(int64_t i) const {
  KILN_CHECK(i >= 0 && i < numel_, "element ", i, " out of range for ", describe());
  return dispatch_dtype(dtype_, "as_int64", [&]<typename T>() -> int64_t {
    if constexpr (std::is_same_v<T, half> || std::is_same_v<T, bfloat16>) {
      return static_cast<int64_t>(static_cast<float>(static_cast<const T*>(data_)[i]));
    } else {
      return static_cast<int64_t>(static_cast<const T*>(data_)[i]);
    }
  });
}

std::vector<int64_t> Tensor::to_int64_vector() const {
  std::vector<int64_t> v(static_cast<size_t>(numel_));
  for (int64_t i = 0; i < numel_; ++i) v[static_cast<size_t>(i)] = as_int64(i);
  return v;
}

std::vector<float> Tensor::to_float_vector() const {
  std::vector<float> v(static_cast<size_t>(numel_));
  for (int64_t i = 0; i < numel_; ++i) v[static_cast<size_t>(i)] = static_cast<float>(as_double(i));
  return v;
}

bool Tensor::bytes_equal(const Tensor& o) const {
  return dtype_ == o.dtype_ && dims_ == o.dims_ &&
         (nbytes() == 0 || std::memcmp(data_, o.data_, nbytes()) == 0);
}

std::string Tensor::describe() const {
  return cat(dtype_name(dtype_), "[", dims_to_string(dims_), "]");
}

void Tensor::check_type(DType want) const {
  if (want != dtype_) {
    fail("tensor access as ", dtype_name(want), " but tensor is ", describe());
  }
}

}  // namespace kiln
