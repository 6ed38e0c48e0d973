// CPU features a `.kiln` artifact's code may require, as bits in its header. The code generator
// records the features it compiled for; the runtime refuses an artifact whose features the
// running CPU (and OS, for AVX/AVX-512/AMX register state) does not provide. Names are LLVM's
// target-feature spellings so codegen can pass them through unchanged.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace kiln::artifact {

enum class CpuFeature : uint32_t {
  Sse41 = 0,
  Sse42 = 1,
  Avx = 2,
  Avx2 = 3,
  Fma = 4,
  F16c = 5,
  Bmi2 = 6,
  Avx512f = 7,
  Avx512bw = 8,
  Avx512vl = 9,
  Avx512dq = 10,
  Avx512cd = 11,
  Avx512vnni = 12,
  Avx512bf16 = 13,
  Avx512fp16 = 14,
  AvxVnni = 15,
  AmxTile = 16,
  AmxInt8 = 17,
  AmxBf16 = 18,
};
inline constexpr uint32_t kNumCpuFeatures = 19;
inline constexpr uint64_t kKnownCpuFeatureMask = (uint64_t{1} << kNumCpuFeatures) - 1;

inline constexpr uint64_t feature_bit(CpuFeature f) {
  return uint64_t{1} << static_cast<uint32_t>(f);
}

std::string_view cpu_feature_name(CpuFeature f);  // "avx512f"
std::optional<CpuFeature> cpu_feature_from_name(std::string_view name);
// "avx2, fma" for the known bits of `mask`, then "bit N" for unknown ones; "none" if empty.
std::string cpu_features_to_string(uint64_t mask);

// Features of the running CPU, detected once with CPUID/XGETBV (0 on non-x86 hosts).
uint64_t host_cpu_features();

}  // namespace kiln::artifact
