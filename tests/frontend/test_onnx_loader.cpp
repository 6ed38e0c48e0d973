// The ONNX loader on good models, and on every kind of bad input the issue lists: each must be
// one clear error (kiln::Error) naming the culprit, never a crash.
#include <gtest/gtest.h>
#include <unistd.h>

#include "codegen/ref/interpreter.h"
#include "frontend/onnx_loader.h"
#include "tests/frontend/model_builder.h"

namespace kiln {
namespace {

namespace fs = std::filesystem;
using test::add_node;
using test::fresh_dir;
using test::small_model;
using test::write_model;

// Loads `m` from a file in a fresh folder and returns the error message ("" if it loaded).
std::string load_error(const onnx::ModelProto& m, const std::string& tag, fs::path* dir_out = nullptr) {
  const fs::path dir = fresh_dir(tag);
  if (dir_out) *dir_out = dir;
  write_model(m, dir / "model.onnx");
  try {
    frontend::load_onnx(dir / "model.onnx");
  } catch (const Error& e) {
    std::string msg = e.what();
    EXPECT_EQ(msg.find('\n'), std::string::npos) << "multi-line error: " << msg;
    return msg;
  }
  return "";
}

#define EXPECT_CONTAINS(haystack, needle) \
  EXPECT_NE(std::string(haystack).find(needle), std::string::npos) << (haystack)

TEST(OnnxLoader, LoadsAndRunsSmallModel) {
  const fs::path dir = fresh_dir("ok");
  write_model(small_model(), dir / "model.onnx");
  frontend::LoadedModel lm = frontend::load_onnx(dir / "model.onnx");
  ASSERT_EQ(lm.graph->inputs.size(), 1u);
  EXPECT_EQ(lm.graph->outputs[0]->type.to_string(), "f32[2,3]");
  Interpreter interp(*lm.graph);
  Tensor x = Tensor::from_vector<float>({1, 1, 1, 1, 1, 1}, {2, 3});
  auto out = interp.run({{"x", x}});
  const std::vector<float> want = {0, 0, 0.5f, 1.5f, 2.5f, 3.5f};
  for (int i = 0; i < 6; ++i) EXPECT_FLOAT_EQ(out["y"].data<float>()[i], want[i]);
}

TEST(OnnxLoader, RawDataAndTypedFieldsAgree) {
  onnx::ModelProto m = small_model();
  auto* w = m.mutable_graph()->mutable_initializer(0);
  std::vector<float> vals(w->float_data().begin(), w->float_data().end());
  w->clear_float_data();
  w->set_raw_data(std::string(reinterpret_cast<const char*>(vals.data()), vals.size() * 4));
  const fs::path dir = fresh_dir("raw");
  write_model(m, dir / "model.onnx");
  auto lm = frontend::load_onnx(dir / "model.onnx");
  const Tensor& t = *lm.graph->find_value("w")->constant;
  EXPECT_EQ(t.to_float_vector(), vals);
}

TEST(OnnxLoader, SymbolicDimsKeptByName) {
  onnx::ModelProto m = small_model();
  auto* dim = m.mutable_graph()->mutable_input(0)->mutable_type()->mutable_tensor_type()
                  ->mutable_shape()->mutable_dim(0);
  dim->set_dim_param("batch");
  m.mutable_graph()->mutable_initializer(0)->clear_dims();
  m.mutable_graph()->mutable_initializer(0)->add_dims(3);
  m.mutable_graph()->mutable_initializer(0)->clear_float_data();
  for (int i = 0; i < 3; ++i) m.mutable_graph()->mutable_initializer(0)->add_float_data(1);
  const fs::path dir = fresh_dir("sym");
  write_model(m, dir / "model.onnx");
  auto lm = frontend::load_onnx(dir / "model.onnx");
  EXPECT_EQ(lm.graph->find_value("s")->type.shape.to_string(), "[batch,3]");
}

TEST(OnnxLoader, ConstantNodeBecomesConstant) {
  onnx::ModelProto m = small_model();
  auto* g = m.mutable_graph();
  g->clear_initializer();
  auto* c = add_node(g, "Constant", {}, {"w"}, "const0");
  auto* a = c->add_attribute();
  a->set_name("value_floats");
  a->set_type(onnx::AttributeProto::FLOATS);
  for (int i = 0; i < 3; ++i) a->add_floats(1.0f);
  const fs::path dir = fresh_dir("const");
  write_model(m, dir / "model.onnx");
  auto lm = frontend::load_onnx(dir / "model.onnx");
  ASSERT_TRUE(lm.graph->find_value("w")->is_constant());
  EXPECT_EQ(lm.graph->nodes().size(), 2u);
}

TEST(OnnxLoaderBadInput, MissingFile) {
  try {
    frontend::load_onnx("/nonexistent/kiln/model.onnx");
    FAIL();
  } catch (const Error& e) {
    EXPECT_CONTAINS(e.what(), "not found");
  }
}

TEST(OnnxLoaderBadInput, NotAProtobuf) {
  const fs::path dir = fresh_dir("garbage");
  std::ofstream(dir / "model.onnx") << "this is not a protobuf \xff\xff\xff\xff";
  try {
    frontend::load_onnx(dir / "model.onnx");
    FAIL();
  } catch (const Error& e) {
    EXPECT_CONTAINS(e.what(), "not a valid ONNX protobuf");
  }
}

TEST(OnnxLoaderBadInput, TruncatedFile) {
  const fs::path dir = fresh_dir("trunc");
  std::string bytes = small_model().SerializeAsString();
  std::ofstream(dir / "model.onnx", std::ios::binary) << bytes.substr(0, bytes.size() / 2);
  EXPECT_THROW(frontend::load_onnx(dir / "model.onnx"), Error);
}

TEST(OnnxLoaderBadInput, UnknownDtype) {
  onnx::ModelProto m = small_model();
  m.mutable_graph()->mutable_initializer(0)->set_data_type(99);
  EXPECT_CONTAINS(load_error(m, "dtype99"), "tensor 'w': invalid dtype code 99");
  m.mutable_graph()->mutable_initializer(0)->set_data_type(17);  // float8: valid, unsupported
  EXPECT_CONTAINS(load_error(m, "dtype17"), "FLOAT8E4M3FN");
}

TEST(OnnxLoaderBadInput, InitializerSizeMismatch) {
  onnx::ModelProto m = small_model();
  m.mutable_graph()->mutable_initializer(0)->add_float_data(7);
  EXPECT_CONTAINS(load_error(m, "count"), "tensor 'w': float_data has 7 values");
  auto* w = m.mutable_graph()->mutable_initializer(0);
  w->clear_float_data();
  w->set_raw_data(std::string(20, '\0'));
  EXPECT_CONTAINS(load_error(m, "rawsize"), "raw_data has 20 bytes");
}

TEST(OnnxLoaderBadInput, OverflowingAndAbsurdDims) {
  onnx::ModelProto m = small_model();
  auto* w = m.mutable_graph()->mutable_initializer(0);
  w->clear_dims();
  w->add_dims(int64_t{1} << 62);
  w->add_dims(16);
  EXPECT_CONTAINS(load_error(m, "overflow"), "overflows");
  w->clear_dims();
  w->add_dims(-3);
  EXPECT_CONTAINS(load_error(m, "negdim"), "negative dimension -3");
  w->clear_dims();
  w->add_dims(int64_t{1} << 40);  // 4 TiB of float, six values given
  EXPECT_CONTAINS(load_error(m, "absurd"), "tensor 'w'");
  onnx::ModelProto m2 = small_model();
  m2.mutable_graph()->mutable_input(0)->mutable_type()->mutable_tensor_type()->mutable_shape()
      ->mutable_dim(0)->set_dim_value(-5);
  EXPECT_CONTAINS(load_error(m2, "neginput"), "negative dimension -5");
}

onnx::ModelProto external_model(const std::string& location, int64_t offset, int64_t length) {
  onnx::ModelProto m = small_model();
  auto* w = m.mutable_graph()->mutable_initializer(0);
  w->clear_float_data();
  w->set_data_location(onnx::TensorProto::EXTERNAL);
  auto kv = [&](const char* k, const std::string& v) {
    auto* e = w->add_external_data();
    e->set_key(k);
    e->set_value(v);
  };
  kv("location", location);
  if (offset >= 0) kv("offset", std::to_string(offset));
  if (length >= 0) kv("length", std::to_string(length));
  return m;
}

TEST(OnnxLoaderExternal, ReadsInsideModelFolder) {
  const fs::path dir = fresh_dir("ext_ok");
  std::vector<float> vals = {9, 9, 1, 2, 3, 4, 5, 6};
  std::ofstream(dir / "weights.bin", std::ios::binary)
      .write(reinterpret_cast<const char*>(vals.data()), 32);
  write_model(external_model("weights.bin", 8, 24), dir / "model.onnx");
  auto lm = frontend::load_onnx(dir / "model.onnx");
  EXPECT_EQ(lm.graph->find_value("w")->constant->to_float_vector(),
            (std::vector<float>{1, 2, 3, 4, 5, 6}));
}

TEST(OnnxLoaderExternal, HostilePathsRejected) {
  EXPECT_CONTAINS(load_error(external_model("/etc/passwd", 0, 24), "ext_abs"), "absolute path");
  EXPECT_CONTAINS(load_error(external_model("../outside.bin", 0, 24), "ext_dotdot"),
                  "escapes the model folder");
  EXPECT_CONTAINS(load_error(external_model("sub/../../x.bin", 0, 24), "ext_dotdot2"),
                  "escapes the model folder");
  fs::path dir;
  const onnx::ModelProto m = external_model("link.bin", 0, 24);
  const fs::path target = fresh_dir("ext_target") / "secret.bin";
  std::ofstream(target, std::ios::binary) << std::string(24, 'x');
  dir = fresh_dir("ext_link");
  fs::create_symlink(target, dir / "link.bin");
  write_model(m, dir / "model.onnx");
  try {
    frontend::load_onnx(dir / "model.onnx");
    FAIL() << "symlink accepted";
  } catch (const Error& e) {
    EXPECT_CONTAINS(e.what(), "symlink");
  }
}

TEST(OnnxLoaderExternal, OffsetOrLengthPastEnd) {
  fs::path dir = fresh_dir("ext_short");
  std::ofstream(dir / "w.bin", std::ios::binary) << std::string(30, 'x');
  write_model(external_model("w.bin", 10, 24), dir / "model.onnx");
  try {
    frontend::load_onnx(dir / "model.onnx");
    FAIL();
  } catch (const Error& e) {
    EXPECT_CONTAINS(e.what(), "past the end");
  }
  write_model(external_model("w.bin", 0, 12), dir / "model.onnx");
  try {
    frontend::load_onnx(dir / "model.onnx");
    FAIL();
  } catch (const Error& e) {
    EXPECT_CONTAINS(e.what(), "length 12 does not match 24");
  }
  write_model(external_model("missing.bin", 0, 24), dir / "model.onnx");
  EXPECT_THROW(frontend::load_onnx(dir / "model.onnx"), Error);
}

TEST(OnnxLoaderBadInput, UndefinedInputNamesNode) {
  onnx::ModelProto m = small_model();
  m.mutable_graph()->mutable_node(1)->set_input(0, "ghost");
  EXPECT_CONTAINS(load_error(m, "undef"), "Relu 'relu0': input 'ghost' is not defined");
}

TEST(OnnxLoaderBadInput, Cycle) {
  onnx::ModelProto m = small_model();
  auto* g = m.mutable_graph();
  g->mutable_node(0)->set_input(1, "y");  // Add consumes Relu's output, which consumes Add's
  EXPECT_CONTAINS(load_error(m, "cycle"), "cycle");
}

TEST(OnnxLoaderBadInput, UnsupportedOpsListedTogether) {
  onnx::ModelProto m = small_model();
  add_node(m.mutable_graph(), "FancyOp", {"y"}, {"z1"});
  add_node(m.mutable_graph(), "OtherOp", {"z1"}, {"z2"});
  auto* n = add_node(m.mutable_graph(), "Foo", {"z2"}, {"z3"});
  n->set_domain("com.example");
  const std::string err = load_error(m, "unsup");
  EXPECT_CONTAINS(err, "FancyOp (opset 17)");
  EXPECT_CONTAINS(err, "OtherOp (opset 17)");
  EXPECT_CONTAINS(err, "com.example:Foo");
}

TEST(OnnxLoaderBadInput, UnsupportedOpset) {
  EXPECT_CONTAINS(load_error(small_model(6), "opset6"), "opset 6");
  EXPECT_CONTAINS(load_error(small_model(99), "opset99"), "opset 99");
}

TEST(OnnxLoaderBadInput, DuplicateOutputName) {
  onnx::ModelProto m = small_model();
  add_node(m.mutable_graph(), "Relu", {"x"}, {"s"}, "dup");
  EXPECT_CONTAINS(load_error(m, "dupout"), "'s' is already defined");
}

TEST(InterpreterBadInput, WrongShapeAndDtype) {
  const fs::path dir = fresh_dir("interp");
  write_model(small_model(), dir / "model.onnx");
  auto lm = frontend::load_onnx(dir / "model.onnx");
  Interpreter interp(*lm.graph);
  EXPECT_THROW(interp.run({{"x", Tensor(DType::F32, {3, 2})}}), Error);
  EXPECT_THROW(interp.run({{"x", Tensor(DType::F64, {2, 3})}}), Error);
  EXPECT_THROW(interp.run({}), Error);
  EXPECT_THROW(interp.run({{"x", Tensor(DType::F32, {2, 3})}, {"q", Tensor(DType::F32, {1})}}),
               Error);
}

}  // namespace
}  // namespace kiln
