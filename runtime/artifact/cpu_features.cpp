#include "runtime/artifact/cpu_features.h"

#if defined(__x86_64__) || defined(__i386__)
#include <cpuid.h>
#endif

namespace kiln::artifact {

namespace {
constexpr std::string_view kNames[kNumCpuFeatures] = {
    "sse4.1",     "sse4.2",   "avx",      "avx2",     "fma",      "f16c",       "bmi2",
    "avx512f",    "avx512bw", "avx512vl", "avx512dq", "avx512cd", "avx512vnni", "avx512bf16",
    "avx512fp16", "avxvnni",  "amx-tile", "amx-int8", "amx-bf16"};

#if defined(__x86_64__) || defined(__i386__)
uint64_t read_xcr0() {
  uint32_t eax, edx;
  __asm__ volatile("xgetbv" : "=a"(eax), "=d"(edx) : "c"(0));
  return (uint64_t{edx} << 32) | eax;
}

uint64_t detect() {
  unsigned a, b, c, d;
  if (!__get_cpuid(1, &a, &b, &c, &d)) return 0;
  uint64_t f = 0;
  auto set = [&](bool cond, CpuFeature feat) {
    if (cond) f |= feature_bit(feat);
  };
  const bool osxsave = c & (1u << 27);
  const uint64_t xcr0 = osxsave ? read_xcr0() : 0;
  const bool os_avx = (xcr0 & 0x6) == 0x6;                 // SSE and AVX state
  const bool os_avx512 = os_avx && (xcr0 & 0xe0) == 0xe0;  // opmask, ZMM_Hi256, Hi16_ZMM
  const bool os_amx = (xcr0 & 0x60000) == 0x60000;         // XTILECFG, XTILEDATA
  set(c & (1u << 19), CpuFeature::Sse41);
  set(c & (1u << 20), CpuFeature::Sse42);
  set(os_avx && (c & (1u << 28)), CpuFeature::Avx);
  set(os_avx && (c & (1u << 12)), CpuFeature::Fma);
  set(os_avx && (c & (1u << 29)), CpuFeature::F16c);
  unsigned max_leaf = __get_cpuid_max(0, nullptr);
  if (max_leaf >= 7) {
    __cpuid_count(7, 0, a, b, c, d);
    const unsigned max_sub = a;
    set(os_avx && (b & (1u << 5)), CpuFeature::Avx2);
    set(b & (1u << 8), CpuFeature::Bmi2);
    set(os_avx512 && (b & (1u << 16)), CpuFeature::Avx512f);
    set(os_avx512 && (b & (1u << 17)), CpuFeature::Avx512dq);
    set(os_avx512 && (b & (1u << 28)), CpuFeature::Avx512cd);
    set(os_avx512 && (b & (1u << 30)), CpuFeature::Avx512bw);
    set(os_avx512 && (b & (1u << 31)), CpuFeature::Avx512vl);
    set(os_avx512 && (c & (1u << 11)), CpuFeature::Avx512vnni);
    set(os_avx512 && (d & (1u << 23)), CpuFeature::Avx512fp16);
    set(os_amx && (d & (1u << 22)), CpuFeature::AmxBf16);
    set(os_amx && (d & (1u << 24)), CpuFeature::AmxTile);
    set(os_amx && (d & (1u << 25)), CpuFeature::AmxInt8);
    if (max_sub >= 1) {
      __cpuid_count(7, 1, a, b, c, d);
      set(os_avx && (a & (1u << 4)), CpuFeature::AvxVnni);
      set(os_avx512 && (a & (1u << 5)), CpuFeature::Avx512bf16);
    }
  }
  return f;
}
#else
uint64_t detect() { return 0; }
#endif
}  // namespace

std::string_view cpu_feature_name(CpuFeature f) {
  const auto i = static_cast<uint32_t>(f);
  return i < kNumCpuFeatures ? kNames[i] : std::string_view("?");
}

std::optional<CpuFeature> cpu_feature_from_name(std::string_view name) {
  for (uint32_t i = 0; i < kNumCpuFeatures; ++i) {
    if (kNames[i] == name) return static_cast<CpuFeature>(i);
  }
  return std::nullopt;
}

std::string cpu_features_to_string(uint64_t mask) {
  std::string s;
  for (uint32_t i = 0; i < 64; ++i) {
    if (!(mask & (uint64_t{1} << i))) continue;
    if (!s.empty()) s += ", ";
    s += i < kNumCpuFeatures ? std::string(kNames[i]) : "bit " + std::to_string(i);
  }
  return s.empty() ? "none" : s;
}

uint64_t host_cpu_features() {
  static const uint64_t features = detect();
  return features;
}

}  // namespace kiln::artifact
