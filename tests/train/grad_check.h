// Finite-difference checking of gradient rules: builds a one-node graph in f64, a scalar loss
// sum(output * R) with fixed random R, differentiates it, and compares every input gradient
// with central differences of the loss.
#pragma once

#include <gtest/gtest.h>

#include <cmath>
#include <map>
#include <string>
#include <vector>

#include "codegen/ref/interpreter.h"
#include "ir/graph.h"
#include "ir/infer.h"
#include "models/mnist/rng.h"
#include "train/differentiate.h"

namespace kiln::test {

struct GradInput {
  Tensor value;
  bool differentiable = true;  // false: a constant (indices, shapes, labels)
};

// Random f64 values in [lo, hi), optionally kept at least `gap` away from 0.
inline Tensor random_f64(Dims dims, uint64_t seed, double lo = -1, double hi = 1, double gap = 0) {
  Tensor t(DType::F64, std::move(dims));
  mnist::Rng rng(seed);
  for (int64_t i = 0; i < t.numel(); ++i) {
    double v = rng.uniform(lo, hi);
    if (gap > 0 && std::fabs(v) < gap) v = v < 0 ? v - gap : v + gap;
    t.data<double>()[i] = v;
  }
  return t;
}

inline Tensor i64(Dims dims, std::vector<int64_t> v) {
  return Tensor::from_vector<int64_t>(v, std::move(dims));
}

// `loss_outputs`: which outputs of the node enter the loss (default: output 0).
inline void check_gradient(OpKind op, const std::vector<GradInput>& inputs, const Attributes& attrs = {},
                           size_t num_outputs = 1, std::vector<size_t> loss_outputs = {0},
                           double tol = 1e-6) {
  Graph g;
  g.opset = 17;
  std::vector<Value*> ins, wrt;
  for (size_t i = 0; i < inputs.size(); ++i) {
    const std::string name = "in" + std::to_string(i);
    if (!inputs[i].value.defined()) {
      ins.push_back(nullptr);
      continue;
    }
    if (inputs[i].differentiable) {
      Value* v = g.add_value(name, ValueType::of(inputs[i].value.dtype(), inputs[i].value.dims()));
      g.inputs.push_back(v);
      wrt.push_back(v);
      ins.push_back(v);
    } else {
      ins.push_back(g.add_constant(name, inputs[i].value));
    }
  }
  std::vector<Value*> outs;
  for (size_t i = 0; i < num_outputs; ++i) outs.push_back(g.add_value("out" + std::to_string(i)));
  g.add_node(op, ins, outs, attrs, "node");
  infer_shapes(g);
  // loss = sum over loss outputs of flatten(out) . R, built from ops that have rules
  // (Reshape, MatMul, Add): a [1, 1] value.
  Value* loss = nullptr;
  for (size_t k : loss_outputs) {
    ASSERT_TRUE(outs[k]->type.shape.is_static()) << outs[k]->type.to_string();
    const int64_t n = checked_numel(outs[k]->type.shape.static_dims());
    const std::string sk = std::to_string(k);
    Value* row = g.add_value("row" + sk);
    g.add_node(OpKind::Reshape, {outs[k], g.add_constant("rowshape" + sk, i64({2}, {1, n}))}, {row});
    Value* r = g.add_constant("R" + sk, random_f64({n, 1}, 1000 + k));
    Value* s = g.add_value("dot" + sk);
    g.add_node(OpKind::MatMul, {row, r}, {s});
    if (loss) {
      Value* t = g.add_value("total" + sk);
      g.add_node(OpKind::Add, {loss, s}, {t});
      loss = t;
    } else {
      loss = s;
    }
  }
  g.outputs = {loss};
  infer_shapes(g);
  const std::vector<Value*> grads = train::differentiate(g, loss, wrt);
  for (Value* d : grads) g.outputs.push_back(d);

  std::map<std::string, Tensor> feed;
  for (Value* v : wrt) {
    const size_t i = static_cast<size_t>(std::stoi(v->name().substr(2)));
    feed[v->name()] = inputs[i].value.clone();
  }
  const Interpreter interp(g);
  const auto result = interp.run(feed);
  auto loss_at = [&](const std::map<std::string, Tensor>& f) {
    return interp.run(f).at(loss->name()).as_double(0);
  };
  constexpr double kEps = 1e-6;
  for (size_t w = 0; w < wrt.size(); ++w) {
    const Tensor& analytic = result.at(grads[w]->name());
    Tensor x = feed.at(wrt[w]->name());
    ASSERT_EQ(analytic.dims(), x.dims()) << "gradient of " << wrt[w]->name();
    for (int64_t i = 0; i < x.numel(); ++i) {
      const double orig = x.data<double>()[i];
      x.data<double>()[i] = orig + kEps;
      const double up = loss_at(feed);
      x.data<double>()[i] = orig - kEps;
      const double down = loss_at(feed);
      x.data<double>()[i] = orig;
      const double numeric = (up - down) / (2 * kEps);
      const double a = analytic.as_double(i);
      EXPECT_NEAR(a, numeric, tol * (1 + std::fabs(numeric)))
          << op_name(op) << ": d/d " << wrt[w]->name() << " element " << i;
    }
  }
}

}  // namespace kiln::test
