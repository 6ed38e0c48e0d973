#include "models/mnist/model_builders.h"

#include <cmath>

#include "ir/infer.h"
#include "models/mnist/rng.h"

namespace kiln::mnist {

namespace {

// Appends layers to a graph, threading the current activation through.
class Builder {
 public:
  explicit Builder(uint64_t seed) : g_(std::make_unique<Graph>()), rng_(Rng::stream(seed, kRngInit)) {
    g_->opset = 17;
    Value* in = g_->add_value(kInputName, ValueType{DType::F32, Shape{true, {Dim::sym("batch"), Dim::of(1), Dim::of(28), Dim::of(28)}}, {}});
    g_->inputs.push_back(in);
    x_ = in;
  }

  void conv(const std::string& name, int64_t cin, int64_t cout, int64_t k, int64_t pad) {
    const int64_t fan_in = cin * k * k;
    Value* w = param(name + ".weight", {cout, cin, k, k}, fan_in);
    Value* b = param(name + ".bias", {cout}, fan_in);
    Attributes a;
    a.set("kernel_shape", Attribute::of_ints({k, k}));
    a.set("pads", Attribute::of_ints({pad, pad, pad, pad}));
    x_ = node(OpKind::Conv, {x_, w, b}, name, std::move(a));
  }

  // PyTorch's nn.Linear: y = x W^T + b with W [out, in].
  void linear(const std::string& name, int64_t in, int64_t out) {
    Value* w = param(name + ".weight", {out, in}, in);
    Value* b = param(name + ".bias", {out}, in);
    Attributes a;
    a.set("transB", Attribute::of_int(1));
    x_ = node(OpKind::Gemm, {x_, w, b}, name, std::move(a));
  }

  void relu(const std::string& name) { x_ = node(OpKind::Relu, {x_}, name); }

  void max_pool(const std::string& name, int64_t k) {
    Attributes a;
    a.set("kernel_shape", Attribute::of_ints({k, k}));
    a.set("strides", Attribute::of_ints({k, k}));
    x_ = node(OpKind::MaxPool, {x_}, name, std::move(a));
  }

  void flatten(const std::string& name) {
    Attributes a;
    a.set("axis", Attribute::of_int(1));
    x_ = node(OpKind::Flatten, {x_}, name, std::move(a));
  }

  void dropout(const std::string& name, float ratio) {
    Value* r = g_->add_constant(name + ".ratio", Tensor::scalar<float>(ratio));
    x_ = node(OpKind::Dropout, {x_, r}, name);
  }

  std::unique_ptr<Graph> finish() {
    Attributes a;
    a.set("axis", Attribute::of_int(1));
    Value* out = g_->add_value(kOutputName);
    g_->add_node(OpKind::LogSoftmax, {x_}, {out}, std::move(a), "log_softmax");
    g_->outputs.push_back(out);
    infer_shapes(*g_);
    return std::move(g_);
  }

 private:
  Value* param(const std::string& name, Dims dims, int64_t fan_in) {
    Tensor t(DType::F32, std::move(dims));
    const double bound = 1.0 / std::sqrt(static_cast<double>(fan_in));
    float* p = t.data<float>();
    for (int64_t i = 0; i < t.numel(); ++i) p[i] = static_cast<float>(rng_.uniform(-bound, bound));
    return g_->add_constant(name, t);
  }

  Value* node(OpKind op, std::vector<Value*> ins, const std::string& name, Attributes a = {}) {
    Value* out = g_->add_value(name + ".out");
    g_->add_node(op, std::move(ins), {out}, std::move(a), name);
    return out;
  }

  std::unique_ptr<Graph> g_;
  Rng rng_;
  Value* x_ = nullptr;
};

}  // namespace

const std::vector<std::string>& model_names() {
  static const std::vector<std::string> names = {"cnn", "lenet5", "mlp"};
  return names;
}

std::unique_ptr<Graph> build_model(const std::string& name, uint64_t seed) {
  Builder b(seed);
  if (name == "cnn") {
    b.conv("conv1", 1, 32, 3, 0);
    b.relu("relu1");
    b.conv("conv2", 32, 64, 3, 0);
    b.relu("relu2");
    b.max_pool("pool", 2);
    b.dropout("dropout1", 0.25f);
    b.flatten("flatten");
    b.linear("fc1", 9216, 128);
    b.relu("relu3");
    b.dropout("dropout2", 0.5f);
    b.linear("fc2", 128, 10);
  } else if (name == "lenet5") {
    b.conv("conv1", 1, 6, 5, 2);
    b.relu("relu1");
    b.max_pool("pool1", 2);
    b.conv("conv2", 6, 16, 5, 0);
    b.relu("relu2");
    b.max_pool("pool2", 2);
    b.flatten("flatten");
    b.linear("fc1", 400, 120);
    b.relu("relu3");
    b.linear("fc2", 120, 84);
    b.relu("relu4");
    b.linear("fc3", 84, 10);
  } else if (name == "mlp") {
    b.flatten("flatten");
    b.linear("fc1", 784, 512);
    b.relu("relu1");
    b.linear("fc2", 512, 256);
    b.relu("relu2");
    b.linear("fc3", 256, 10);
  } else {
    fail("unknown model '", name, "' (expected cnn, lenet5 or mlp)");
  }
  std::unique_ptr<Graph> g = b.finish();
  g->name = "mnist_" + name;
  return g;
}

}  // namespace kiln::mnist
