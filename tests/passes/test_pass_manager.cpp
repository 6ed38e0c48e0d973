#include <sstream>

#include "tests/passes/pass_test_util.h"

namespace kiln {
namespace {

using test::f32;
using test::op_sequence;

std::string error_of(const std::function<void()>& fn) {
  try {
    fn();
  } catch (const Error& e) {
    return e.what();
  }
  return "";
}

TEST(PassRegistry, CreatesEveryRegisteredPassUnderItsName) {
  // passes.def grows with every pass; the first ones keep their order.
  ASSERT_GE(registered_passes().size(), 12u);
  EXPECT_EQ(registered_passes()[0].name, "dce");
  for (const PassInfo& info : registered_passes()) {
    EXPECT_FALSE(info.description.empty()) << info.name;
    EXPECT_EQ(create_pass(info.name)->name(), info.name);
  }
}

TEST(PassRegistry, UnknownNameListsKnownPasses) {
  const std::string e = error_of([] { create_pass("fold-everything"); });
  EXPECT_EQ(e.rfind("unknown pass 'fold-everything'; known passes: dce, remove-identity, "
                    "constant-fold, cse, fold-shape-ops, cancel-transposes, fold-batchnorm, "
                    "fuse-gelu, fuse-layernorm, fuse-attention, fuse-conv-epilogue, "
                    "fuse-matmul-epilogue",
                    0),
            0u)
      << e;
  for (const PassInfo& info : registered_passes())
    EXPECT_NE(e.find(std::string(info.name)), std::string::npos) << info.name;
}

TEST(PassPipeline, LevelsAreDataOverRegisteredPasses) {
  EXPECT_TRUE(pipeline_for_opt_level(0).empty());
  size_t previous = 0;
  for (int level = 1; level <= 3; ++level) {
    const auto pipeline = pipeline_for_opt_level(level);
    EXPECT_GT(pipeline.size(), previous) << level;
    previous = pipeline.size();
    EXPECT_EQ(pipeline.back().pass, "dce");
    for (const PipelineEntry& e : pipeline) {
      EXPECT_NO_THROW(create_pass(e.pass));
      EXPECT_FALSE(e.reason.empty()) << e.pass;
    }
  }
  EXPECT_THROW(pipeline_for_opt_level(4), Error);
}

// x -> Identity -> Add(const + const) -> Mul twice (duplicates) -> dead Exp.
void build_messy_graph(Graph& g) {
  Value* x = g.add_value("x", ValueType::of(DType::F32, {2}));
  Value* one = g.add_constant("one", f32({2}, {1, 1}));
  Value* two = g.add_constant("two", f32({2}, {2, 2}));
  Value* xi = g.add_value("xi", ValueType::of(DType::F32, {2}));
  Value* three = g.add_value("three", ValueType::of(DType::F32, {2}));
  Value* m1 = g.add_value("m1", ValueType::of(DType::F32, {2}));
  Value* m2 = g.add_value("m2", ValueType::of(DType::F32, {2}));
  Value* dead = g.add_value("dead", ValueType::of(DType::F32, {2}));
  Value* y = g.add_value("y", ValueType::of(DType::F32, {2}));
  g.add_node(OpKind::Identity, {x}, {xi}, {}, "id");
  g.add_node(OpKind::Add, {one, two}, {three}, {}, "three");
  g.add_node(OpKind::Mul, {xi, three}, {m1}, {}, "m1");
  g.add_node(OpKind::Mul, {xi, three}, {m2}, {}, "m2");
  g.add_node(OpKind::Exp, {m1}, {dead}, {}, "dead");
  g.add_node(OpKind::Add, {m1, m2}, {y}, {}, "y");
  g.inputs = {x};
  g.outputs = {y};
}

TEST(PassManager, O2PipelineCleansUpAndReportsAndDumps) {
  Graph g;
  build_messy_graph(g);
  const std::map<std::string, Tensor> in = {{"x", f32({2}, {0.5f, -3})}};
  const auto before = Interpreter(g).run(in);
  std::ostringstream dumps;
  PassContext ctx;
  ctx.opt_level = 2;
  ctx.verify_after_each = true;
  ctx.print_after = {"cse"};
  ctx.dump = &dumps;
  PassManager pm(ctx);
  pm.add_pipeline(pipeline_for_opt_level(2));
  EXPECT_TRUE(pm.run(g));
  EXPECT_EQ(op_sequence(g), (std::vector<std::string>{"Mul", "Add"}));
  EXPECT_TRUE(Interpreter(g).run(in).at("y").bytes_equal(before.at("y")));
  EXPECT_NE(dumps.str().find("; *** IR after cse ***"), std::string::npos);
  EXPECT_EQ(dumps.str().find("IR after dce"), std::string::npos);
  std::vector<std::string> passes_that_changed;
  for (const PassReport& r : ctx.report) passes_that_changed.push_back(r.pass);
  EXPECT_EQ(passes_that_changed,
            (std::vector<std::string>{"remove-identity", "constant-fold", "cse", "dce"}));
}

// Deliberately wrong: feeds the first node the [3] value 'wide' where its output is typed [2].
class BreaksTypesPass : public Pass {
 public:
  std::string_view name() const override { return "breaks-types"; }
  bool run(Graph& g, PassContext&) override {
    g.set_input(g.nodes()[0].get(), 0, g.find_value("wide"));
    return true;
  }
};

TEST(PassManager, VerifyAfterEachNamesTheBrokenPass) {
  Graph g;
  Value* x = g.add_value("x", ValueType::of(DType::F32, {2}));
  Value* wide = g.add_constant("wide", f32({3}, {1, 2, 3}));
  Value* y = g.add_value("y", ValueType::of(DType::F32, {2}));
  Value* w = g.add_value("w", ValueType::of(DType::F32, {3}));
  g.add_node(OpKind::Relu, {x}, {y}, {}, "relu");
  g.add_node(OpKind::Neg, {wide}, {w}, {}, "neg");
  g.inputs = {x};
  g.outputs = {y, w};
  PassContext ctx;
  ctx.verify_after_each = true;
  PassManager pm(ctx);
  pm.add("cse");
  pm.add(std::make_unique<BreaksTypesPass>());
  const std::string msg = error_of([&] { pm.run(g); });
  EXPECT_EQ(msg.rfind("after pass 'breaks-types': Relu 'relu': output 'y'", 0), 0u) << msg;

}

}  // namespace
}  // namespace kiln
