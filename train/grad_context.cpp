#include "train/grad_context.h"

#include <algorithm>

#include "ir/infer.h"

namespace kiln::train {

void infer_node_types(Node& n) {
  InferContext ctx = make_infer_context(n);
  infer_node(ctx);
  for (size_t i = 0; i < n.outputs().size(); ++i) {
    if (Value* out = n.output(i)) out->type = std::move(ctx.outputs[i]);
  }
}

Attributes make_attrs(std::initializer_list<std::pair<std::string, Attribute>> items) {
  Attributes a;
  for (const auto& [k, v] : items) a.set(k, v);
  return a;
}

GradContext::GradContext(Graph& g, const Node& node, std::vector<Value*> dy,
                         std::vector<bool> needs)
    : g_(g), node_(node), dy_(std::move(dy)), needs_(std::move(needs)) {
  dx_.resize(node_.inputs().size(), nullptr);
  const std::string base = node_.name.empty() ? std::string(op_name(node_.op)) : node_.name;
  prefix_ = "grad/" + base + "/";
}

std::string GradContext::where() const { return "gradient of " + node_.label() + ": "; }

int64_t GradContext::attr_int(const std::string& name, int64_t def) const {
  return node_.attrs.get_int(name, def);
}

void GradContext::set_dx(size_t i, Value* v) {
  if (!needs(i)) return;
  KILN_CHECK(v, where(), "rule produced no gradient for input ", i);
  dx_[i] = v;
}

std::vector<Value*> GradContext::op_n(OpKind k, std::vector<Value*> ins, size_t n_out,
                                      Attributes attrs) {
  std::vector<Value*> outs;
  for (size_t i = 0; i < n_out; ++i) {
    outs.push_back(g_.add_value(g_.unique_name(prefix_ + std::string(op_name(k)))));
  }
  // Backward nodes use opset >= 13 forms (axes as inputs) whatever the forward opset.
  Node* n = g_.add_node(k, std::move(ins), outs, std::move(attrs), outs[0]->name(),
                        std::max(g_.opset, 13));
  try {
    infer_node_types(*n);
  } catch (const Error& e) {
    fail("emitted ", n->label(), " is ill-typed: ", e.what());
  }
  return outs;
}

Value* GradContext::op(OpKind k, std::vector<Value*> ins, Attributes attrs) {
  return op_n(k, std::move(ins), 1, std::move(attrs))[0];
}

Value* GradContext::scalar(double v, DType dtype) {
  Tensor t(dtype, {});
  dispatch_dtype(dtype, "gradient constant", [&]<typename T>() {
    if constexpr (std::is_same_v<T, bool>) {
      t.data<T>()[0] = v != 0;
    } else if constexpr (std::is_same_v<T, double>) {
      t.data<T>()[0] = v;
    } else {
      t.data<T>()[0] = static_cast<T>(static_cast<float>(v));
    }
  });
  return g_.add_constant(g_.unique_name(prefix_ + "const"), t);
}

Value* GradContext::ints(const std::vector<int64_t>& v) {
  return g_.add_constant(g_.unique_name(prefix_ + "ints"),
                         Tensor::from_vector<int64_t>(v, {static_cast<int64_t>(v.size())}));
}

Value* GradContext::shape_of(Value* v) { return op(OpKind::Shape, {v}); }

Value* GradContext::reshape_like(Value* v, Value* like) {
  const Shape& s = shape(like);
  if (s.is_static()) return op(OpKind::Reshape, {v, ints(s.static_dims())});
  return op(OpKind::Reshape, {v, shape_of(like)});
}

Value* GradContext::zeros_like(Value* like) {
  const DType dt = like->type.dtype;
  Attributes a;
  a.set("value", Attribute::of_tensor(Tensor(dt, {1})));
  const Shape& s = shape(like);
  Value* dims = s.is_static() ? ints(s.static_dims()) : shape_of(like);
  return op(OpKind::ConstantOfShape, {dims}, std::move(a));
}

Value* GradContext::dy_or_zeros(size_t i) {
  if (Value* g = dy(i)) return g;
  check(y(i) != nullptr, "output ", i, " is absent");
  return zeros_like(y(i));
}

const Shape& GradContext::shape(const Value* v) const {
  check(v->type.shape.rank_known, "value '", v->name(), "' has no known rank");
  return v->type.shape;
}

int64_t GradContext::rank(const Value* v) const { return static_cast<int64_t>(shape(v).rank()); }

Dims GradContext::static_dims(const Value* v) const {
  const Shape& s = shape(v);
  check(s.is_static(), "value '", v->name(), "' needs a static shape, has ", s.to_string());
  return s.static_dims();
}

Value* GradContext::sum_to(Value* g, Value* like) {
  const Shape& out = shape(g);
  const Shape& in = shape(like);
  if (out == in) return g;
  check(out.rank() >= in.rank(), "cannot reduce ", out.to_string(), " to ", in.to_string());
  const size_t lead = out.rank() - in.rank();
  std::vector<int64_t> axes;
  for (size_t i = 0; i < lead; ++i) axes.push_back(static_cast<int64_t>(i));
  for (size_t i = 0; i < in.rank(); ++i) {
    const Dim& di = in.dims[i];
    const Dim& dout = out.dims[i + lead];
    if (di == dout && (di.is_static() || !di.symbol.empty())) continue;
    if (di.is_static() && di.value == 1) {
      axes.push_back(static_cast<int64_t>(i + lead));
      continue;
    }
    // Broadcasting only stretches size-1 dims: a static non-1 dim is the output's own size,
    // and so is a named one (a symbol such as "batch" stands for the same size on every
    // operand; inference may have dropped the name from the output).
    if ((di.is_static() && di.value != 1) || !di.symbol.empty()) continue;
    fail("cannot tell how ", in.to_string(), " broadcasts to ", out.to_string(), " (axis ", i,
         ")");
  }
  Value* r = g;
  if (!axes.empty()) {
    r = op(OpKind::ReduceSum, {g, ints(axes)}, make_attrs({{"keepdims", Attribute::of_int(1)}}));
  }
  return lead > 0 ? reshape_like(r, like) : r;
}

}  // namespace kiln::train
