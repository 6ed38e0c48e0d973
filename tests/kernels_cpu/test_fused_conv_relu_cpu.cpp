// KilnFusedConv with only bias and Relu (the trainer's conv layers) runs the convolution with
// its ReLU epilogue: against the reference on every ISA level, with and without bias, strides,
// pads and groups, at 1 and 2 threads (bit-identical).
#include <gtest/gtest.h>

#include "tests/kernels/cpu_kernel_test_util.h"
#include "tests/kernels_cpu/cpu_kernel_test_util.h"

namespace kiln::test {
namespace {

TEST(FusedConvReluCpu, MatchesReferenceEveryIsa) {
  struct Case {
    Dims x, w;
    int64_t stride, pad, group;
    bool bias;
  };
  const Case cases[] = {{{2, 1, 28, 28}, {8, 1, 3, 3}, 1, 0, 1, true},
                        {{3, 6, 11, 9}, {4, 3, 3, 2}, 2, 1, 2, false},
                        {{1, 5, 7, 7}, {7, 5, 1, 1}, 1, 0, 1, true}};
  for (cpu::Isa isa : supported_isas()) {
    ForceIsa force(isa);
    int i = 0;
    for (const Case& c : cases) {
      const Tensor x = random_f32(c.x, 10 + i), w = random_f32(c.w, 20 + i), b = random_f32({c.w[0]}, 30 + i);
      Attributes a;
      a.set("strides", Attribute::of_ints({c.stride, c.stride}));
      a.set("pads", Attribute::of_ints({c.pad, c.pad, c.pad, c.pad}));
      a.set("group", Attribute::of_int(c.group));
      a.set("activation", Attribute::of_string("Relu"));
      std::vector<const Tensor*> in = {&x, &w};
      if (c.bias) in.push_back(&b);
      check_fast_matches_ref(std::string(cpu::isa_name(isa)) + " case " + std::to_string(i++),
                             OpKind::KilnFusedConv, in, a, 1, 1e-4, 1e-5);
    }
  }
}

}  // namespace
}  // namespace kiln::test
