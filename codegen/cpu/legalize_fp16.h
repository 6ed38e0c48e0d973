// The CPU target computes fp16 graphs (convert-fp16) in f32 registers with fp16 storage (the
// CPU has F16C, not AVX512-FP16): each fp16 Conv / Gemm / MatMul / KilnFusedConv /
// KilnFusedMatMul (and pooling) becomes Cast(x -> f32), the op in f32 on the fast conv / SGEMM /
// pooling paths, and Cast(y -> f16). Its constant fp16 weights get f32 copies for packing, and the lowering
// stores their packed form as fp16 again (exact: the values came from fp16), so the artifact
// keeps fp16's size and the kernels widen the weights as they read them.
#pragma once

#include <set>

#include "ir/graph.h"

namespace kiln::cpu_codegen {

struct HalfLegalization {
  std::set<const Value*> half_weights;  // f32 constants to pack as fp16
  int ops = 0;                          // ops rewritten
};

HalfLegalization legalize_half_compute(Graph& g);

}  // namespace kiln::cpu_codegen
