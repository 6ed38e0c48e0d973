// The optimized Transpose (runtime/kernels/cpu/op_transpose.cpp) against the reference kernel:
// random ranks, dims (with size-1 axes) and permutations, every element size it handles, on no
// pool and on 1 and 2 threads; a copy must match byte for byte.
#include <gtest/gtest.h>

#include <algorithm>
#include <numeric>

#include "tests/kernels/cpu_kernel_test_util.h"

namespace kiln::test {
namespace {

Tensor random_bytes(DType dtype, Dims dims, std::mt19937& gen) {
  Tensor t(dtype, std::move(dims));
  auto* p = static_cast<uint8_t*>(t.raw());
  const size_t n = static_cast<size_t>(t.numel()) * dtype_size(dtype);
  for (size_t i = 0; i < n; ++i) p[i] = static_cast<uint8_t>(gen());
  if (dtype == DType::Bool)
    for (size_t i = 0; i < n; ++i) p[i] &= 1;
  return t;
}

void check(const std::string& what, const Tensor& x, const Attributes& attrs) {
  SCOPED_TRACE(what);
  ASSERT_NE(cpu_kernel(OpKind::Transpose), nullptr);
  static ThreadPool one(1), two(2);
  const Tensor want = run_op(OpKind::Transpose, {&x}, attrs, 1).at(0);
  for (ThreadPool* pool : {static_cast<ThreadPool*>(nullptr), &one, &two}) {
    const Tensor got = run_fast(OpKind::Transpose, {&x}, attrs, 1, pool).at(0);
    ASSERT_EQ(got.dims(), want.dims());
    EXPECT_TRUE(got.bytes_equal(want)) << "threads " << (pool ? pool->num_threads() : 0);
  }
}

TEST(CpuKernelTable, TransposeRandomPermutations) {
  std::mt19937 gen(21);
  const DType dtypes[] = {DType::U8, DType::Bool, DType::F16, DType::F32, DType::I32,
                          DType::I64, DType::F64};
  for (int i = 0; i < 60; ++i) {
    const int rank = 1 + static_cast<int>(gen() % 5);
    Dims dims;
    for (int a = 0; a < rank; ++a) dims.push_back(gen() % 4 == 0 ? 1 : 1 + gen() % 19);
    std::vector<int64_t> perm(static_cast<size_t>(rank));
    std::iota(perm.begin(), perm.end(), 0);
    std::shuffle(perm.begin(), perm.end(), gen);
    Attributes attrs;
    const bool default_perm = i % 7 == 0;  // no perm: reverse the axes
    if (!default_perm) attrs.set("perm", Attribute::of_ints(perm));
    const DType dt = dtypes[static_cast<size_t>(i) % std::size(dtypes)];
    const Tensor x = random_bytes(dt, dims, gen);
    check(cat(dtype_name(dt), " ", dims_to_string(dims), default_perm ? " reversed" : " perm ",
              default_perm ? "" : dims_to_string(perm)),
          x, attrs);
  }
}

// The shapes attention exports: the head split ([B, S, H, D] -> [B, H, S, D], rows stay
// contiguous), K^T ([B, S, H, D] -> [B, H, D, S], tiles), and a plain matrix larger than a tile.
TEST(CpuKernelTable, TransposeAttentionShapes) {
  std::mt19937 gen(22);
  const Tensor qkv = random_bytes(DType::F32, {2, 37, 3, 20}, gen);
  Attributes split, kt, mat;
  split.set("perm", Attribute::of_ints({0, 2, 1, 3}));
  kt.set("perm", Attribute::of_ints({0, 2, 3, 1}));
  check("head split", qkv, split);
  check("K^T", qkv, kt);
  const Tensor m = random_bytes(DType::F32, {45, 70}, gen);
  check("matrix", m, mat);
}

}  // namespace
}  // namespace kiln::test
