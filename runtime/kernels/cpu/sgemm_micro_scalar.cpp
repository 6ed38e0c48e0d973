// Portable SGEMM micro-kernel (any CPU): 6 rows x 16 columns, plain loops the compiler may
// vectorize with the baseline ISA. Same packed layout as the AVX2 kernel.
#include <algorithm>
#include <array>
#include <utility>

#include "runtime/kernels/cpu/sgemm_kernel.h"

namespace kiln::cpu {

namespace {

constexpr int kMr = 6;
constexpr int kNr = 16;

template <int Rows>
void micro_rows(int64_t kc, const float* a, const float* b, const MicroTile& t) {
  float acc[Rows][kNr] = {};
  for (int64_t k = 0; k < kc; ++k) {
    for (int i = 0; i < Rows; ++i) {
      const float ai = a[i];
      for (int j = 0; j < kNr; ++j) acc[i][j] += ai * b[j];
    }
    a += kMr;
    b += kNr;
  }
  for (int i = 0; i < Rows; ++i) {
    float* c = t.c + i * t.ldc;
    for (int j = 0; j < t.cols; ++j) {
      float v = acc[i][j] * t.alpha;
      if (t.load_c) v += c[j] * t.beta;
      if (t.row_bias) v += t.row_bias[i];
      if (t.column_bias) v += t.column_bias[j];
      if (t.relu) v = std::max(v, 0.0f);
      c[j] = v;
    }
  }
}

template <size_t... I>
constexpr auto make_row_table(std::index_sequence<I...>) {
  return std::array<MicroKernelFn, sizeof...(I)>{&micro_rows<static_cast<int>(I) + 1>...};
}

}  // namespace

void sgemm_micro_scalar(int64_t kc, const float* a, const float* b, const MicroTile& t) {
  static constexpr auto table = make_row_table(std::make_index_sequence<kMr>());
  table[static_cast<size_t>(t.rows - 1)](kc, a, b, t);
}

}  // namespace kiln::cpu
