// Which instruction set the optimized CPU kernels use. Detected once by CPUID; tests and
// benchmarks may force a lower (supported) level to exercise every code path.
#pragma once

namespace kiln::cpu {

enum class Isa { Scalar = 0, Avx2 = 1, Avx512 = 2 };

const char* isa_name(Isa isa);
// Highest level this CPU and OS support (AVX2 needs FMA too; AVX-512 needs F, BW, VL).
Isa best_isa();
bool isa_supported(Isa isa);
// The level kernels use now: the forced one if set, else best_isa().
Isa active_isa();
// Forces `isa` for subsequent calls (fails if unsupported); reset_isa() undoes it. Process-wide:
// meant for tests and benchmarks, not for concurrent use with running kernels.
void force_isa(Isa isa);
void reset_isa();

}  // namespace kiln::cpu
