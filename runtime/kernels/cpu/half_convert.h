// fp16 <-> f32 conversion of contiguous runs, for weights stored as fp16 (convert-fp16) and
// widened when a kernel reads them: F16C (vcvtph2ps, 16 lanes) where the CPU has AVX-512,
// else a scalar loop. Both round to nearest even (identical results but for NaN payloads).
#pragma once

#include <cstdint>

namespace kiln::cpu {

void widen_half(const uint16_t* src, float* dst, int64_t n);
void narrow_to_half(const float* src, uint16_t* dst, int64_t n);

// The AVX-512 bodies (half_convert_avx512.cpp, compiled with its ISA flags).
void widen_half_avx512(const uint16_t* src, float* dst, int64_t n);
void narrow_to_half_avx512(const float* src, uint16_t* dst, int64_t n);

}  // namespace kiln::cpu
