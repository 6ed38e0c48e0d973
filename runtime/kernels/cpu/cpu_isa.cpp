#include "runtime/kernels/cpu/cpu_isa.h"

#include <atomic>
#include <stdexcept>
#include <string>

namespace kiln::cpu {

namespace {
constexpr int kNotForced = -1;
std::atomic<int> g_forced{kNotForced};
}  // namespace

const char* isa_name(Isa isa) {
  switch (isa) {
    case Isa::Scalar:
      return "scalar";
    case Isa::Avx2:
      return "avx2";
    case Isa::Avx512:
      return "avx512";
  }
  return "?";
}

Isa best_isa() {
#if defined(__x86_64__) || defined(__i386__)
  static const Isa best = [] {
    __builtin_cpu_init();
    if (__builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") &&
        __builtin_cpu_supports("avx512vl") && __builtin_cpu_supports("fma")) {
      return Isa::Avx512;
    }
    if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma")) return Isa::Avx2;
    return Isa::Scalar;
  }();
  return best;
#else
  return Isa::Scalar;
#endif
}

bool isa_supported(Isa isa) { return static_cast<int>(isa) <= static_cast<int>(best_isa()); }

Isa active_isa() {
  const int forced = g_forced.load(std::memory_order_relaxed);
  return forced == kNotForced ? best_isa() : static_cast<Isa>(forced);
}

void force_isa(Isa isa) {
  if (!isa_supported(isa)) {
    throw std::invalid_argument(std::string("cannot force ISA ") + isa_name(isa) +
                                ": this CPU supports up to " + isa_name(best_isa()));
  }
  g_forced.store(static_cast<int>(isa), std::memory_order_relaxed);
}

void reset_isa() { g_forced.store(kNotForced, std::memory_order_relaxed); }

}  // namespace kiln::cpu
