// The `op` builtin (compiled models' path to the runtime kernels): outputs written straight into
// the caller's buffers, except where an output overlaps an input (the memory planner reuses a
// dying input's slot); decoded records reused per launch site but never across different bytes.
#include <gtest/gtest.h>

#include <cstring>

#include "runtime/kernels/launch/builtins.h"
#include "runtime/kernels/launch/op_record.h"
#include "runtime/threadpool/thread_pool.h"
#include "tests/kernels/cpu_kernel_test_util.h"

namespace kiln::test {
namespace {

// The blob the builtin reads at buffers[0]: the record's byte length, then the record.
std::vector<uint8_t> record_blob(const launch::OpRecord& rec) {
  const std::vector<uint8_t> body = launch::encode_op_record(rec);
  std::vector<uint8_t> blob(launch::kOpRecordPrefixBytes + body.size());
  const uint64_t size = body.size();
  std::memcpy(blob.data(), &size, sizeof size);
  std::memcpy(blob.data() + launch::kOpRecordPrefixBytes, body.data(), body.size());
  return blob;
}

launch::OpRecord record(OpKind op, const Attributes& attrs, const Tensor& x, const Dims& out) {
  launch::OpRecord rec;
  rec.op = op;
  rec.opset = 13;
  rec.node_name = "n";
  rec.attrs = attrs;
  rec.inputs.push_back({true, DType::F32, x.dims()});
  rec.outputs.push_back({true, DType::F32, out});
  return rec;
}

// Runs the builtin on `blob` with X at `in` and Y at `out`; returns its status.
int32_t run_builtin(std::vector<uint8_t>& blob, void* in, void* out) {
  ThreadPool pool(1);
  launch::RunState state;
  state.pool = &pool;
  const kiln_exec_ctx ctx = launch::make_exec_ctx(&state);
  void* buffers[] = {blob.data(), in, out};
  const int32_t rc = launch::builtin_table()->op(buffers, nullptr, &ctx);
  EXPECT_EQ(rc, 0) << state.error;
  return rc;
}

Attributes pool_attrs(int64_t k, int64_t s) {
  Attributes a;
  a.set("kernel_shape", Attribute::of_ints({k, k}));
  a.set("strides", Attribute::of_ints({s, s}));
  return a;
}

TEST(BuiltinOp, WritesOutputsInPlaceOfTheCallersBuffer) {
  const Tensor x = random_f32({2, 3, 12, 10}, 61);
  const Attributes a = pool_attrs(2, 2);
  const Tensor want = run_op1(OpKind::MaxPool, {&x}, a);
  std::vector<uint8_t> blob = record_blob(record(OpKind::MaxPool, a, x, want.dims()));
  std::vector<float> in = x.to_float_vector(), out(static_cast<size_t>(want.numel()), 7.0f);
  ASSERT_EQ(run_builtin(blob, in.data(), out.data()), 0);
  EXPECT_EQ(out, want.to_float_vector());
  // The same launch site again (the decoded record is reused), then the site's bytes replaced by
  // another record: the new window must be used, not the remembered one.
  std::fill(out.begin(), out.end(), 7.0f);
  ASSERT_EQ(run_builtin(blob, in.data(), out.data()), 0);
  EXPECT_EQ(out, want.to_float_vector());
  const Attributes a3 = pool_attrs(3, 3);
  const Tensor want3 = run_op1(OpKind::MaxPool, {&x}, a3);
  std::vector<uint8_t> blob3 = record_blob(record(OpKind::MaxPool, a3, x, want3.dims()));
  ASSERT_LE(blob3.size(), blob.size());
  std::memcpy(blob.data(), blob3.data(), blob3.size());
  std::vector<float> out3(static_cast<size_t>(want3.numel()));
  ASSERT_EQ(run_builtin(blob, in.data(), out3.data()), 0);
  EXPECT_EQ(out3, want3.to_float_vector());
}

TEST(BuiltinOp, OutputOverlappingAnInputStillGetsTheRightValues) {
  // Transpose into the buffer it reads: writing there while reading would scramble it.
  const Tensor x = random_f32({37, 53}, 62);
  Attributes a;
  a.set("perm", Attribute::of_ints({1, 0}));
  const Tensor want = run_op1(OpKind::Transpose, {&x}, a);
  std::vector<uint8_t> blob = record_blob(record(OpKind::Transpose, a, x, want.dims()));
  std::vector<float> buf = x.to_float_vector();
  ASSERT_EQ(run_builtin(blob, buf.data(), buf.data()), 0);
  EXPECT_EQ(buf, want.to_float_vector());
}

}  // namespace
}  // namespace kiln::test
