// Helpers of the int8 CPU kernel tests: random s8 weights, the reference kernels, and forcing
// each int8 kernel (every ISA level, and AMX tiles or not on AVX-512).
#pragma once

#include <cmath>
#include <random>
#include <string>
#include <vector>

#include "runtime/kernels/cpu/qgemm.h"
#include "runtime/kernels/ref/evaluate.h"
#include "tests/kernels_cpu/cpu_kernel_test_util.h"

namespace kiln::test {

inline Tensor random_s8(Dims dims, std::mt19937& rng) {
  Tensor t(DType::I8, std::move(dims));
  for (int64_t i = 0; i < t.numel(); ++i)
    t.data<int8_t>()[i] = static_cast<int8_t>(static_cast<int>(rng() % 255) - 127);
  return t;
}

inline Tensor reference(OpKind op, const Attributes& attrs, std::vector<const Tensor*> inputs) {
  OpCall call;
  call.op = op;
  call.opset = 21;
  call.attrs = &attrs;
  call.node_name = "q";
  call.inputs = std::move(inputs);
  return evaluate_op(call).at(0);
}

// One int8 kernel: an ISA level, and on AVX-512 with or without AMX tiles.
struct QKernel {
  cpu::Isa isa;
  bool amx;
};

inline std::vector<QKernel> qkernels() {
  std::vector<QKernel> out;
  for (cpu::Isa isa : supported_isas()) {
    out.push_back({isa, false});
    if (isa == cpu::Isa::Avx512 && cpu::amx_usable()) out.push_back({isa, true});
  }
  return out;
}

// Forces one kernel for the scope.
class ForceQKernel {
 public:
  explicit ForceQKernel(QKernel k) : isa_(k.isa) { cpu::set_amx_allowed(k.amx); }
  ~ForceQKernel() { cpu::set_amx_allowed(true); }
  ForceQKernel(const ForceQKernel&) = delete;
  ForceQKernel& operator=(const ForceQKernel&) = delete;

 private:
  ForceIsa isa_;
};

// Equal up to the f32 epilogue's rounding (rtol 1e-6).
inline void expect_near(const Tensor& got, const Tensor& want, const std::string& what) {
  ASSERT_EQ(got.numel(), want.numel()) << what;
  int bad = 0;
  for (int64_t i = 0; i < got.numel() && bad < 5; ++i) {
    const float a = got.data<float>()[i], b = want.data<float>()[i];
    if (!(std::fabs(a - b) <= 1e-6f * std::fabs(b) + 1e-7f)) {
      ADD_FAILURE() << what << " [" << i << "]: " << a << " vs " << b;
      ++bad;
    }
  }
}

}  // namespace kiln::test
