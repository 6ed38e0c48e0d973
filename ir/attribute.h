// Node attributes: ONNX's ten attribute kinds, with typed getters that fail with context.
#pragma once

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "ir/tensor.h"

namespace kiln {

class Graph;

struct Attribute {
  enum class Kind { Int, Float, String, Tensor, Graph, Ints, Floats, Strings, Tensors, Graphs };
  Kind kind = Kind::Int;
  int64_t i = 0;
  float f = 0;
  std::string s;
  kiln::Tensor t;
  std::shared_ptr<kiln::Graph> g;
  std::vector<int64_t> ints;
  std::vector<float> floats;
  std::vector<std::string> strings;
  std::vector<kiln::Tensor> tensors;
  std::vector<std::shared_ptr<kiln::Graph>> graphs;

  static Attribute of_int(int64_t v);
  static Attribute of_float(float v);
  static Attribute of_string(std::string v);
  static Attribute of_ints(std::vector<int64_t> v);
  static Attribute of_floats(std::vector<float> v);
  static Attribute of_strings(std::vector<std::string> v);
  static Attribute of_tensor(kiln::Tensor v);
  static Attribute of_graph(std::shared_ptr<kiln::Graph> v);
};

const char* attribute_kind_name(Attribute::Kind k);

class Attributes {
 public:
  bool has(const std::string& name) const { return map_.count(name) != 0; }
  void set(const std::string& name, Attribute a) { map_[name] = std::move(a); }
  void erase(const std::string& name) { map_.erase(name); }
  const Attribute* find(const std::string& name) const;
  const std::map<std::string, Attribute>& all() const { return map_; }
  bool empty() const { return map_.empty(); }

  // Getters: the default is returned when absent; a present attribute of another kind fails.
  int64_t get_int(const std::string& name, int64_t def) const;
  int64_t get_int(const std::string& name) const;  // required
  float get_float(const std::string& name, float def) const;
  std::string get_string(const std::string& name, const std::string& def) const;
  std::vector<int64_t> get_ints(const std::string& name, std::vector<int64_t> def = {}) const;
  std::vector<float> get_floats(const std::string& name, std::vector<float> def = {}) const;
  std::vector<std::string> get_strings(const std::string& name) const;
  const Tensor& get_tensor(const std::string& name) const;  // required

 private:
  const Attribute& expect(const std::string& name, Attribute::Kind kind) const;
  std::map<std::string, Attribute> map_;
};

}  // namespace kiln
