// Builds small ONNX models in tests, including deliberately broken ones.
#pragma once

#include <onnx/onnx_pb.h>

#include <filesystem>
#include <unistd.h>

#include <fstream>
#include <string>
#include <vector>

namespace kiln::test {

inline onnx::ValueInfoProto* add_io(google::protobuf::RepeatedPtrField<onnx::ValueInfoProto>* list,
                                    const std::string& name, int elem_type,
                                    const std::vector<int64_t>& dims) {
  auto* vi = list->Add();
  vi->set_name(name);
  auto* tt = vi->mutable_type()->mutable_tensor_type();
  tt->set_elem_type(elem_type);
  for (int64_t d : dims) tt->mutable_shape()->add_dim()->set_dim_value(d);
  return vi;
}

inline onnx::NodeProto* add_node(onnx::GraphProto* g, const std::string& op,
                                 const std::vector<std::string>& in,
                                 const std::vector<std::string>& out, const std::string& name = "") {
  auto* n = g->add_node();
  n->set_op_type(op);
  n->set_name(name);
  for (const auto& s : in) n->add_input(s);
  for (const auto& s : out) n->add_output(s);
  return n;
}

// y = Relu(x + w), x: f32[2,3], w: initializer f32[2,3].
inline onnx::ModelProto small_model(int opset = 17) {
  onnx::ModelProto m;
  m.set_ir_version(8);
  auto* os = m.add_opset_import();
  os->set_domain("");
  os->set_version(opset);
  auto* g = m.mutable_graph();
  g->set_name("small");
  add_io(g->mutable_input(), "x", 1, {2, 3});
  add_io(g->mutable_output(), "y", 1, {2, 3});
  auto* w = g->add_initializer();
  w->set_name("w");
  w->set_data_type(1);
  w->add_dims(2);
  w->add_dims(3);
  for (int i = 0; i < 6; ++i) w->add_float_data(static_cast<float>(i) - 2.5f);
  add_node(g, "Add", {"x", "w"}, {"s"}, "add0");
  add_node(g, "Relu", {"s"}, {"y"}, "relu0");
  return m;
}

inline void write_model(const onnx::ModelProto& m, const std::filesystem::path& p) {
  std::ofstream out(p, std::ios::binary);
  m.SerializeToOstream(&out);
}

// A fresh, empty folder under the system temp dir.
inline std::filesystem::path fresh_dir(const std::string& name) {
  auto d = std::filesystem::temp_directory_path() / ("kiln_test_" + name + "_" +
                                                      std::to_string(::getpid()));
  std::filesystem::remove_all(d);
  std::filesystem::create_directories(d);
  return d;
}

}  // namespace kiln::test
