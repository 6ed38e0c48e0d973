#include <gtest/gtest.h>

#include "runtime/kernels/ref/ref_util.h"

namespace kiln::ref {
namespace {

TEST(RefUtil, BroadcastWalk) {
  const Dims out = {2, 3};
  MultiIndex it(out, {broadcast_strides({3}, out), broadcast_strides({2, 1}, out)});
  std::vector<int64_t> a, b;
  for (int i = 0; i < 6; ++i, it.next()) {
    a.push_back(it.offset(0));
    b.push_back(it.offset(1));
  }
  EXPECT_EQ(a, (std::vector<int64_t>{0, 1, 2, 0, 1, 2}));
  EXPECT_EQ(b, (std::vector<int64_t>{0, 0, 0, 1, 1, 1}));
  EXPECT_EQ(broadcast_dims({2, 1, 4}, {3, 1}), (Dims{2, 3, 4}));
  EXPECT_THROW(broadcast_dims({2}, {3}), Error);
}

}  // namespace
}  // namespace kiln::ref
