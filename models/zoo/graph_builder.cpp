#include "models/zoo/graph_builder.h"

#include <cmath>

#include "ir/infer.h"
#include "ir/verifier.h"

namespace kiln::zoo {

std::string torch_scope(const std::string& module_path) {
  std::string s = "/" + module_path;
  for (char& c : s) {
    if (c == '.') c = '/';
  }
  return s;
}

GraphBuilder::GraphBuilder(std::string graph_name, uint64_t seed)
    : g_(std::make_unique<Graph>()), rng_(mnist::Rng::stream(seed, mnist::kRngInit)) {
  g_->name = std::move(graph_name);
  g_->opset = 17;
}

Value* GraphBuilder::input(const std::string& name, DType dtype, const Dims& dims) {
  Value* v = g_->add_value(name, ValueType::of(dtype, dims));
  g_->inputs.push_back(v);
  return v;
}

std::unique_ptr<Graph> GraphBuilder::finish(std::vector<Value*> outputs) {
  g_->outputs = std::move(outputs);
  verify_graph(*g_);
  infer_shapes(*g_);
  return std::move(g_);
}

Value* GraphBuilder::param(const std::string& name, const Dims& dims) {
  return g_->add_constant(name, Tensor(DType::F32, dims));
}

Value* GraphBuilder::uniform(const std::string& name, const Dims& dims, float lo, float hi) {
  Value* v = param(name, dims);
  float* p = v->constant->data<float>();
  for (int64_t i = 0; i < v->constant->numel(); ++i) {
    p[i] = static_cast<float>(rng_.uniform(lo, hi));
  }
  return v;
}

Value* GraphBuilder::he_uniform(const std::string& name, const Dims& dims, int64_t fan_in) {
  const float bound = static_cast<float>(std::sqrt(6.0 / static_cast<double>(fan_in)));
  return uniform(name, dims, -bound, bound);
}

Value* GraphBuilder::fill(const std::string& name, const Dims& dims, float v) {
  Value* c = param(name, dims);
  float* p = c->constant->data<float>();
  for (int64_t i = 0; i < c->constant->numel(); ++i) p[i] = v;
  return c;
}

Value* GraphBuilder::scalar(const std::string& name, float v) {
  return g_->add_constant(name, Tensor::scalar<float>(v));
}

Value* GraphBuilder::ints(const std::string& name, const std::vector<int64_t>& v) {
  return g_->add_constant(name, Tensor::from_vector<int64_t>(v, {static_cast<int64_t>(v.size())}));
}

Value* GraphBuilder::op(OpKind kind, std::vector<Value*> ins, const std::string& node_name,
                        Attributes attrs, const std::string& out_name) {
  Value* out = g_->add_value(out_name.empty() ? node_name + "_output_0" : out_name);
  g_->add_node(kind, std::move(ins), {out}, std::move(attrs), node_name);
  return out;
}

Value* GraphBuilder::conv(const std::string& scope, Value* x, int64_t cin, int64_t cout,
                          int64_t k, int64_t stride, int64_t pad, int64_t group, bool bias) {
  const int64_t fan_in = cin / group * k * k;
  std::vector<Value*> ins = {x, he_uniform(scope + ".weight", {cout, cin / group, k, k}, fan_in)};
  if (bias) {
    const float b = static_cast<float>(1.0 / std::sqrt(static_cast<double>(fan_in)));
    ins.push_back(uniform(scope + ".bias", {cout}, -b, b));
  }
  Attributes a;
  a.set("dilations", Attribute::of_ints({1, 1}));
  a.set("group", Attribute::of_int(group));
  a.set("kernel_shape", Attribute::of_ints({k, k}));
  a.set("pads", Attribute::of_ints({pad, pad, pad, pad}));
  a.set("strides", Attribute::of_ints({stride, stride}));
  return op(OpKind::Conv, std::move(ins), torch_scope(scope) + "/Conv", std::move(a));
}

Value* GraphBuilder::batch_norm(const std::string& scope, Value* x, int64_t channels) {
  // Random, not identity, statistics: a BN-folding pass must get real arithmetic right.
  // Variances near 1 and small means keep activations O(1) through deep stacks.
  Value* scale = uniform(scope + ".weight", {channels}, 0.5f, 1.0f);
  Value* shift = uniform(scope + ".bias", {channels}, -0.1f, 0.1f);
  Value* mean = uniform(scope + ".running_mean", {channels}, -0.1f, 0.1f);
  Value* var = uniform(scope + ".running_var", {channels}, 0.5f, 1.5f);
  Attributes a;
  a.set("epsilon", Attribute::of_float(1e-5f));
  a.set("momentum", Attribute::of_float(0.9f));
  return op(OpKind::BatchNormalization, {x, scale, shift, mean, var},
            torch_scope(scope) + "/BatchNormalization", std::move(a));
}

Value* GraphBuilder::relu(const std::string& scope, Value* x) {
  return op(OpKind::Relu, {x}, torch_scope(scope) + "/Relu");
}

Value* GraphBuilder::relu6(const std::string& scope, Value* x) {
  if (!clip_min_) {
    clip_min_ = scalar("relu6.min", 0.0f);
    clip_max_ = scalar("relu6.max", 6.0f);
  }
  return op(OpKind::Clip, {x, clip_min_, clip_max_}, torch_scope(scope) + "/Clip");
}

Value* GraphBuilder::add(const std::string& scope, Value* a, Value* b) {
  return op(OpKind::Add, {a, b}, torch_scope(scope) + "/Add");
}

Value* GraphBuilder::linear_gemm(const std::string& scope, Value* x, int64_t in, int64_t out,
                                 const std::string& out_name) {
  // nn.Linear's default init: U(-1/sqrt(in), 1/sqrt(in)) for weight and bias.
  const float b = static_cast<float>(1.0 / std::sqrt(static_cast<double>(in)));
  Value* w = uniform(scope + ".weight", {out, in}, -b, b);
  Value* bias = uniform(scope + ".bias", {out}, -b, b);
  Attributes a;
  a.set("alpha", Attribute::of_float(1.0f));
  a.set("beta", Attribute::of_float(1.0f));
  a.set("transB", Attribute::of_int(1));
  return op(OpKind::Gemm, {x, w, bias}, torch_scope(scope) + "/Gemm", std::move(a), out_name);
}

Value* GraphBuilder::global_pool_flatten(const std::string& scope, Value* x) {
  Value* p = op(OpKind::GlobalAveragePool, {x}, torch_scope(scope) + "/GlobalAveragePool");
  Attributes a;
  a.set("axis", Attribute::of_int(1));
  return op(OpKind::Flatten, {p}, torch_scope(scope) + "/Flatten", std::move(a));
}

Value* GraphBuilder::conv_bn(const std::string& conv_scope, const std::string& bn_scope,
                             Value* x, int64_t cin, int64_t cout, int64_t k, int64_t stride,
                             int64_t group, Act act) {
  Value* y = conv(conv_scope, x, cin, cout, k, stride, (k - 1) / 2, group);
  y = batch_norm(bn_scope, y, cout);
  if (act == Act::Relu) return relu(bn_scope, y);
  if (act == Act::Relu6) return relu6(bn_scope, y);
  return y;
}

}  // namespace kiln::zoo
