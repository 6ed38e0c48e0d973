// The CPU target end to end: graphs compiled with LLVM, run through the runtime, checked against
// the reference interpreter (generated elementwise code, conv/gemm builtins with fused
// epilogues, batched matmul, runtime fallbacks), thread-count independence, and bad input.
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <random>

#include "codegen/cpu/run_compiled.h"
#include "codegen/ref/interpreter.h"
#include "ir/infer.h"

namespace kiln::cpu_codegen {
namespace {

Tensor random_tensor(const Dims& dims, uint32_t seed, float lo = -2.0f, float hi = 2.0f) {
  std::mt19937 rng(seed);
  std::uniform_real_distribution<float> dist(lo, hi);
  Tensor t(DType::F32, dims);
  for (int64_t i = 0; i < t.numel(); ++i) t.data<float>()[i] = dist(rng);
  return t;
}

// Compiles a copy of the graph built by `build` and compares every output with the reference
// interpreter on the same inputs; returns the compiled model for further checks.
struct Case {
  std::function<void(Graph&)> build;
  std::map<std::string, Tensor> inputs;
  float rtol = 1e-4f, atol = 1e-5f;
  int opt_level = 2;
  int threads = 2;
};

CompiledModel check_against_reference(const Case& c) {
  Graph ref_graph;
  c.build(ref_graph);
  infer_shapes(ref_graph);
  const std::map<std::string, Tensor> want = Interpreter(ref_graph).run(c.inputs);
  Graph g;
  c.build(g);
  infer_shapes(g);
  CpuCompileOptions options;
  options.opt_level = c.opt_level;
  CompiledModel compiled = compile_for_cpu(g, options);
  const std::map<std::string, Tensor> got = run_compiled(compiled, c.inputs, c.threads);
  EXPECT_EQ(got.size(), want.size());
  for (const auto& [name, w] : want) {
    const Tensor& t = got.at(name);
    EXPECT_EQ(t.dims(), w.dims()) << name;
    if (t.dims() != w.dims()) continue;
    int bad = 0;
    for (int64_t i = 0; i < t.numel() && bad < 5; ++i) {
      const float a = t.data<float>()[i], b = w.data<float>()[i];
      if (std::isnan(b) ? !std::isnan(a) : std::fabs(a - b) > c.atol + c.rtol * std::fabs(b)) {
        ADD_FAILURE() << name << "[" << i << "]: compiled " << a << ", reference " << b;
        ++bad;
      }
    }
  }
  return compiled;
}

int count_launches(const CompiledModel& m, const std::string& op_prefix) {
  int n = 0;
  for (const auto& l : m.meta.launches) n += l.op.rfind(op_prefix, 0) == 0;
  return n;
}

// Every op the generator computes inline, alone, over values that reach its edge cases.
TEST(CpuCodegen, GeneratedUnaryOpsMatchReference) {
  const std::vector<std::pair<OpKind, Attributes>> ops = [] {
    std::vector<std::pair<OpKind, Attributes>> v;
    for (OpKind op : {OpKind::Relu, OpKind::Sigmoid, OpKind::Tanh, OpKind::Exp, OpKind::Neg,
                      OpKind::Abs, OpKind::Erf, OpKind::HardSwish, OpKind::Floor, OpKind::Ceil,
                      OpKind::Softplus, OpKind::Gelu})
      v.push_back({op, {}});
    Attributes leaky;
    leaky.set("alpha", Attribute::of_float(0.3f));
    v.push_back({OpKind::LeakyRelu, leaky});
    Attributes hs;
    hs.set("alpha", Attribute::of_float(0.25f));
    hs.set("beta", Attribute::of_float(0.4f));
    v.push_back({OpKind::HardSigmoid, hs});
    Attributes tanh_gelu;
    tanh_gelu.set("approximate", Attribute::of_string("tanh"));
    v.push_back({OpKind::Gelu, tanh_gelu});
    return v;
  }();
  Tensor x = random_tensor({3, 1000}, 7, -12.0f, 12.0f);
  // Edge values: zero, tiny, the series/asymptote switch points, large magnitudes.
  const float edges[] = {0.0f, 1e-6f, -1e-6f, 0.125f, -0.125f, 0.5f, -0.5f, 30.0f, -30.0f, 90.0f,
                         -90.0f, 1e-3f};
  for (size_t i = 0; i < std::size(edges); ++i) x.data<float>()[i] = edges[i];
  for (const auto& [op, attrs] : ops) {
    SCOPED_TRACE(std::string(op_name(op)));
    Case c;
    c.build = [&, op = op, attrs = attrs](Graph& g) {
      Value* in = g.add_value("x", ValueType::of(DType::F32, {3, 1000}));
      Value* y = g.add_value("y", ValueType::of(DType::F32, {3, 1000}));
      g.add_node(op, {in}, {y}, attrs, "op", 21);
      g.inputs = {in};
      g.outputs = {y};
    };
    c.inputs = {{"x", x}};
    c.rtol = 2e-6f;
    c.atol = 2e-7f;
    const CompiledModel m = check_against_reference(c);
    EXPECT_EQ(count_launches(m, std::string(op_name(op))), 1);
    EXPECT_EQ(m.meta.launches.at(0).symbol, "kiln_k0");
  }
}

TEST(CpuCodegen, FusedBroadcastChainIsOneKernel) {
  // y = Sigmoid((x * s + b) - max(x, c)) with s [C,1,1], b [1,W], c scalar: one generated loop.
  Case c;
  c.build = [](Graph& g) {
    Value* x = g.add_value("x", ValueType::of(DType::F32, {2, 3, 4, 50}));
    Value* s = g.add_value("s", ValueType::of(DType::F32, {3, 1, 1}));
    Value* b = g.add_constant("b", random_tensor({1, 50}, 3));
    Value* k = g.add_constant("k", Tensor::scalar<float>(0.25f));
    auto v = [&](const char* n) { return g.add_value(n, ValueType::of(DType::F32, {2, 3, 4, 50})); };
    Value *m = v("m"), *a = v("a"), *mx = v("mx"), *d = v("d"), *y = v("y");
    g.add_node(OpKind::Mul, {x, s}, {m}, {}, "mul", 17);
    g.add_node(OpKind::Add, {m, b}, {a}, {}, "add", 17);
    g.add_node(OpKind::Max, {x, k}, {mx}, {}, "max", 17);
    g.add_node(OpKind::Sub, {a, mx}, {d}, {}, "sub", 17);
    g.add_node(OpKind::Sigmoid, {d}, {y}, {}, "sigmoid", 17);
    g.inputs = {x, s};
    g.outputs = {y};
  };
  c.inputs = {{"x", random_tensor({2, 3, 4, 50}, 1)}, {"s", random_tensor({3, 1, 1}, 2)}};
  c.rtol = 1e-5f;
  const CompiledModel m = check_against_reference(c);
  ASSERT_EQ(m.meta.launches.size(), 1u);
  EXPECT_EQ(m.meta.launches[0].op, "Fused5(Sigmoid)");
  EXPECT_EQ(m.meta.arena_bytes, 0u);  // the chain's inner results never touch memory

  c.opt_level = 0;  // -O0: one kernel per node, same answer
  const CompiledModel unfused = check_against_reference(c);
  EXPECT_EQ(unfused.meta.launches.size(), 5u);
}

TEST(CpuCodegen, LargeElementwiseIsIdenticalForOneAndTwoThreads) {
  Case c;
  c.build = [](Graph& g) {
    Value* x = g.add_value("x", ValueType::of(DType::F32, {300000}));
    Value* t = g.add_value("t", ValueType::of(DType::F32, {300000}));
    Value* y = g.add_value("y", ValueType::of(DType::F32, {300000}));
    g.add_node(OpKind::Tanh, {x}, {t}, {}, "tanh", 17);
    g.add_node(OpKind::Mul, {t, x}, {y}, {}, "mul", 17);
    g.inputs = {x};
    g.outputs = {y};
  };
  c.inputs = {{"x", random_tensor({300000}, 5)}};
  c.rtol = 2e-6f;
  Graph g1, g2;
  c.build(g1);
  c.build(g2);
  const auto one = run_compiled(compile_for_cpu(g1, {}), c.inputs, 1);
  const auto two = run_compiled(compile_for_cpu(g2, {}), c.inputs, 2);
  EXPECT_TRUE(one.at("y").bytes_equal(two.at("y")));
  check_against_reference(c);
}

// Conv + bias + residual + activation through the conv builtin and a generated epilogue.
void check_fused_conv(const std::string& activation, int64_t group, int64_t stride) {
  SCOPED_TRACE(activation + " group " + std::to_string(group));
  const int64_t C = 8, M = group == C ? C : 12, H = 13, W = 11;
  const int64_t OH = (H + 2 - 3) / stride + 1, OW = (W + 2 - 3) / stride + 1;
  Case c;
  c.build = [=](Graph& g) {
    Value* x = g.add_value("x", ValueType::of(DType::F32, {2, C, H, W}));
    Value* w = g.add_constant("w", random_tensor({M, C / group, 3, 3}, 11));
    Value* b = g.add_constant("b", random_tensor({M}, 12));
    Value* z = g.add_value("z", ValueType::of(DType::F32, {2, M, OH, OW}));
    Value* y = g.add_value("y", ValueType::of(DType::F32, {2, M, OH, OW}));
    Attributes a;
    a.set("pads", Attribute::of_ints({1, 1, 1, 1}));
    a.set("strides", Attribute::of_ints({stride, stride}));
    a.set("group", Attribute::of_int(group));
    a.set("activation", Attribute::of_string(activation));
    if (activation == "Clip") {
      a.set("activation_alpha", Attribute::of_float(0.0f));
      a.set("activation_beta", Attribute::of_float(6.0f));
    }
    g.add_node(OpKind::KilnFusedConv, {x, w, b, z}, {y}, a, "conv", 17);
    g.inputs = {x, z};
    g.outputs = {y};
  };
  c.inputs = {{"x", random_tensor({2, C, H, W}, 9)}, {"z", random_tensor({2, M, OH, OW}, 10)}};
  const CompiledModel m = check_against_reference(c);
  EXPECT_EQ(count_launches(m, "KilnFusedConv"), 1);
  EXPECT_EQ(m.meta.launches.size(), 1u);
}

TEST(CpuCodegen, FusedConvWithResidualAndActivations) {
  for (const char* act : {"", "Relu", "Clip", "Sigmoid", "Gelu"}) check_fused_conv(act, 1, 1);
  check_fused_conv("Relu", 8, 1);   // depthwise path
  check_fused_conv("Relu", 2, 2);   // grouped, strided
}

// A ResNet bottleneck (1x1, 3x3, 1x1 convs, + x, Relu): the last conv takes the residual as a
// builtin buffer (added while storing Y, bit 1 of the relu parameter) instead of a generated
// epilogue, with the ReLU after it; results match the reference, also with the ReLU off.
void check_bottleneck(bool final_relu, int64_t H) {
  SCOPED_TRACE("relu " + std::to_string(final_relu) + " H " + std::to_string(H));
  const int64_t C = 32, Mid = 16, W = H + 3;
  Case c;
  c.build = [=](Graph& g) {
    Value* x = g.add_value("x", ValueType::of(DType::F32, {1, C, H, W}));
    Value* cur = x;
    const int64_t ks[3] = {1, 3, 1}, outs[3] = {Mid, Mid, C}, ins[3] = {C, Mid, Mid};
    for (int i = 0; i < 3; ++i) {
      const std::string n = std::to_string(i);
      Value* w = g.add_constant("w" + n, random_tensor({outs[i], ins[i], ks[i], ks[i]},
                                                       static_cast<uint32_t>(20 + i), -0.3f, 0.3f));
      Value* b = g.add_constant("b" + n, random_tensor({outs[i]}, static_cast<uint32_t>(30 + i)));
      Value* y = g.add_value("c" + n, ValueType::of(DType::F32, {1, outs[i], H, W}));
      Attributes a;
      const int64_t p = ks[i] / 2;
      a.set("pads", Attribute::of_ints({p, p, p, p}));
      g.add_node(OpKind::Conv, {cur, w, b}, {y}, a, "conv" + n, 17);
      cur = y;
      if (i < 2) {
        Value* r = g.add_value("r" + n, ValueType::of(DType::F32, {1, outs[i], H, W}));
        g.add_node(OpKind::Relu, {cur}, {r}, {}, "relu" + n, 17);
        cur = r;
      }
    }
    Value* sum = g.add_value(final_relu ? "sum" : "y", ValueType::of(DType::F32, {1, C, H, W}));
    g.add_node(OpKind::Add, {cur, x}, {sum}, {}, "add", 17);
    if (final_relu) {
      Value* y = g.add_value("y", ValueType::of(DType::F32, {1, C, H, W}));
      g.add_node(OpKind::Relu, {sum}, {y}, {}, "relu_out", 17);
      cur = y;
    } else {
      cur = sum;
    }
    g.inputs = {x};
    g.outputs = {cur};
  };
  c.inputs = {{"x", random_tensor({1, C, H, W}, 9)}};
  const CompiledModel m = check_against_reference(c);
  ASSERT_EQ(m.meta.launches.size(), 3u);
  const auto& last = m.meta.launches.back();
  ASSERT_EQ(last.params.size(), 18u) << last.op;
  EXPECT_EQ(last.params[16], final_relu ? 3 : 2);
  EXPECT_GE(last.params[17], 0);
  EXPECT_LT(last.params[17], static_cast<int64_t>(last.args.size()));
}

TEST(CpuCodegen, ResNetBlockAddsTheResidualInTheConvKernel) {
  check_bottleneck(true, 20);   // 1x1 convs on the pointwise-rows path
  check_bottleneck(false, 20);
  check_bottleneck(true, 7);    // small plane: the outvec path
}

// MobileNet's inverted residual: a 3x3 conv (128 channels), a 1x1 expansion with a large
// output (80 channels, 1.3 MB), a depthwise conv reading only it, a 1x1 projection. The
// expansion and the depthwise conv run as interleaved channel groups (4 x 20 channels: 4
// launches each, one chain per group) on slices of the same values; the 3x3 conv's output dies at the expansion, and
// the memory plan must not hand its bytes to the depthwise output before the last group (it
// would without the pair's shared step: the depthwise output fits there). With the expansion's
// output also a graph output, they run whole (one launch each).
void check_expansion_depthwise(int64_t stride, const char* act, bool mid_is_output) {
  SCOPED_TRACE(std::string("stride ") + std::to_string(stride) + " " + act +
               (mid_is_output ? " mid is an output" : ""));
  const int64_t C = 16, T = 128, E = 80, H = 64, W = 64, OH = (H - 1) / stride + 1;
  Case c;
  c.build = [=](Graph& g) {
    Value* x = g.add_value("x", ValueType::of(DType::F32, {1, C, H, W}));
    Attributes p1;
    p1.set("pads", Attribute::of_ints({1, 1, 1, 1}));
    Value* t0 = g.add_value("t0", ValueType::of(DType::F32, {1, T, H, W}));
    g.add_node(OpKind::Conv, {x, g.add_constant("w0", random_tensor({T, C, 3, 3}, 40, -0.2f, 0.2f))},
               {t0}, p1, "conv0", 17);
    Value* r0 = g.add_value("r0", ValueType::of(DType::F32, {1, T, H, W}));
    g.add_node(OpKind::Relu, {t0}, {r0}, {}, "relu0", 17);
    const auto activation = [&](Value* in, const std::string& n, Dims dims) {
      Value* out = g.add_value(n, ValueType::of(DType::F32, std::move(dims)));
      if (std::string(act) == "Clip") {
        g.add_node(OpKind::Clip, {in, g.add_constant(n + "_lo", Tensor::scalar(0.0f)),
                                  g.add_constant(n + "_hi", Tensor::scalar(6.0f))},
                   {out}, {}, n, 17);
      } else {
        g.add_node(OpKind::Relu, {in}, {out}, {}, n, 17);
      }
      return out;
    };
    Value* e = g.add_value("e", ValueType::of(DType::F32, {1, E, H, W}));
    g.add_node(OpKind::Conv,
               {r0, g.add_constant("we", random_tensor({E, T, 1, 1}, 41, -0.1f, 0.1f)),
                g.add_constant("be", random_tensor({E}, 42))},
               {e}, {}, "expand", 17);
    Value* mid = activation(e, "mid", {1, E, H, W});
    Attributes pd;
    pd.set("pads", Attribute::of_ints({1, 1, 1, 1}));
    pd.set("strides", Attribute::of_ints({stride, stride}));
    pd.set("group", Attribute::of_int(E));
    Value* d = g.add_value("d", ValueType::of(DType::F32, {1, E, OH, OH}));
    g.add_node(OpKind::Conv,
               {mid, g.add_constant("wd", random_tensor({E, 1, 3, 3}, 43, -0.5f, 0.5f)),
                g.add_constant("bd", random_tensor({E}, 44))},
               {d}, pd, "depthwise", 17);
    Value* dr = activation(d, "dr", {1, E, OH, OH});
    Value* y = g.add_value("y", ValueType::of(DType::F32, {1, C, OH, OH}));
    g.add_node(OpKind::Conv, {dr, g.add_constant("wp", random_tensor({C, E, 1, 1}, 46, -0.2f, 0.2f))},
               {y}, {}, "project", 17);
    g.inputs = {x};
    g.outputs = {y};
    if (mid_is_output) g.outputs.push_back(mid);
  };
  c.inputs = {{"x", random_tensor({1, C, H, W}, 45)}};
  const CompiledModel m = check_against_reference(c);  // at 2 threads
  int expand = 0, depthwise = 0;
  for (const auto& l : m.meta.launches) {
    expand += l.node_name == "expand";
    depthwise += l.node_name == "depthwise";
    // The groups are one launch section, a chain per group: expansion slice, then its
    // depthwise slice.
    if (l.node_name == "expand" || l.node_name == "depthwise") {
      EXPECT_EQ(l.section, mid_is_output ? 0u : 1u) << l.node_name;
      EXPECT_EQ(l.chain, mid_is_output ? 0u : static_cast<uint32_t>(expand - 1)) << l.node_name;
    } else {
      EXPECT_EQ(l.section, 0u) << l.node_name;
    }
  }
  // 80 channels: 3 groups of at most 32 rounded up to an even count, 4 x 20.
  EXPECT_EQ(expand, mid_is_output ? 1 : 4);
  EXPECT_EQ(depthwise, mid_is_output ? 1 : 4);
  // Chains on two threads give the bits of one thread.
  const auto one = run_compiled(m, c.inputs, 1), two = run_compiled(m, c.inputs, 2);
  const Tensor &a = one.at("y"), &b = two.at("y");
  ASSERT_EQ(a.numel(), b.numel());
  EXPECT_EQ(std::memcmp(a.data<float>(), b.data<float>(), a.numel() * sizeof(float)), 0);
}

TEST(CpuCodegen, ExpansionAndDepthwiseRunInChannelGroups) {
  check_expansion_depthwise(1, "Clip", false);
  check_expansion_depthwise(2, "Relu", false);
  check_expansion_depthwise(1, "Clip", true);
}

// A residual conv whose residual is an intermediate read last by it writes its sum in place:
// its Y argument is the residual's bytes (kiln_conv2d_residual adds each residual element just
// before overwriting it, or copies the residual first), and the results match the reference.
// Here t feeds conv1 and is the residual of conv2; conv2's output takes t's buffer.
TEST(CpuCodegen, ResidualConvWritesInPlace) {
  for (int64_t H : {20, 7}) {  // the pointwise-rows and the outvec paths
    SCOPED_TRACE("H " + std::to_string(H));
    const int64_t C = 32, W = H + 3;
    Case c;
    c.build = [=](Graph& g) {
      Value* x = g.add_value("x", ValueType::of(DType::F32, {1, C, H, W}));
      const auto conv = [&](Value* in, int k, const std::string& n) {
        Attributes a;
        a.set("pads", Attribute::of_ints({k / 2, k / 2, k / 2, k / 2}));
        Value* y = g.add_value(n, ValueType::of(DType::F32, {1, C, H, W}));
        const auto seed = static_cast<uint32_t>(50 + n.size() + k);
        g.add_node(OpKind::Conv,
                   {in, g.add_constant(n + "_w", random_tensor({C, C, k, k}, seed, -0.2f, 0.2f)),
                    g.add_constant(n + "_b", random_tensor({C}, seed + 1))},
                   {y}, a, n, 17);
        return y;
      };
      Value* t = conv(x, 3, "conv0");
      Value* a = conv(t, 3, "conv1");
      Value* b = conv(a, 1, "conv2x");
      Value* s = g.add_value("s", ValueType::of(DType::F32, {1, C, H, W}));
      g.add_node(OpKind::Add, {b, t}, {s}, {}, "add", 17);
      Value* r = g.add_value("r", ValueType::of(DType::F32, {1, C, H, W}));
      g.add_node(OpKind::Relu, {s}, {r}, {}, "relu", 17);
      g.inputs = {x};
      g.outputs = {conv(r, 1, "conv3")};
    };
    c.inputs = {{"x", random_tensor({1, C, H, W}, 51)}};
    const CompiledModel m = check_against_reference(c);
    bool in_place = false;
    for (const auto& l : m.meta.launches) {
      if (l.params.size() != 18 || !(l.params[16] & 2)) continue;  // the residual conv
      const auto& y = l.args.at(3);
      const auto& z = l.args.at(static_cast<size_t>(l.params[17]));
      in_place = y.kind == artifact::BufferKind::Arena && y.kind == z.kind && y.offset == z.offset;
    }
    EXPECT_TRUE(in_place);
  }
}

TEST(CpuCodegen, GemmAndMatMulUsePackedWeights) {
  Case c;
  c.build = [](Graph& g) {
    Value* a = g.add_value("a", ValueType::of(DType::F32, {2, 5, 37}));
    Value* w = g.add_constant("w", random_tensor({37, 45}, 21));
    Value* h = g.add_value("h", ValueType::of(DType::F32, {2, 5, 45}));
    g.add_node(OpKind::MatMul, {a, w}, {h}, {}, "matmul", 17);
    Value* flat = g.add_value("flat", ValueType::of(DType::F32, {10, 45}));
    Value* shape = g.add_constant("shape", Tensor::from_vector<int64_t>({10, 45}, {2}));
    g.add_node(OpKind::Reshape, {h, shape}, {flat}, {}, "reshape", 17);
    Value* w2 = g.add_constant("w2", random_tensor({7, 45}, 22));
    Value* bias = g.add_constant("bias", random_tensor({7}, 23));
    Value* y = g.add_value("y", ValueType::of(DType::F32, {10, 7}));
    Attributes ga;
    ga.set("transB", Attribute::of_int(1));
    ga.set("alpha", Attribute::of_float(0.5f));
    ga.set("beta", Attribute::of_float(2.0f));
    g.add_node(OpKind::Gemm, {flat, w2, bias}, {y}, ga, "gemm", 17);
    g.inputs = {a};
    g.outputs = {y};
  };
  c.inputs = {{"a", random_tensor({2, 5, 37}, 20)}};
  const CompiledModel m = check_against_reference(c);
  EXPECT_EQ(m.meta.launches.size(), 2u);  // the Reshape is a view: no launch
}

TEST(CpuCodegen, BatchedMatMulOfComputedOperands) {
  Case c;
  c.build = [](Graph& g) {
    Value* q = g.add_value("q", ValueType::of(DType::F32, {2, 3, 16, 8}));
    Value* k = g.add_value("k", ValueType::of(DType::F32, {2, 3, 8, 16}));
    Value* s = g.add_value("s", ValueType::of(DType::F32, {2, 3, 16, 16}));
    g.add_node(OpKind::MatMul, {q, k}, {s}, {}, "qk", 17);
    Value* v = g.add_value("v", ValueType::of(DType::F32, {16, 4}));
    Value* y = g.add_value("y", ValueType::of(DType::F32, {2, 3, 16, 4}));
    g.add_node(OpKind::MatMul, {s, v}, {y}, {}, "sv", 17);  // B broadcast over the batch
    g.inputs = {q, k, v};
    g.outputs = {y};
  };
  c.inputs = {{"q", random_tensor({2, 3, 16, 8}, 1)},
              {"k", random_tensor({2, 3, 8, 16}, 2)},
              {"v", random_tensor({16, 4}, 3)}};
  const CompiledModel m = check_against_reference(c);
  EXPECT_EQ(m.meta.launches.size(), 2u);
}

TEST(CpuCodegen, OtherOpsRunThroughTheRuntimeKernels) {
  Case c;
  c.build = [](Graph& g) {
    Value* x = g.add_value("x", ValueType::of(DType::F32, {4, 6}));
    Value* s = g.add_value("s", ValueType::of(DType::F32, {4, 6}));
    Attributes a;
    a.set("axis", Attribute::of_int(1));
    g.add_node(OpKind::Softmax, {x}, {s}, a, "softmax", 17);
    Value* idx = g.add_constant("idx", Tensor::from_vector<int64_t>({3, 0}, {2}));
    Value* y = g.add_value("y", ValueType::of(DType::F32, {2, 6}));
    g.add_node(OpKind::Gather, {s, idx}, {y}, {}, "gather", 17);
    g.inputs = {x};
    g.outputs = {y, x};  // an input passed straight through as an output is copied
  };
  c.inputs = {{"x", random_tensor({4, 6}, 4)}};
  const CompiledModel m = check_against_reference(c);
  EXPECT_EQ(count_launches(m, "Softmax"), 1);
  EXPECT_EQ(count_launches(m, "Identity"), 1);
}

TEST(CpuCodegen, RuntimeKernelErrorsNameTheNode) {
  Graph g;
  Value* x = g.add_value("x", ValueType::of(DType::F32, {4}));
  Value* i = g.add_value("i", ValueType::of(DType::I64, {2}));
  Value* y = g.add_value("y", ValueType::of(DType::F32, {2}));
  g.add_node(OpKind::Gather, {x, i}, {y}, {}, "pick", 17);
  g.inputs = {x, i};
  g.outputs = {y};
  const CompiledModel m = compile_for_cpu(g, {});
  const std::map<std::string, Tensor> in = {{"x", random_tensor({4}, 1)},
                                            {"i", Tensor::from_vector<int64_t>({1, 9}, {2})}};
  try {
    run_compiled(m, in);
    FAIL() << "expected an error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("Gather 'pick' failed"), std::string::npos) << e.what();
  }
}

TEST(CpuCodegen, SymbolicInputsMustBeBound) {
  Graph g;
  Value* x = g.add_value("x", ValueType{DType::F32, Shape{true, {Dim::sym("batch"), Dim::of(3)}}, {}});
  Value* y = g.add_value("y", ValueType{DType::F32, Shape{true, {Dim::sym("batch"), Dim::of(3)}}, {}});
  g.add_node(OpKind::Relu, {x}, {y}, {}, "relu", 17);
  g.inputs = {x};
  g.outputs = {y};
  try {
    compile_for_cpu(g, {});
    FAIL() << "expected an error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("--input-shape x="), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("batch"), std::string::npos) << e.what();
  }
  CpuCompileOptions o;
  o.input_shapes["x"] = {5, 3};
  const CompiledModel m = compile_for_cpu(g, o);
  EXPECT_EQ(m.meta.inputs.at(0).dims, (Dims{5, 3}));
  EXPECT_THROW(bind_input_shapes(g, {{"x", {5, 4}}}), Error);
  EXPECT_THROW(bind_input_shapes(g, {{"nope", {5, 3}}}), Error);
}

TEST(CpuCodegen, UnknownCpuNameIsRefused) {
  Graph g;
  Value* x = g.add_value("x", ValueType::of(DType::F32, {3}));
  Value* y = g.add_value("y", ValueType::of(DType::F32, {3}));
  g.add_node(OpKind::Relu, {x}, {y}, {}, "relu", 17);
  g.inputs = {x};
  g.outputs = {y};
  CpuCompileOptions o;
  o.cpu = "pentium-9000";
  try {
    compile_for_cpu(g, o);
    FAIL() << "expected an error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("unknown CPU 'pentium-9000'"), std::string::npos);
  }
  o.cpu = "x86-64-v3";  // cross-compiling to AVX2 works on this (AVX-512 or AVX2) machine
  const CompiledModel m = compile_for_cpu(g, o);
  EXPECT_EQ(m.meta.cpu_name, "x86-64-v3");
}

}  // namespace
}  // namespace kiln::cpu_codegen
