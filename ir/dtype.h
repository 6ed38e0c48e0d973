// Element types of Kiln tensors and the scalar types that represent them in C++.
#pragma once

#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>

namespace kiln {

// Numbering follows ONNX TensorProto.DataType so files and logs read the same everywhere.
enum class DType : int32_t {
  Undefined = 0,
  F32 = 1,
  U8 = 2,
  I8 = 3,
  U16 = 4,
  I16 = 5,
  I32 = 6,
  I64 = 7,
  String = 8,  // recognised so errors can name it; no kernel supports it
  Bool = 9,
  F16 = 10,
  F64 = 11,
  U32 = 12,
  U64 = 13,
  BF16 = 16,
};

// IEEE binary16 stored as raw bits; arithmetic goes through float.
struct half {
  uint16_t bits = 0;
  half() = default;
  explicit half(float f) : bits(float_to_half_bits(f)) {}
  operator float() const { return half_bits_to_float(bits); }
  static uint16_t float_to_half_bits(float f);
  static float half_bits_to_float(uint16_t h);
};

// bfloat16: the top 16 bits of a float32, rounded to nearest even.
struct bfloat16 {
  uint16_t bits = 0;
  bfloat16() = default;
  explicit bfloat16(float f) : bits(float_to_bf16_bits(f)) {}
  operator float() const {
    uint32_t u = static_cast<uint32_t>(bits) << 16;
    float f;
    std::memcpy(&f, &u, 4);
    return f;
  }
  static uint16_t float_to_bf16_bits(float f);
};

size_t dtype_size(DType t);  // bytes per element; 0 for Undefined/String
std::string_view dtype_name(DType t);  // "f32", "i64", ...
bool dtype_from_name(std::string_view name, DType* out);
bool dtype_is_valid(int32_t code);  // a code Kiln can hold in a tensor
bool is_float(DType t);             // f16, bf16, f32, f64
bool is_signed_int(DType t);
bool is_unsigned_int(DType t);
inline bool is_int(DType t) { return is_signed_int(t) || is_unsigned_int(t); }

template <typename T>
struct dtype_of;
#define KILN_DTYPE_OF(CT, DT) \
  template <>                 \
  struct dtype_of<CT> {       \
    static constexpr DType value = DType::DT; \
  };
KILN_DTYPE_OF(float, F32)
KILN_DTYPE_OF(double, F64)
KILN_DTYPE_OF(half, F16)
KILN_DTYPE_OF(bfloat16, BF16)
KILN_DTYPE_OF(int8_t, I8)
KILN_DTYPE_OF(uint8_t, U8)
KILN_DTYPE_OF(int16_t, I16)
KILN_DTYPE_OF(uint16_t, U16)
KILN_DTYPE_OF(int32_t, I32)
KILN_DTYPE_OF(uint32_t, U32)
KILN_DTYPE_OF(int64_t, I64)
KILN_DTYPE_OF(uint64_t, U64)
KILN_DTYPE_OF(bool, Bool)
#undef KILN_DTYPE_OF

}  // namespace kiln
