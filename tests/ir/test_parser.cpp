// The IR text parser: round trips through print_graph, hand-written text, and error positions.
#include <gtest/gtest.h>

#include <charconv>
#include <cstring>

#include "ir/graph.h"
#include "ir/parser.h"
#include "ir/printer.h"

namespace kiln {
namespace {

ValueType sym_type(DType t, std::vector<Dim> dims) {
  ValueType v;
  v.dtype = t;
  v.shape.rank_known = true;
  v.shape.dims = std::move(dims);
  return v;
}

// One graph exercising every piece of syntax the printer writes.
std::unique_ptr<Graph> everything_graph() {
  auto g = std::make_unique<Graph>();
  g->name = "every thing";  // quoted: has a space
  g->opset = 13;
  Value* x = g->add_value("x", sym_type(DType::F32, {Dim::of(1), Dim::sym("batch"), Dim::unknown()}));
  Value* u = g->add_value("input.1:0", ValueType{DType::F16, Shape::unknown_rank(), {}});
  g->inputs = {x, u};
  Value* w = g->add_constant("w", Tensor::from_vector<float>({1.5f, -0.1f, 3e-20f, 1e30f, 0.f, 7.f},
                                                            {2, 3}));
  Value* k = g->add_constant("k", Tensor::from_vector<int64_t>({-9000000000LL}, {}));
  g->add_constant("flags", Tensor::from_vector<bool>({true, false}, {2}));
  g->add_constant("h", Tensor::from_vector<half>({half(0.333f)}, {1}));
  g->add_constant("d", Tensor::from_vector<double>({0.1, 1e-300}, {2}));
  Value* big = g->add_constant("big", Tensor(DType::I8, {4, 5}));
  fill_placeholder(*big->constant);
  g->add_constant("u64", Tensor::from_vector<uint64_t>({18446744073709551615ULL}, {1}));

  Value* c = g->add_value("c", sym_type(DType::F32, {Dim::of(1), Dim::sym("batch"), Dim::unknown()}));
  Attributes clip;
  clip.set("f", Attribute::of_float(0.1f));
  clip.set("g", Attribute::of_float(100.0f));
  clip.set("i", Attribute::of_int(-3));
  clip.set("ints", Attribute::of_ints({1, -2, 3}));
  clip.set("floats", Attribute::of_floats({0.5f, 1.0f / 3.0f, -2.0f}));
  clip.set("s", Attribute::of_string("a \"quoted\"\\ line\n\ttab\x01"));
  clip.set("strs", Attribute::of_strings({"one", "", "t,w=o"}));
  clip.set("t", Attribute::of_tensor(Tensor::from_vector<int32_t>({1, 2, 3}, {3})));
  clip.set("t0", Attribute::of_tensor(Tensor::from_vector<float>({2.5f}, {})));
  clip.set("empty", Attribute::of_ints({}));
  g->add_node(OpKind::Clip, {x, nullptr, w}, {c}, std::move(clip), "clip #1");
  Value* v0 = g->add_value("v0", ValueType::of(DType::F16, {3}));
  Value* v2 = g->add_value("v2", ValueType::of(DType::F16, {3}));
  Attributes split;
  split.set("axis", Attribute::of_int(0));
  g->add_node(OpKind::Split, {u}, {v0, nullptr, v2}, std::move(split));
  Value* y = g->add_value("weird name", ValueType{});
  g->add_node(OpKind::Add, {c, k}, {y}, {}, "add");
  g->outputs = {y, v0, v2, w};
  return g;
}

TEST(Parser, RoundTripsEverySyntax) {
  auto g = everything_graph();
  const std::string text = graph_to_text(*g);
  auto p = parse_graph(text);
  EXPECT_EQ(graph_to_text(*p), text);
  EXPECT_NE(text.find("const %w: f32[2,3] = [1.5, -0.1, 3e-20, 1e+30, 0.0, 7.0]"), std::string::npos)
      << text;
  // And a second time, from the parsed graph.
  EXPECT_EQ(graph_to_text(*parse_graph(graph_to_text(*p))), text);

  EXPECT_EQ(p->name, "every thing");
  EXPECT_EQ(p->opset, 13);
  ASSERT_EQ(p->nodes().size(), 3u);
  const Node& clip = *p->nodes()[0];
  EXPECT_EQ(clip.name, "clip #1");
  EXPECT_EQ(clip.input(1), nullptr);
  EXPECT_EQ(clip.attrs.get_float("f", 0), 0.1f);
  EXPECT_EQ(clip.attrs.find("g")->kind, Attribute::Kind::Float);
  EXPECT_EQ(clip.attrs.get_floats("floats")[1], 1.0f / 3.0f);
  EXPECT_EQ(clip.attrs.get_string("s", ""), "a \"quoted\"\\ line\n\ttab\x01");
  EXPECT_EQ(clip.attrs.get_strings("strs"), (std::vector<std::string>{"one", "", "t,w=o"}));
  EXPECT_TRUE(clip.attrs.get_tensor("t").bytes_equal(Tensor::from_vector<int32_t>({1, 2, 3}, {3})));
  EXPECT_EQ(p->nodes()[1]->output(1), nullptr);
  EXPECT_EQ(p->nodes()[1]->outputs().size(), 3u);
  EXPECT_EQ(p->find_value("x")->type, g->find_value("x")->type);
  for (const char* n : {"w", "k", "flags", "h", "d", "big", "u64"}) {
    EXPECT_TRUE(p->find_value(n)->constant->bytes_equal(*g->find_value(n)->constant)) << n;
  }
}

TEST(Parser, LargeConstantsGetThePlaceholderPattern) {
  auto p = parse_graph("graph g (opset 17) {\n  const %w: f32[17]\n  output %w\n}\n");
  const Tensor& t = *p->find_value("w")->constant;
  EXPECT_EQ(t.data<float>()[0], -0.75f);
  EXPECT_EQ(t.data<float>()[13], -0.75f);
  EXPECT_EQ(t.data<float>()[6], 0.0f);
  // Larger than kMaxPrintedElements: printed as a type only, so text round trips.
  const std::string text = graph_to_text(*p);
  EXPECT_EQ(text.find("= ["), std::string::npos) << text;
  EXPECT_EQ(graph_to_text(*parse_graph(text)), text);
}

TEST(Parser, HandWrittenTextInAnyOrder) {
  auto p = parse_graph(R"(
    // comments and free layout are fine; nodes may come before their inputs' producers
    graph "hand" (opset 17) {
      input %x: f32[2, 3]
      %z = Relu(%y)   # relu
      %y = Add(%x, %b) : f32[2,3]
      const %b: f32[3] = [1, 2, 3.5]
      output %z
    }
  )",
                        /*infer=*/true);
  ASSERT_EQ(p->nodes().size(), 2u);
  EXPECT_EQ(p->nodes()[0]->op, OpKind::Add);  // topologically sorted
  EXPECT_EQ(p->nodes()[1]->name, "relu");
  EXPECT_EQ(p->find_value("z")->type.to_string(), "f32[2,3]");  // inferred
  EXPECT_EQ(p->find_value("b")->constant->data<float>()[2], 3.5f);
}

TEST(Parser, KeepsDeclaredTypesWithoutInference) {
  auto p = parse_graph("graph g (opset 17) {\n input %x: f32[n]\n %y = Relu(%x) : f32[?]\n"
                       " %z = Relu(%y)\n output %z\n}");
  EXPECT_EQ(p->find_value("y")->type.to_string(), "f32[?]");
  EXPECT_EQ(p->find_value("z")->type.to_string(), "undefined[*]");
}

TEST(Parser, SkipsQuantSuffixAndParsesEveryDtype) {
  for (const char* dt : {"f16", "bf16", "f32", "f64", "i8", "u8", "i16", "u16", "i32", "u32",
                         "i64", "u64", "bool", "string"}) {
    const std::string text = std::string("graph g (opset 17) {\n input %x: ") + dt +
                             "[*]{q:axis=1,3 scales}\n output %x\n}\n";
    auto p = parse_graph(text);
    EXPECT_EQ(dtype_name(p->inputs[0]->type.dtype), dt);
    EXPECT_FALSE(p->inputs[0]->type.quant.has_value());
  }
}

// The message of the error parse_graph raises on `text`.
std::string error_of(const std::string& text) {
  try {
    parse_graph(text);
  } catch (const Error& e) {
    return e.what();
  }
  return "no error";
}

TEST(Parser, ErrorsNameLineAndColumn) {
  const std::string head = "graph g (opset 17) {\n  input %x: f32[2]\n";
  EXPECT_EQ(error_of(head + "  %y = Frob(%x) : f32[2]\n  output %y\n}\n"),
            "line 3, column 8: expected an op name, found unknown op 'Frob'");
  EXPECT_EQ(error_of(head + "  input %q: f31[2]\n}\n"),
            "line 3, column 13: expected a dtype (f16, bf16, f32, f64, i8..i64, u8..u64, bool), "
            "found 'f31'");
  EXPECT_EQ(error_of(head + "  %y = Add(%x, %nope) : f32[2]\n  output %y\n}\n"),
            "line 3, column 16: expected a defined value, found undefined '%nope'");
  EXPECT_EQ(error_of(head + "  %x = Relu(%x) : f32[2]\n}\n"),
            "line 3, column 3: expected a new value name, found '%x' already defined at line 2");
  EXPECT_EQ(error_of(head + "  output %x\n"),
            "line 4, column 1: expected '}' closing the graph, found end of input");
  EXPECT_EQ(error_of(head + "  const %c: f32[2] = [1, 2.5.1]\n}\n"),
            "line 3, column 26: expected a f32 value, found '2.5.1'");
  EXPECT_EQ(error_of(head + "  %y = Relu(%x) {alpha=1x} : f32[2]\n}\n"),
            "line 3, column 24: expected an integer, found '1x'");
  EXPECT_EQ(error_of(head + "  const %c: i8[1] = [300]\n}\n"),
            "line 3, column 22: expected a i8 value, found '300'");
  EXPECT_EQ(error_of(head + "  const %c: f32[3] = [1, 2]\n}\n"),
            "line 3, column 22: expected 3 values for f32[3], found 2 values");
  EXPECT_EQ(error_of("graph g (opset 17) {\n  input %x: f32[2\n}\n"),
            "line 3, column 1: expected ']', found '}'");
  EXPECT_EQ(error_of("graf g (opset 17) {}"), "line 1, column 1: expected 'graph', found 'graf'");
  EXPECT_EQ(error_of(head + "}\n}\n"),
            "line 4, column 1: expected end of input after the graph, found '}'");
}

TEST(Printer, FloatsRoundTripExactly) {
  for (float f : {0.1f, 1.0f / 3.0f, 1e-45f, 3.4028235e38f, -0.0f, 100.0f, 1e10f}) {
    const std::string s = float_to_text(f);
    EXPECT_NE(s.find_first_of(".ein"), std::string::npos) << s;
    float back = 0;
    std::from_chars(s.data(), s.data() + s.size(), back);  // stof rejects subnormals
    EXPECT_EQ(std::memcmp(&back, &f, sizeof f), 0) << s;
  }
  EXPECT_EQ(float_to_text(0.1f), "0.1");
  EXPECT_EQ(float_to_text(2.0f), "2.0");
}

TEST(Printer, QuotesUnsafeNames) {
  EXPECT_EQ(name_to_text("conv1/w:0"), "conv1/w:0");
  EXPECT_EQ(name_to_text("a b"), "\"a b\"");
  EXPECT_EQ(name_to_text("x:"), "\"x:\"");
  EXPECT_EQ(quote_string("q\"\\\n"), "\"q\\\"\\\\\\n\"");
}

}  // namespace
}  // namespace kiln
