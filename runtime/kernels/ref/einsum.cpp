// Einsum: one loop over every label (output labels outermost, summed labels inside); each
// operand is read through per-label strides, so repeated labels (diagonals) and broadcast
// (size-1) axes need no special cases.
#include "ir/infer/einsum_equation.h"
#include "runtime/kernels/ref/kernel.h"
#include "runtime/kernels/ref/matmul_util.h"

namespace kiln {

void ref_Einsum(KernelContext& ctx) {
  std::vector<int64_t> ranks;
  for (size_t i = 0; i < ctx.num_inputs(); ++i) ranks.push_back(ctx.input(i).rank());
  const EinsumEquation eq = parse_einsum(ctx.attr().get_string("equation", ""), ranks, ctx.where());
  const size_t L = static_cast<size_t>(eq.num_labels());

  // Size of each label (1 = unused or broadcast), checked across operands.
  std::vector<int64_t> size(L, 1);
  for (size_t i = 0; i < eq.inputs.size(); ++i) {
    const Tensor& t = ctx.input(i);
    for (size_t ax = 0; ax < eq.inputs[i].size(); ++ax) {
      const size_t l = static_cast<size_t>(eq.inputs[i][ax]);
      const int64_t d = t.dim(static_cast<int64_t>(ax));
      if (d == size[l] || d == 1) continue;
      ctx.check(size[l] == 1, "label sizes ", size[l], " and ", d, " disagree in input ", i);
      size[l] = d;
    }
  }
  // Loop order: output labels, then the summed ones.
  std::vector<int> order = eq.output;
  std::vector<bool> in_out(L, false);
  for (int l : eq.output) in_out[static_cast<size_t>(l)] = true;
  std::vector<bool> used(L, false);
  for (const auto& labels : eq.inputs) {
    for (int l : labels) used[static_cast<size_t>(l)] = true;
  }
  for (size_t l = 0; l < L; ++l) {
    if (used[l] && !in_out[l]) order.push_back(static_cast<int>(l));
  }
  Dims loop_dims;
  for (int l : order) loop_dims.push_back(size[static_cast<size_t>(l)]);
  // Per operand: stride of each loop axis (sum over the operand's axes bearing that label;
  // a broadcast axis of size 1 contributes nothing).
  std::vector<std::vector<int64_t>> strides;
  for (size_t i = 0; i < eq.inputs.size(); ++i) {
    const Tensor& t = ctx.input(i);
    const std::vector<int64_t> own = ref::strides_of(t.dims());
    std::vector<int64_t> s(order.size(), 0);
    for (size_t j = 0; j < order.size(); ++j) {
      for (size_t ax = 0; ax < eq.inputs[i].size(); ++ax) {
        if (eq.inputs[i][ax] == order[j] && t.dim(static_cast<int64_t>(ax)) != 1) s[j] += own[ax];
      }
    }
    strides.push_back(std::move(s));
  }
  checked_numel(loop_dims);  // the whole loop nest must be countable
  const int64_t summed = checked_numel(
      Dims(loop_dims.begin() + static_cast<int64_t>(eq.output.size()), loop_dims.end()));

  Tensor& y = ctx.output(0);
  dispatch_dtype(y.dtype(), "Einsum", [&]<typename T>() {
    if constexpr (std::is_same_v<T, bool>) {
      ctx.fail("dtype bool is not supported");
    } else {
      using Acc = ref::matmul_acc_t<T>;
      std::vector<const T*> in;
      for (size_t i = 0; i < ctx.num_inputs(); ++i) in.push_back(ctx.input(i).data<T>());
      T* py = y.data<T>();
      ref::MultiIndex it(loop_dims, strides);
      for (int64_t o = 0; o < y.numel(); ++o) {
        Acc acc{};
        for (int64_t s = 0; s < summed; ++s, it.next()) {
          Acc prod = static_cast<Acc>(1);
          for (size_t i = 0; i < in.size(); ++i) prod *= static_cast<Acc>(in[i][it.offset(i)]);
          acc += prod;
        }
        py[o] = static_cast<T>(acc);
      }
    }
  });
}

}  // namespace kiln
