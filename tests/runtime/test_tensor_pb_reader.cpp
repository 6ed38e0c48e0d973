// The runtime's protobuf-free TensorProto reader against the frontend's protobuf-based one, on
// tensors written by protobuf itself in every encoding the ONNX test data uses.
#include <gtest/gtest.h>

#include <fstream>
#include <onnx/onnx_pb.h>

#include "frontend/onnx_tensor.h"
#include "runtime/io/tensor_pb.h"

namespace kiln {
namespace {

namespace fs = std::filesystem;

fs::path write_proto(const onnx::TensorProto& t, const std::string& name) {
  const fs::path p = fs::temp_directory_path() / ("kiln_pb_" + name + "_" + std::to_string(getpid()) + ".pb");
  std::ofstream out(p, std::ios::binary);
  t.SerializeToOstream(&out);
  return p;
}

void expect_same(const onnx::TensorProto& t, const std::string& name) {
  const fs::path p = write_proto(t, name);
  const Tensor want = frontend::read_tensor_pb(p);
  const Tensor got = read_tensor_proto_file(p);
  EXPECT_EQ(got.dtype(), want.dtype()) << name;
  EXPECT_EQ(got.dims(), want.dims()) << name;
  EXPECT_TRUE(got.bytes_equal(want)) << name;
  fs::remove(p);
}

TEST(TensorPbReader, MatchesProtobufForEveryEncoding) {
  onnx::TensorProto f;
  f.set_name("x");
  f.set_data_type(onnx::TensorProto::FLOAT);
  f.add_dims(2);
  f.add_dims(3);
  for (int i = 0; i < 6; ++i) f.add_float_data(0.5f * static_cast<float>(i) - 1.0f);
  expect_same(f, "float_data");
  onnx::TensorProto raw = f;
  raw.clear_float_data();
  const float vals[6] = {1, -2, 3.5f, 4, 5, 6};
  raw.set_raw_data(std::string(reinterpret_cast<const char*>(vals), sizeof vals));
  expect_same(raw, "raw");
  onnx::TensorProto i64;
  i64.set_data_type(onnx::TensorProto::INT64);
  i64.add_dims(3);
  for (int64_t v : {int64_t{-5}, int64_t{1} << 40, int64_t{7}}) i64.add_int64_data(v);
  expect_same(i64, "int64");
  onnx::TensorProto b;
  b.set_data_type(onnx::TensorProto::BOOL);
  b.add_dims(4);
  for (int v : {1, 0, 0, 1}) b.add_int32_data(v);
  expect_same(b, "bool");
  onnx::TensorProto h;
  h.set_data_type(onnx::TensorProto::FLOAT16);
  h.add_dims(2);
  h.add_int32_data(0x3c00);
  h.add_int32_data(0xc000);
  expect_same(h, "f16");
  onnx::TensorProto i8;
  i8.set_data_type(onnx::TensorProto::INT8);
  i8.add_dims(2);
  i8.add_int32_data(-7);
  i8.add_int32_data(100);
  expect_same(i8, "int8");
  onnx::TensorProto d;
  d.set_data_type(onnx::TensorProto::DOUBLE);
  d.add_double_data(2.25);
  expect_same(d, "double_scalar");
  onnx::TensorProto u64;
  u64.set_data_type(onnx::TensorProto::UINT64);
  u64.add_dims(1);
  u64.add_uint64_data(uint64_t{1} << 63);
  expect_same(u64, "uint64");
}

TEST(TensorPbReader, BadFilesAreOneLineErrors) {
  onnx::TensorProto f;
  f.set_data_type(onnx::TensorProto::FLOAT);
  f.add_dims(4);
  f.add_float_data(1.0f);  // 1 value for 4 elements
  fs::path p = write_proto(f, "short");
  EXPECT_THROW(read_tensor_proto_file(p), Error);
  fs::remove(p);
  onnx::TensorProto e;
  e.set_data_type(onnx::TensorProto::FLOAT);
  e.set_data_location(onnx::TensorProto::EXTERNAL);
  p = write_proto(e, "external");
  EXPECT_THROW(read_tensor_proto_file(p), Error);
  fs::remove(p);
  p = fs::temp_directory_path() / ("kiln_pb_trunc_" + std::to_string(getpid()) + ".pb");
  std::ofstream(p, std::ios::binary) << std::string("\x0a\x80", 2);  // a length past the end
  EXPECT_THROW(read_tensor_proto_file(p), Error);
  fs::remove(p);
  EXPECT_THROW(read_tensor_proto_file("/nonexistent.pb"), Error);
}

}  // namespace
}  // namespace kiln
