// Builds inference Graphs the way PyTorch's ONNX exporter lays them out at opset 17: static
// input shapes, parameters as f32 initializers named like the PyTorch state_dict, one node per
// exported op with the attributes the exporter writes. Parameters are seeded random: the same
// seed gives the same bytes on every platform (SplitMix64, no <random> distributions).
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "ir/graph.h"
#include "models/mnist/rng.h"

namespace kiln::zoo {

class GraphBuilder {
 public:
  GraphBuilder(std::string graph_name, uint64_t seed);

  Graph& graph() { return *g_; }
  Value* input(const std::string& name, DType dtype, const Dims& dims);
  // Checks the graph, infers every value's type and hands it over.
  std::unique_ptr<Graph> finish(std::vector<Value*> outputs);

  // --- parameters and constants ---
  // U(-bound, bound): He-style weights use bound = sqrt(6 / fan_in) (variance 2 / fan_in).
  Value* uniform(const std::string& name, const Dims& dims, float lo, float hi);
  Value* he_uniform(const std::string& name, const Dims& dims, int64_t fan_in);
  Value* fill(const std::string& name, const Dims& dims, float v);
  Value* scalar(const std::string& name, float v);
  Value* ints(const std::string& name, const std::vector<int64_t>& v);

  // --- one node; the output is named "<node name>_output_0" unless `out_name` is given ---
  Value* op(OpKind kind, std::vector<Value*> ins, const std::string& node_name,
            Attributes attrs = {}, const std::string& out_name = {});

  // --- layers as torch.onnx exports them; `scope` is the module path ("layer1.0.conv1") ---
  // nn.Conv2d (square kernel): Conv with dilations, group, kernel_shape, pads, strides.
  Value* conv(const std::string& scope, Value* x, int64_t cin, int64_t cout, int64_t k,
              int64_t stride, int64_t pad, int64_t group = 1, bool bias = false);
  // nn.BatchNorm2d in eval mode with random affine parameters and running statistics.
  Value* batch_norm(const std::string& scope, Value* x, int64_t channels);
  Value* relu(const std::string& scope, Value* x);
  // nn.ReLU6: Clip with scalar min/max inputs (0 and 6), shared by every Clip of the graph.
  Value* relu6(const std::string& scope, Value* x);
  Value* add(const std::string& scope, Value* a, Value* b);
  // nn.Linear on a 2-D input: Gemm(transB=1) with weight [out, in].
  Value* linear_gemm(const std::string& scope, Value* x, int64_t in, int64_t out,
                     const std::string& out_name = {});
  // AdaptiveAvgPool2d((1,1)) + torch.flatten(x, 1).
  Value* global_pool_flatten(const std::string& scope, Value* x);

  // nn.Conv2d + nn.BatchNorm2d (+ ReLU / ReLU6), the torchvision building block.
  enum class Act { None, Relu, Relu6 };
  Value* conv_bn(const std::string& conv_scope, const std::string& bn_scope, Value* x,
                 int64_t cin, int64_t cout, int64_t k, int64_t stride, int64_t group, Act act);

 private:
  Value* param(const std::string& name, const Dims& dims);
  std::unique_ptr<Graph> g_;
  mnist::Rng rng_;
  Value* clip_min_ = nullptr;
  Value* clip_max_ = nullptr;
};

// Node scope as the exporter writes it: "layer1.0.conv1" -> "/layer1/layer1.0/conv1".
std::string torch_scope(const std::string& module_path);

}  // namespace kiln::zoo
