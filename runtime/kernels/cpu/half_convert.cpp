#include "runtime/kernels/cpu/half_convert.h"

#include "ir/dtype.h"
#include "runtime/kernels/cpu/cpu_isa.h"

namespace kiln::cpu {

void widen_half(const uint16_t* src, float* dst, int64_t n) {
  if (isa_supported(Isa::Avx512)) return widen_half_avx512(src, dst, n);
  for (int64_t i = 0; i < n; ++i) dst[i] = half::half_bits_to_float(src[i]);
}

void narrow_to_half(const float* src, uint16_t* dst, int64_t n) {
  if (isa_supported(Isa::Avx512)) return narrow_to_half_avx512(src, dst, n);
  for (int64_t i = 0; i < n; ++i) dst[i] = half::float_to_half_bits(src[i]);
}

}  // namespace kiln::cpu
