// A dense tensor with a known dtype and concrete dims: initializers, constants, kernel I/O.
// Storage is shared and 64-byte aligned; copies of a Tensor alias the same bytes.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "ir/dtype.h"
#include "ir/error.h"

namespace kiln {

using Dims = std::vector<int64_t>;

// Product of dims, failing (not wrapping) on negative dims or int64 overflow.
int64_t checked_numel(const Dims& dims);
std::string dims_to_string(const Dims& dims);  // "2x3x4", "scalar" for rank 0

class Tensor {
 public:
  Tensor() = default;
  // Allocates zero-filled storage.
  Tensor(DType dtype, Dims dims);
  // Wraps external bytes; `keep_alive` owns them (e.g. an mmap) and is released with the last copy.
  static Tensor borrow(DType dtype, Dims dims, void* data, std::shared_ptr<void> keep_alive);

  template <typename T>
  static Tensor from_vector(const std::vector<T>& v, Dims dims) {
    Tensor t(dtype_of<T>::value, std::move(dims));
    KILN_CHECK(static_cast<size_t>(t.numel()) == v.size(), "from_vector: ", v.size(),
               " values for dims ", dims_to_string(t.dims()));
    for (size_t i = 0; i < v.size(); ++i) t.data<T>()[i] = v[i];
    return t;
  }
  template <typename T>
  static Tensor scalar(T v) {
    return from_vector<T>({v}, {});
  }

  bool defined() const { return dtype_ != DType::Undefined; }
  DType dtype() const { return dtype_; }
  const Dims& dims() const { return dims_; }
  int64_t rank() const { return static_cast<int64_t>(dims_.size()); }
  int64_t dim(int64_t i) const { return dims_.at(static_cast<size_t>(i)); }
  int64_t numel() const { return numel_; }
  size_t nbytes() const { return static_cast<size_t>(numel_) * dtype_size(dtype_); }

  void* raw() { return data_; }
  const void* raw() const { return data_; }
  template <typename T>
  T* data() {
    check_type(dtype_of<T>::value);
    return static_cast<T*>(data_);
  }
  template <typename T>
  const T* data() const {
    check_type(dtype_of<T>::value);
    return static_cast<const T*>(data_);
  }
  template <typename T>
  std::span<const T> span() const {
    return {data<T>(), static_cast<size_t>(numel_)};
  }

  // Same bytes, new dims (numel must match).
  Tensor reshaped(Dims dims) const;
  // Deep copy.
  Tensor clone() const;

  // Element i converted to double / int64 (for shape inputs, scalars, comparisons in tests).
  double as_double(int64_t i) const;
  int64_t as_int64(int64_t i) const;
  std::vector<int64_t> to_int64_vector() const;
  std::vector<float> to_float_vector() const;

  bool bytes_equal(const Tensor& other) const;
  std::string describe() const;  // "f32[2x3]"

 private:
  void check_type(DType want) const;
  DType dtype_ = DType::Undefined;
  Dims dims_;
  int64_t numel_ = 0;
  std::shared_ptr<void> storage_;
  void* data_ = nullptr;
};

// Calls fn.template operator()<T>() with the C++ type of `dtype`, or fails naming `what`.
template <typename Fn>
decltype(auto) dispatch_dtype(DType dtype, const char* what, Fn&& fn) {
  switch (dtype) {
    case DType::F32: return fn.template operator()<float>();
    case DType::F64: return fn.template operator()<double>();
    case DType::F16: return fn.template operator()<half>();
    case DType::BF16: return fn.template operator()<bfloat16>();
    case DType::I8: return fn.template operator()<int8_t>();
    case DType::U8: return fn.template operator()<uint8_t>();
    case DType::I16: return fn.template operator()<int16_t>();
    case DType::U16: return fn.template operator()<uint16_t>();
    case DType::I32: return fn.template operator()<int32_t>();
    case DType::U32: return fn.template operator()<uint32_t>();
    case DType::I64: return fn.template operator()<int64_t>();
    case DType::U64: return fn.template operator()<uint64_t>();
    case DType::Bool: return fn.template operator()<bool>();
    default: fail_unsupported(what, ": dtype ", dtype_name(dtype), " is not supported");
  }
}

}  // namespace kiln
