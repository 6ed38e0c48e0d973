// The static type of a graph value: dtype, shape with symbolic dims, optional quantization.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "ir/dtype.h"
#include "ir/tensor.h"

namespace kiln {

// A dimension is a known size, a named symbol ("batch"), or unknown (no value, no name).
struct Dim {
  int64_t value = -1;
  std::string symbol;

  static Dim of(int64_t v) { return Dim{v, {}}; }
  static Dim sym(std::string name) { return Dim{-1, std::move(name)}; }
  static Dim unknown() { return Dim{}; }
  bool is_static() const { return value >= 0; }
  bool operator==(const Dim& o) const { return value == o.value && symbol == o.symbol; }
  std::string to_string() const;  // "3", "batch", "?"
};

struct Shape {
  bool rank_known = false;
  std::vector<Dim> dims;

  static Shape unknown_rank() { return Shape{}; }
  static Shape of(const Dims& d);
  static Shape of_rank(size_t rank);  // known rank, all dims unknown
  size_t rank() const { return dims.size(); }
  bool is_static() const;
  Dims static_dims() const;  // fails unless is_static()
  bool operator==(const Shape& o) const { return rank_known == o.rank_known && dims == o.dims; }
  std::string to_string() const;  // "[1,3,batch,?]" or "[*]"
};

// Affine quantization carried on an integer value: real = (q - zero_point) * scale.
// One scale/zero point per tensor, or per channel along `axis`.
struct QuantParams {
  std::vector<float> scale;
  std::vector<int64_t> zero_point;
  int64_t axis = -1;  // -1 = per tensor
  bool operator==(const QuantParams& o) const {
    return scale == o.scale && zero_point == o.zero_point && axis == o.axis;
  }
};

struct ValueType {
  DType dtype = DType::Undefined;
  Shape shape;
  std::optional<QuantParams> quant;

  static ValueType of(DType t, const Dims& d) { return ValueType{t, Shape::of(d), {}}; }
  bool operator==(const ValueType& o) const {
    return dtype == o.dtype && shape == o.shape && quant == o.quant;
  }
  std::string to_string() const;  // "f32[1,3,224,224]"
};

}  // namespace kiln
